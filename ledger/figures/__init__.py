"""Reading the synced figures: P&L and balance sheet, NS 4102 layout, drill-down, overview, exports, charts."""

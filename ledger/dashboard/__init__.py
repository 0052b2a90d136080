"""The office dashboard: every firm the user can open on one page (result, budget, liquidity,
transactions, sync health, the last report pack), sortable, in a constant number of queries."""

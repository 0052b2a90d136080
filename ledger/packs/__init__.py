"""The report pack: a firm's month as a PDF (cover, key figures, P&L, balance sheet, holdings and
the accountant's comment per section), one firm at a time or a batch for an office."""

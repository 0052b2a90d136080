"""Ledger models: what is synced from Tripletex (balances.py) and what users record (transactions.py)."""

from ledger.models.balances import (
    AccountBalance,
    AccountingPeriod,
    Department,
    LedgerAccount,
    MonthSync,
    Project,
    SyncRun,
)

__all__ = [
    "AccountBalance",
    "AccountingPeriod",
    "Department",
    "LedgerAccount",
    "MonthSync",
    "Project",
    "SyncRun",
]

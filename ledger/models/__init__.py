"""Ledger models: what is synced from Tripletex (balances.py), what users record (transactions.py)
and what the report packs and the group view store (reporting.py)."""

from ledger.models.balances import (
    AccountBalance,
    AccountingPeriod,
    Department,
    LedgerAccount,
    MonthSync,
    Project,
    SyncRun,
    SyncSchedule,
)
from ledger.models.brokers import BrokerAccount, ImportedRow
from ledger.models.budgets import Budget, BudgetTotal, BudgetYear
from ledger.models.contract_notes import ContractNote
from ledger.models.inbox import ImportBatch, InboxRow
from ledger.models.instruments import Instrument
from ledger.models.lots import Lot, LotUse
from ledger.models.postings import FiscalYearSync, Posting, PostingMonth
from ledger.models.reporting import (
    CompanyGroup,
    EliminationPair,
    ReportBatch,
    ReportComment,
    ReportPack,
)
from ledger.models.transactions import (
    AWAITING_APPROVAL,
    BookingAttempt,
    GLAccountSettings,
    JournalLine,
    Reversal,
    Transaction,
)

__all__ = [
    "AWAITING_APPROVAL",
    "AccountBalance",
    "BookingAttempt",
    "BrokerAccount",
    "Budget",
    "BudgetTotal",
    "BudgetYear",
    "CompanyGroup",
    "EliminationPair",
    "ReportBatch",
    "ReportComment",
    "ReportPack",
    "ContractNote",
    "GLAccountSettings",
    "ImportBatch",
    "ImportedRow",
    "InboxRow",
    "Instrument",
    "JournalLine",
    "Lot",
    "LotUse",
    "Reversal",
    "Transaction",
    "AccountingPeriod",
    "Department",
    "FiscalYearSync",
    "LedgerAccount",
    "MonthSync",
    "Posting",
    "PostingMonth",
    "Project",
    "SyncRun",
    "SyncSchedule",
]

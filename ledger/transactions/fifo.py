"""First in, first out: what the transaction code uses of the holdings ledger.

The in-memory FIFO (lots, takes, exact to the øre, skatteloven § 10-36) is
ledger/holdings/engine.py; the stored ledger and the checks against it are
ledger/holdings/services.py. This module names what transactions, vouchers and booking import.
"""

from ledger.holdings.engine import (
    CENT,
    FifoError,
    Holdings,
    Lot,
    Movement,
    Take,
    movement_of,
)
from ledger.holdings.services import LotConflict, fifo_check, fifo_cost, fifo_verdict

__all__ = [
    "CENT",
    "FifoError",
    "Holdings",
    "Lot",
    "LotConflict",
    "Movement",
    "Take",
    "fifo_check",
    "fifo_cost",
    "fifo_verdict",
    "movement_of",
]

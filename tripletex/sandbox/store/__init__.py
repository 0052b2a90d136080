"""SQLite-backed data of the Tripletex sandbox, with in-memory indexes for fast reads.

The database file holds companies, tokens, sessions, accounts, periods, departments, projects,
vouchers and postings. Amounts are stored as integers in øre and leave the store as `Decimal`.
`Store` is built from three layers, each a module: `schema` (the tables, the connection, ids
and transactions), `seeding` (the demo data a new file is loaded with, and bench companies
on first use) and `queries` (what a running sandbox reads and writes, and the balance
semantics of `balance_sheet`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .queries import Queries, TokenInfo, oslo_today
from .schema import VAT_BY_ID, PostingInput, decimal_to_ore
from .seeding import bench_org_number

__all__ = [
    "VAT_BY_ID",
    "PostingInput",
    "Store",
    "TokenInfo",
    "bench_org_number",
    "decimal_to_ore",
    "oslo_today",
]


class Store(Queries):
    """Thread-safe access to one sandbox database file."""

    def __init__(self, path: str | Path, *, reset: bool = False, today: date | None = None) -> None:
        super().__init__(path)
        # `today` fixes the sandbox's clock from the start, so a new database is seeded up to it.
        self.today_override = today
        if reset:
            self._delete_files()
        self._open()

    def _open(self) -> None:
        self._connect()
        self._forget()
        if not self._is_seeded():
            self._seed(self.today())
        self._load_tokens()

    def reset(self) -> None:
        """Delete every row and seed the demo data again (the --reset of a running server)."""
        with self._lock:
            self.db.close()
            self._delete_files()
            self._open()

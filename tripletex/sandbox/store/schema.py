"""The sandbox database's tables, its connection and the rows written to them.

`Database` owns one SQLite file: it creates the tables (and adds columns an older file lacks),
hands out ids per table and runs transactions whose id allocations roll back with them.
Amounts are stored as integers in øre; `posting_rows` turns validated gross postings into
`postings` rows, net amount plus the system VAT row Tripletex adds itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import seed

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS companies (
    id INTEGER PRIMARY KEY, key TEXT UNIQUE, name TEXT, org_number TEXT, profile TEXT,
    start_date TEXT, fiscal_start_month INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS employees (
    id INTEGER PRIMARY KEY, company_id INTEGER, first_name TEXT, last_name TEXT, email TEXT);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, company_id INTEGER, employee_id INTEGER,
    advanced_voucher INTEGER, is_office INTEGER);
CREATE TABLE IF NOT EXISTS office_clients (token TEXT, company_id INTEGER);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, token TEXT UNIQUE, employee_token TEXT, expiration_date TEXT);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY, company_id INTEGER, number INTEGER, name TEXT, vat_code TEXT,
    currency_id INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS periods (
    id INTEGER PRIMARY KEY, company_id INTEGER, start TEXT, end TEXT, number INTEGER);
CREATE TABLE IF NOT EXISTS departments (
    id INTEGER PRIMARY KEY, company_id INTEGER, number TEXT, name TEXT);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, company_id INTEGER, number TEXT, name TEXT,
    department_id INTEGER, start_date TEXT);
CREATE TABLE IF NOT EXISTS vouchers (
    id INTEGER PRIMARY KEY, company_id INTEGER, date TEXT, number INTEGER,
    temp_number INTEGER, year INTEGER, description TEXT, external_number TEXT,
    voucher_type_id INTEGER, reverse_voucher_id INTEGER, is_posted INTEGER, version INTEGER);
CREATE TABLE IF NOT EXISTS postings (
    id INTEGER PRIMARY KEY, voucher_id INTEGER, company_id INTEGER, row INTEGER, date TEXT,
    date_ord INTEGER, account_id INTEGER, amount INTEGER, amount_gross INTEGER,
    vat_type_id INTEGER, department_id INTEGER, project_id INTEGER, description TEXT,
    system_generated INTEGER, is_posted INTEGER, currency_id INTEGER NOT NULL DEFAULT 1,
    amount_gross_currency INTEGER);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, company_id INTEGER, voucher_id INTEGER UNIQUE, file_name TEXT);
CREATE TABLE IF NOT EXISTS document_parts (
    id INTEGER PRIMARY KEY, document_id INTEGER, file_name TEXT, mime_type TEXT, size INTEGER,
    sha256 TEXT);
CREATE TABLE IF NOT EXISTS result_budgets (
    id INTEGER PRIMARY KEY, company_id INTEGER, account_id INTEGER, period_id INTEGER,
    amount INTEGER, department_id INTEGER, project_id INTEGER);
CREATE INDEX IF NOT EXISTS result_budgets_company ON result_budgets (company_id, period_id);
CREATE INDEX IF NOT EXISTS postings_company_date ON postings (company_id, date_ord);
CREATE INDEX IF NOT EXISTS postings_voucher ON postings (voucher_id);
CREATE INDEX IF NOT EXISTS vouchers_company_date ON vouchers (company_id, date);
CREATE INDEX IF NOT EXISTS vouchers_external ON vouchers (company_id, external_number);
CREATE INDEX IF NOT EXISTS accounts_company ON accounts (company_id);
"""
INSERT_VOUCHER = "INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_POSTING = "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_BUDGET = "INSERT INTO result_budgets VALUES (?, ?, ?, ?, ?, ?, ?)"

VAT_BY_ID = {v[0]: code for code, v in seed.VAT_TYPES.items()}


def decimal_to_ore(value: Decimal) -> int | None:
    """Integer øre from a Decimal, or None when it has more than two decimals."""
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


@dataclass
class PostingInput:
    """A validated posting of a new voucher (gross amounts in øre, or the currency's cents)."""

    row: int
    account_id: int
    gross: int
    vat_code: str | None
    department_id: int | None
    project_id: int | None
    description: str | None
    date: date
    # The posting's currency (the company's, NOK, unless sent) and its gross in that currency
    # (None: the same as `gross`, as for NOK).
    currency_id: int = seed.CURRENCY_NOK
    gross_currency: int | None = None


class Database:
    """One sandbox database file: the connection, its lock, id allocation and transactions."""

    db: sqlite3.Connection

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._next_ids: dict[str, int] = {}

    def _connect(self) -> None:
        """Open the file and create the tables it lacks."""
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(companies)")}
        if "fiscal_start_month" not in columns:  # a database written before the column existed
            self.db.execute(
                "ALTER TABLE companies ADD COLUMN fiscal_start_month INTEGER NOT NULL DEFAULT 1"
            )
        # Currencies came later too: an older file's accounts and postings are all in NOK.
        for table, column, kind in (
            ("accounts", "currency_id", "INTEGER NOT NULL DEFAULT 1"),
            ("postings", "currency_id", "INTEGER NOT NULL DEFAULT 1"),
            ("postings", "amount_gross_currency", "INTEGER"),
        ):
            present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._next_ids = {}

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self.db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT, rolled back (ids included) when the body raises."""
        saved = dict(self._next_ids)
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._next_ids = saved
            raise
        self.db.execute("COMMIT")

    def _next_id(self, table: str, start: int) -> int:
        if table not in self._next_ids:
            row = self.db.execute(f"SELECT MAX(id) FROM {table}").fetchone()
            self._next_ids[table] = max(row[0] or 0, start - 1) + 1
        value = self._next_ids[table]
        self._next_ids[table] = value + 1
        return value

    def _posting_rows(
        self,
        company_id: int,
        voucher_id: int,
        inputs: Iterable[PostingInput],
        posted: bool,
        account_ids: dict[int, int],
    ) -> list[tuple[Any, ...]]:
        """Rows for the postings table: gross lines split into net plus system VAT rows."""
        rows: list[tuple[Any, ...]] = []
        for p in inputs:
            net, vat = seed.vat_split(p.gross, p.vat_code)
            vat_id = seed.VAT_TYPES[p.vat_code][0] if p.vat_code else None
            vat_account_number = seed.vat_account(p.vat_code)
            day = p.date.isoformat()
            rows.append(
                (
                    self._next_id("postings", 500_001),
                    voucher_id,
                    company_id,
                    p.row,
                    day,
                    p.date.toordinal(),
                    p.account_id,
                    net,
                    p.gross,
                    vat_id,
                    p.department_id,
                    p.project_id,
                    p.description,
                    0,
                    int(posted),
                    p.currency_id,
                    p.gross if p.gross_currency is None else p.gross_currency,
                )
            )
            if vat and vat_account_number is not None:
                # Tripletex adds the VAT line itself as a system row (row 0).
                rows.append(
                    (
                        self._next_id("postings", 500_001),
                        voucher_id,
                        company_id,
                        0,
                        day,
                        p.date.toordinal(),
                        account_ids[vat_account_number],
                        vat,
                        vat,
                        None,
                        None,
                        None,
                        p.description,
                        1,
                        int(posted),
                        seed.CURRENCY_NOK,
                        vat,
                    )
                )
        return rows

"""SQLite-backed data of the Tripletex sandbox, with in-memory indexes for fast reads.

The database file holds companies, tokens, sessions, accounts, periods, departments, projects,
vouchers and postings. Amounts are stored as integers in øre and leave the store as `Decimal`.
The first open seeds the demo companies (`seed.py`); bench companies (`sandbox-bench-<n>`) are
generated on first use and then cached like the rest.

Balance semantics (what `balance_sheet` returns, mirroring Tripletex's saldobalanse):

* Only postings of vouchers sent to the ledger count; non-posted vouchers are invisible.
* `balanceChange` is the sum of postings dated in [dateFrom, dateTo) (dateTo exclusive).
* `balanceIn` is the balance before dateFrom. Balance accounts (1000–2999) count every earlier
  posting. Result accounts (3000–8999) count only postings since the start of the company's
  fiscal year that contains dateFrom (1 January, or the first day of the company's start month
  for a deviating fiscal year such as July–June), because the year-end closing voucher (8960
  against 2050) has moved the earlier results to equity.
* Without `includeActiveAccountsWithoutMovements` an account is listed when it has postings
  in the window or a non-zero balanceIn/balanceOut; with it, every account is listed.
* `balanceOut = balanceIn + balanceChange`. Summed over all accounts, every month's changes
  and every balanceOut are 0 (each voucher balances, and the closing voucher carries the
  result into 2050).

Reads are answered from per-company prefix sums (account × posting date, built lazily and
dropped on every write to that company), so a balance sheet costs a few bisects per account.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.no import orgnr

from . import demo, seed
from .entities import (
    CURRENCY_NOK,
    account_entity,
    ore_to_decimal,
    posting_entity,
    voucher_entity,
)
from .fields import Ref, Url

OSLO = ZoneInfo("Europe/Oslo")
MONTHS_NO = [
    "Januar",
    "Februar",
    "Mars",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Desember",
]
BENCH_RE = re.compile(r"^" + re.escape(demo.BENCH_TOKEN_PREFIX) + r"(\d{1,6})$")
_VERSIONS = itertools.count(1)

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
    id INTEGER PRIMARY KEY, company_id INTEGER, number INTEGER, name TEXT, vat_code TEXT);
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
    system_generated INTEGER, is_posted INTEGER);
CREATE INDEX IF NOT EXISTS postings_company_date ON postings (company_id, date_ord);
CREATE INDEX IF NOT EXISTS postings_voucher ON postings (voucher_id);
CREATE INDEX IF NOT EXISTS vouchers_company_date ON vouchers (company_id, date);
CREATE INDEX IF NOT EXISTS vouchers_external ON vouchers (company_id, external_number);
CREATE INDEX IF NOT EXISTS accounts_company ON accounts (company_id);
"""

VAT_BY_ID = {v[0]: code for code, v in seed.VAT_TYPES.items()}
VOUCHER_TYPE_NAMES = {v: k for k, v in seed.VOUCHER_TYPES.items()}


def oslo_today() -> date:
    """Today's date in Europe/Oslo (Tripletex's clock for session expiry and periods)."""
    return datetime.now(OSLO).date()


def decimal_to_ore(value: Decimal) -> int | None:
    """Integer øre from a Decimal, or None when it has more than two decimals."""
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def bench_org_number(n: int) -> str:
    """A valid, unique MOD11 organisation number for bench company n."""
    for k in range(10):
        base = str(90_000_000 + n * 10 + k)
        for check in range(10):
            if orgnr.is_valid(base + str(check)):
                return base + str(check)
    raise ValueError(n)  # pragma: no cover - one of ten bases always has a check digit


@dataclass(frozen=True)
class TokenInfo:
    """What an employee token may do."""

    token: str
    company_id: int
    employee_id: int
    advanced_voucher: bool
    is_office: bool
    client_ids: frozenset[int]


@dataclass
class PostingInput:
    """A validated posting of a new voucher (gross amount in øre)."""

    row: int
    account_id: int
    gross: int
    vat_code: str | None
    department_id: int | None
    project_id: int | None
    description: str | None
    date: date


@dataclass
class _CompanyCache:
    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    account_by_number: dict[int, dict[str, Any]] = field(default_factory=dict)
    periods: list[dict[str, Any]] = field(default_factory=list)
    departments: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    fiscal_start_month: int = 1
    # account id -> (sorted posting date ordinals, prefix sums with a leading 0)
    balances: dict[int, tuple[list[int], list[int]]] | None = None
    # Versions come from one process-wide counter, so a reset never reuses a cached version.
    version: int = field(default_factory=lambda: next(_VERSIONS))


class Store:
    """Thread-safe access to one sandbox database file."""

    def __init__(self, path: str | Path, *, reset: bool = False, today: date | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # `today` fixes the sandbox's clock from the start, so a new database is seeded up to it.
        self.today_override: date | None = today
        if reset:
            self._delete_files()
        self._open()

    # -- lifecycle ---------------------------------------------------------------------------

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def _open(self) -> None:
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(companies)")}
        if "fiscal_start_month" not in columns:  # a database written before the column existed
            self.db.execute(
                "ALTER TABLE companies ADD COLUMN fiscal_start_month INTEGER NOT NULL DEFAULT 1"
            )
        self._caches: dict[int, _CompanyCache] = {}
        self._tokens: dict[str, TokenInfo] = {}
        self._sessions: dict[str, tuple[str, date]] = {}
        self._next_ids: dict[str, int] = {}
        if self.db.execute("SELECT value FROM meta WHERE key='seeded'").fetchone() is None:
            self._seed()
        self._load_tokens()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self.db.close()

    def reset(self) -> None:
        """Delete every row and seed the demo data again (the --reset of a running server)."""
        with self._lock:
            self.db.close()
            self._delete_files()
            self._open()

    def today(self) -> date:
        """The sandbox's idea of today (Oslo), overridable in tests."""
        return self.today_override or oslo_today()

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

    # -- seeding ------------------------------------------------------------------------------

    def _seed(self) -> None:
        today = self.today()
        with self._transaction():
            for company in demo.DEMO_COMPANIES:
                profile = {"holding": "holding", "client": "operating"}.get(
                    company.role, "operating"
                )
                if company.key == "client-a":
                    profile = "holding"
                self._create_company(
                    company.company_id,
                    company.key,
                    company.name,
                    company.org_number,
                    profile,
                    today,
                    fiscal_start_month=company.fiscal_year_start_month,
                )
            holding = demo.HOLDING.company_id
            self._add_token(demo.HOLDING_TOKEN, holding, holding * 10 + 1, True, False)
            self._add_token(demo.READONLY_TOKEN, holding, holding * 10 + 2, False, False)
            operating = demo.OPERATING.company_id
            self._add_token(demo.OPERATING_TOKEN, operating, operating * 10 + 1, True, False)
            july = demo.JULY.company_id
            self._add_token(demo.JULY_TOKEN, july, july * 10 + 1, True, False)
            office = demo.OFFICE.company_id
            self._add_token(demo.OFFICE_TOKEN, office, office * 10 + 1, True, True)
            for client in (demo.CLIENT_A, demo.CLIENT_B):
                self.db.execute(
                    "INSERT INTO office_clients VALUES (?, ?)",
                    (demo.OFFICE_TOKEN, client.company_id),
                )
            self.db.execute("INSERT INTO meta VALUES ('seeded', ?)", (today.isoformat(),))

    def _add_token(
        self, token: str, company_id: int, employee_id: int, advanced: bool, office: bool
    ) -> None:
        names = {1: ("Kari", "Nordmann"), 2: ("Ola", "Lesetilgang")}
        first, last = names.get(employee_id % 10, ("Per", "Hansen"))
        self.db.execute(
            "INSERT INTO employees VALUES (?, ?, ?, ?, ?)",
            (employee_id, company_id, first, last, f"{first.lower()}@example.no"),
        )
        self.db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
            (token, company_id, employee_id, int(advanced), int(office)),
        )

    def _create_company(
        self,
        company_id: int,
        key: str,
        name: str,
        org: str,
        profile: str,
        today: date,
        *,
        small: bool = False,
        fiscal_start_month: int = 1,
    ) -> None:
        # The ledger covers the previous and the current fiscal year up to today.
        current = seed.fiscal_year_start(today, fiscal_start_month)
        first_day = current.replace(year=current.year - 1)
        self.db.execute(
            "INSERT INTO companies (id, key, name, org_number, profile, start_date, "
            "fiscal_start_month) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                company_id,
                key,
                name,
                org,
                profile,
                date(first_day.year - 5, 1, 1).isoformat(),
                fiscal_start_month,
            ),
        )
        chart = [row for row in seed.chart() if not small or row[0] in seed.BENCH_ACCOUNTS]
        account_ids: dict[int, int] = {}
        rows = []
        for number, account_name, vat in chart:
            account_ids[number] = self._next_id("accounts", 100_001)
            rows.append((account_ids[number], company_id, number, account_name, vat))
        self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)", rows)
        periods = []
        start = first_day
        for i in range(24):  # two fiscal years of monthly periods, numbered within their year
            end = seed.next_month(start)
            periods.append(
                (
                    self._next_id("periods", 20_001),
                    company_id,
                    start.isoformat(),
                    end.isoformat(),
                    i % 12 + 1,
                )
            )
            start = end
        self.db.executemany("INSERT INTO periods VALUES (?, ?, ?, ?, ?)", periods)
        dept_ids = []
        for number, dept_name in seed.DEPARTMENTS:
            dept_ids.append(self._next_id("departments", 501))
            self.db.execute(
                "INSERT INTO departments VALUES (?, ?, ?, ?)",
                (dept_ids[-1], company_id, number, dept_name),
            )
        project_ids = []
        for i, (number, project_name) in enumerate(seed.PROJECTS):
            project_ids.append(self._next_id("projects", 701))
            self.db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?)",
                (
                    project_ids[-1],
                    company_id,
                    number,
                    project_name,
                    dept_ids[i % len(dept_ids)],
                    first_day.isoformat(),
                ),
            )
        numbers: dict[int, int] = {}
        vouchers, postings = [], []
        drafts = seed.generate(
            key, profile, today, small=small, fiscal_start_month=fiscal_start_month
        )
        for draft in drafts:
            voucher_id = self._next_id("vouchers", 300_001)
            numbers[draft.date.year] = numbers.get(draft.date.year, 0) + 1
            vouchers.append(
                (
                    voucher_id,
                    company_id,
                    draft.date.isoformat(),
                    numbers[draft.date.year],
                    0,
                    draft.date.year,
                    draft.description,
                    None,
                    seed.VOUCHER_TYPES[draft.voucher_type],
                    None,
                    1,
                    1,
                )
            )
            inputs = [
                PostingInput(
                    row,
                    account_ids[acc],
                    gross,
                    vat,
                    dept_ids[d] if d is not None else None,
                    project_ids[p] if p is not None else None,
                    None,
                    draft.date,
                )
                for row, (acc, gross, vat, d, p) in enumerate(draft.lines, start=1)
            ]
            postings.extend(self._posting_rows(company_id, voucher_id, inputs, True, account_ids))
        self.db.executemany(
            "INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", vouchers
        )
        self.db.executemany(
            "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", postings
        )

    def _posting_rows(
        self,
        company_id: int,
        voucher_id: int,
        inputs: Iterable[PostingInput],
        posted: bool,
        account_ids: dict[int, int],
    ) -> list[tuple[Any, ...]]:
        """Rows for the postings table: gross lines split into net plus system VAT rows."""
        rows = []
        for p in inputs:
            net, vat = seed.vat_split(p.gross, p.vat_code)
            vat_id = seed.VAT_TYPES[p.vat_code][0] if p.vat_code else None
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
                )
            )
            if vat:
                vat_account = account_ids[seed.VAT_TYPES[p.vat_code][3]]  # type: ignore[index]
                # Tripletex adds the VAT line itself as a system row (row 0).
                rows.append(
                    (
                        self._next_id("postings", 500_001),
                        voucher_id,
                        company_id,
                        0,
                        day,
                        p.date.toordinal(),
                        vat_account,
                        vat,
                        vat,
                        None,
                        None,
                        None,
                        p.description,
                        1,
                        int(posted),
                    )
                )
        return rows

    def _ensure_bench(self, n: int) -> None:
        company_id = demo.BENCH_COMPANY_ID_BASE + n
        if self.db.execute("SELECT 1 FROM companies WHERE id=?", (company_id,)).fetchone():
            return
        token = demo.bench_token(n)
        with self._transaction():
            profile = "holding" if n % 3 == 0 else "operating"
            self._create_company(
                company_id,
                f"bench-{n}",
                f"Benchmark {n} AS",
                bench_org_number(n),
                profile,
                self.today(),
                small=True,
            )
            self._add_token(token, company_id, company_id * 10 + 1, True, False)

    # -- tokens and sessions ------------------------------------------------------------------

    def _load_tokens(self) -> None:
        clients: dict[str, set[int]] = {}
        for token, company_id in self.db.execute("SELECT token, company_id FROM office_clients"):
            clients.setdefault(token, set()).add(company_id)
        for row in self.db.execute("SELECT * FROM tokens"):
            self._tokens[row[0]] = TokenInfo(
                row[0],
                row[1],
                row[2],
                bool(row[3]),
                bool(row[4]),
                frozenset(clients.get(row[0], ())),
            )
        for token, employee_token, expires in self.db.execute(
            "SELECT token, employee_token, expiration_date FROM sessions"
        ):
            self._sessions[token] = (employee_token, date.fromisoformat(expires))

    def add_employee_token(
        self, token: str, company_id: int, *, advanced_voucher: bool = True
    ) -> TokenInfo:
        """Register an extra employee token for a company (tests: canary keys, revoked keys)."""
        with self._lock:
            employee_id = company_id * 10 + 3 + len(self._tokens) % 7
            with self._transaction():
                self.db.execute("DELETE FROM employees WHERE id=?", (employee_id,))
                self._add_token(token, company_id, employee_id, advanced_voucher, False)
            info = TokenInfo(token, company_id, employee_id, advanced_voucher, False, frozenset())
            self._tokens[token] = info
            return info

    def remove_employee_token(self, token: str) -> None:
        """Revoke an employee token: new sessions for it fail with arg:employeeToken."""
        with self._lock:
            self.db.execute("DELETE FROM tokens WHERE token=?", (token,))
            self._tokens.pop(token, None)

    def token_info(self, employee_token: str) -> TokenInfo | None:
        """The employee token's rights; bench tokens create their company on first use."""
        info = self._tokens.get(employee_token)
        if info is not None:
            return info
        match = BENCH_RE.match(employee_token)
        if match is None:
            return None
        n = int(match.group(1))
        with self._lock:
            self._ensure_bench(n)
            company_id = demo.BENCH_COMPANY_ID_BASE + n
            info = TokenInfo(
                employee_token, company_id, company_id * 10 + 1, True, False, frozenset()
            )
            self._tokens[employee_token] = info
        return info

    def create_session(self, employee_token: str, expiration: date) -> dict[str, Any]:
        """Create a session; returns its id, token and expiry."""
        token = secrets.token_hex(24)  # real session tokens contain no dashes
        with self._lock:
            session_id = self._next_id("sessions", 1)
            self.db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                (session_id, token, employee_token, expiration.isoformat()),
            )
            self._sessions[token] = (employee_token, expiration)
        return {"id": session_id, "token": token, "expirationDate": expiration}

    def session(self, token: str) -> TokenInfo | None:
        """The token rights behind a live session token, or None if unknown or expired."""
        found = self._sessions.get(token)
        if found is None or found[1] <= self.today():
            return None
        return self.token_info(found[0])

    def delete_session(self, token: str) -> bool:
        """Revoke a session; False if it did not exist."""
        with self._lock:
            if self._sessions.pop(token, None) is None:
                return False
            self.db.execute("DELETE FROM sessions WHERE token=?", (token,))
            return True

    def set_session_expiration(self, token: str, expiration: date) -> None:
        """Move a session's expiry (tests use it to expire a session)."""
        with self._lock:
            employee_token, _ = self._sessions[token]
            self._sessions[token] = (employee_token, expiration)
            self.db.execute(
                "UPDATE sessions SET expiration_date=? WHERE token=?",
                (expiration.isoformat(), token),
            )

    # -- companies and reference data ---------------------------------------------------------

    def company_ids(self) -> list[int]:
        """Ids of all companies in the database."""
        with self._lock:
            return [r[0] for r in self.db.execute("SELECT id FROM companies ORDER BY id")]

    def company(self, company_id: int) -> dict[str, Any] | None:
        """Company entity (Tripletex `Company`)."""
        with self._lock:
            row = self.db.execute(
                "SELECT id, name, org_number, start_date FROM companies WHERE id=?", (company_id,)
            ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "version": 1,
            "url": Url("company", row[0]),
            "name": row[1],
            "displayName": row[1],
            "startDate": row[3],
            "organizationNumber": row[2],
            "email": f"post@{row[2]}.example.no",
            "type": "AS",
            "currency": Ref("currency", CURRENCY_NOK),
        }

    def employee(self, employee_id: int) -> dict[str, Any] | None:
        """Employee entity."""
        with self._lock:
            row = self.db.execute("SELECT * FROM employees WHERE id=?", (employee_id,)).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "version": 1,
            "url": Url("employee", row[0]),
            "firstName": row[2],
            "lastName": row[3],
            "displayName": f"{row[2]} {row[3]}",
            "email": row[4],
            "companyId": row[1],
        }

    def _cache(self, company_id: int) -> _CompanyCache:
        cache = self._caches.get(company_id)
        if cache is not None:
            return cache
        with self._lock:
            cache = _CompanyCache()
            for account_id, number, name, vat in self.db.execute(
                "SELECT id, number, name, vat_code FROM accounts WHERE company_id=? ORDER BY number",
                (company_id,),
            ):
                entity = account_entity(account_id, number, name, vat)
                cache.accounts.append(entity)
                cache.account_by_id[account_id] = entity
                cache.account_by_number[number] = entity
            row = self.db.execute(
                "SELECT fiscal_start_month FROM companies WHERE id=?", (company_id,)
            ).fetchone()
            cache.fiscal_start_month = row[0] if row else 1
            for pid, start, end, number in self.db.execute(
                "SELECT id, start, end, number FROM periods WHERE company_id=? ORDER BY start",
                (company_id,),
            ):
                start_date = date.fromisoformat(start)
                cache.periods.append(
                    {
                        "id": pid,
                        "version": 1,
                        "url": Url("accountingPeriod", pid),
                        "name": f"{MONTHS_NO[start_date.month - 1]} {start_date.year}",
                        "number": number,
                        "start": start,
                        "end": end,
                        "isClosed": False,
                    }
                )
            for did, number, name in self.db.execute(
                "SELECT id, number, name FROM departments WHERE company_id=? ORDER BY id",
                (company_id,),
            ):
                cache.departments.append(
                    {
                        "id": did,
                        "version": 1,
                        "url": Url("department", did),
                        "name": name,
                        "departmentNumber": number,
                        "displayName": f"{number} {name}",
                        "isInactive": False,
                    }
                )
            for pid, number, name, dept, start in self.db.execute(
                "SELECT id, number, name, department_id, start_date FROM projects "
                "WHERE company_id=? ORDER BY id",
                (company_id,),
            ):
                cache.projects.append(
                    {
                        "id": pid,
                        "version": 1,
                        "url": Url("project", pid),
                        "name": name,
                        "number": number,
                        "displayName": f"{number} {name}",
                        "department": Ref("department", dept),
                        "startDate": start,
                        "isClosed": False,
                        "isOffer": False,
                        "isInternal": number == "100",
                        "isFixedPrice": False,
                        "currency": Ref("currency", CURRENCY_NOK),
                    }
                )
            self._caches[company_id] = cache
            return cache

    def accounts(self, company_id: int) -> list[dict[str, Any]]:
        """Account entities of a company, by number."""
        return self._cache(company_id).accounts

    def account(self, company_id: int, account_id: int) -> dict[str, Any] | None:
        """One account entity by internal id."""
        return self._cache(company_id).account_by_id.get(account_id)

    def account_by_number(self, company_id: int, number: int) -> dict[str, Any] | None:
        """One account entity by account number."""
        return self._cache(company_id).account_by_number.get(number)

    def periods(self, company_id: int) -> list[dict[str, Any]]:
        """Accounting periods with `isClosed` computed for today."""
        closed_before = self._closed_before()
        return [
            {**p, "isClosed": date.fromisoformat(p["end"]) <= closed_before}
            for p in self._cache(company_id).periods
        ]

    def _closed_before(self) -> date:
        """Periods ending on or before this date are closed (all before the previous month)."""
        today = self.today()
        first = today.replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)

    def is_closed(self, company_id: int, day: date) -> bool:
        """True if the date lies in a closed accounting period (or before the first one)."""
        cache = self._cache(company_id)
        if cache.periods and day < date.fromisoformat(cache.periods[0]["start"]):
            return True
        return day < self._closed_before()

    def departments(self, company_id: int) -> list[dict[str, Any]]:
        """Department entities."""
        return self._cache(company_id).departments

    def projects(self, company_id: int) -> list[dict[str, Any]]:
        """Project entities."""
        return self._cache(company_id).projects

    def version(self, company_id: int) -> int:
        """A counter that changes whenever the company's ledger changes."""
        return self._cache(company_id).version

    # -- balances -----------------------------------------------------------------------------

    def _balances(self, company_id: int) -> dict[int, tuple[list[int], list[int]]]:
        cache = self._cache(company_id)
        balances = cache.balances
        if balances is not None:
            return balances
        with self._lock:
            balances = {}
            for account_id, day, total in self.db.execute(
                "SELECT account_id, date_ord, SUM(amount) FROM postings "
                "WHERE company_id=? AND is_posted=1 GROUP BY account_id, date_ord "
                "ORDER BY account_id, date_ord",
                (company_id,),
            ):
                days, sums = balances.setdefault(account_id, ([], [0]))
                days.append(day)
                sums.append(sums[-1] + total)
            cache.balances = balances
            return balances

    def balance_sheet(
        self,
        company_id: int,
        date_from: date,
        date_to: date,
        *,
        number_from: int | None = None,
        number_to: int | None = None,
        include_without_movements: bool = False,
    ) -> list[tuple[dict[str, Any], int, int, bool]]:
        """(account, balanceIn øre, balanceChange øre, has movements) per account, by number."""
        balances = self._balances(company_id)
        cache = self._cache(company_id)
        start, end = date_from.toordinal(), date_to.toordinal()
        year_start = seed.fiscal_year_start(date_from, cache.fiscal_start_month).toordinal()
        out = []
        for account in cache.accounts:
            number = account["number"]
            if number_from is not None and number < number_from:
                continue
            if number_to is not None and number >= number_to:
                continue
            series = balances.get(account["id"])
            if series is None:
                if include_without_movements:
                    out.append((account, 0, 0, False))
                continue
            days, sums = series
            i_start = bisect.bisect_left(days, start)
            i_end = bisect.bisect_left(days, end)
            before = sums[i_start]
            if number >= 3000:
                before -= sums[bisect.bisect_left(days, year_start)]
            change = sums[i_end] - sums[i_start]
            moved = i_end > i_start
            if moved or before or include_without_movements:
                out.append((account, before, change, moved))
        return out

    def dimension_changes(
        self, company_id: int, date_from: date, date_to: date, column: str, value: int
    ) -> dict[int, int]:
        """Net change per account id in [from, to) for one department or project id."""
        assert column in ("department_id", "project_id")
        with self._lock:
            rows = self.db.execute(
                f"SELECT account_id, SUM(amount) FROM postings WHERE company_id=? "
                f"AND is_posted=1 AND date_ord>=? AND date_ord<? AND {column}=? "
                f"GROUP BY account_id",
                (company_id, date_from.toordinal(), date_to.toordinal(), value),
            ).fetchall()
        return dict(rows)

    # -- postings and vouchers ----------------------------------------------------------------

    def postings(
        self,
        company_id: int,
        date_from: date,
        date_to: date,
        *,
        filters: dict[str, Any] | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, page of posting entities) of posted vouchers in [from, to), by id."""
        where = ["company_id=?", "is_posted=1", "date_ord>=?", "date_ord<?"]
        args: list[Any] = [company_id, date_from.toordinal(), date_to.toordinal()]
        for column, value in (filters or {}).items():
            if column == "number_from":
                where.append(
                    "account_id IN (SELECT id FROM accounts WHERE number>=? AND company_id=?)"
                )
                args += [value, company_id]
            elif column == "number_to":
                where.append(
                    "account_id IN (SELECT id FROM accounts WHERE number<? AND company_id=?)"
                )
                args += [value, company_id]
            else:
                assert column in ("account_id", "department_id", "project_id")
                where.append(f"{column}=?")
                args.append(value)
        clause = " AND ".join(where)
        with self._lock:
            total = self.db.execute(
                f"SELECT COUNT(*) FROM postings WHERE {clause}", args
            ).fetchone()[0]
            rows = self.db.execute(
                f"SELECT * FROM postings WHERE {clause} ORDER BY id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return total, [posting_entity(r) for r in rows]

    def posting(self, company_id: int, posting_id: int) -> dict[str, Any] | None:
        """One posting entity."""
        with self._lock:
            row = self.db.execute(
                "SELECT * FROM postings WHERE id=? AND company_id=?", (posting_id, company_id)
            ).fetchone()
        return posting_entity(row) if row else None

    def all_postings(self, company_id: int) -> list[tuple[int, date, Decimal]]:
        """(account number, date, amount) of every posted posting: for independent checks."""
        numbers = {a["id"]: a["number"] for a in self.accounts(company_id)}
        with self._lock:
            rows = self.db.execute(
                "SELECT account_id, date, amount FROM postings WHERE company_id=? AND is_posted=1",
                (company_id,),
            ).fetchall()
        return [(numbers[a], date.fromisoformat(d), ore_to_decimal(x)) for a, d, x in rows]

    def _voucher_entities(self, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        postings: dict[int, list[Ref]] = {i: [] for i in ids}
        marks = ",".join("?" * len(ids))
        for posting_id, voucher_id in self.db.execute(
            f"SELECT id, voucher_id FROM postings WHERE voucher_id IN ({marks}) "
            "ORDER BY voucher_id, row, id",
            ids,
        ):
            postings[voucher_id].append(Ref("posting", posting_id))
        return [voucher_entity(r, postings[r[0]]) for r in rows]

    def vouchers(
        self,
        company_id: int,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        external_number: str | None = None,
        ids: list[int] | None = None,
        number_from: int | None = None,
        number_to: int | None = None,
        type_id: int | None = None,
        posted: bool | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> tuple[int, int, list[dict[str, Any]]]:
        """(total, postings in total, page) of voucher entities matching the filters, by id."""
        where, args = ["company_id=?"], [company_id]
        if posted is not None:
            where.append("is_posted=?")
            args.append(int(posted))
        if date_from is not None:
            where.append("date>=?")
            args.append(date_from.isoformat())
        if date_to is not None:
            where.append("date<?")
            args.append(date_to.isoformat())
        if external_number is not None:
            where.append("external_number=?")
            args.append(external_number)
        if ids:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args += ids
        if number_from is not None:
            where.append("number>=?")
            args.append(number_from)
        if number_to is not None:
            where.append("number<=?")
            args.append(number_to)
        if type_id is not None:
            where.append("voucher_type_id=?")
            args.append(type_id)
        clause = " AND ".join(where)
        with self._lock:
            total = self.db.execute(
                f"SELECT COUNT(*) FROM vouchers WHERE {clause}", args
            ).fetchone()[0]
            n_postings = self.db.execute(
                f"SELECT COUNT(*) FROM postings WHERE voucher_id IN "
                f"(SELECT id FROM vouchers WHERE {clause})",
                args,
            ).fetchone()[0]
            rows = self.db.execute(
                f"SELECT * FROM vouchers WHERE {clause} ORDER BY id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return total, n_postings, self._voucher_entities(rows)

    def voucher(self, company_id: int, voucher_id: int) -> dict[str, Any] | None:
        """One voucher entity."""
        with self._lock:
            rows = self.db.execute(
                "SELECT * FROM vouchers WHERE id=? AND company_id=?", (voucher_id, company_id)
            ).fetchall()
            found = self._voucher_entities(rows)
        return found[0] if found else None

    def create_voucher(
        self,
        company_id: int,
        *,
        day: date,
        description: str | None,
        external_number: str | None,
        voucher_type_id: int | None,
        postings: list[PostingInput],
        send_to_ledger: bool,
    ) -> int:
        """Store a validated voucher (numbered if sent to the ledger); returns its id."""
        account_ids = {a["number"]: a["id"] for a in self.accounts(company_id)}
        with self._lock:
            voucher_id = self._next_id("vouchers", 300_001)
            number = temp = 0
            if send_to_ledger:
                number = self.db.execute(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM vouchers WHERE company_id=? "
                    "AND year=?",
                    (company_id, day.year),
                ).fetchone()[0]
            else:
                temp = self.db.execute(
                    "SELECT COALESCE(MAX(temp_number), 0) + 1 FROM vouchers WHERE company_id=?",
                    (company_id,),
                ).fetchone()[0]
            rows = self._posting_rows(company_id, voucher_id, postings, send_to_ledger, account_ids)
            with self._transaction():
                self.db.execute(
                    "INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        voucher_id,
                        company_id,
                        day.isoformat(),
                        number,
                        temp,
                        day.year,
                        description,
                        external_number,
                        voucher_type_id,
                        None,
                        int(send_to_ledger),
                        1,
                    ),
                )
                self.db.executemany(
                    "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            self._invalidate(company_id)
        return voucher_id

    def reverse_voucher(self, company_id: int, voucher_id: int, day: date) -> int:
        """Book the reversal of a posted voucher on `day`; returns the new voucher's id."""
        with self._lock:
            original = self.db.execute(
                "SELECT number, description, voucher_type_id FROM vouchers WHERE id=?",
                (voucher_id,),
            ).fetchone()
            rows = self.db.execute(
                "SELECT row, account_id, amount, amount_gross, vat_type_id, department_id, "
                "project_id, description, system_generated FROM postings WHERE voucher_id=? "
                "ORDER BY id",
                (voucher_id,),
            ).fetchall()
            new_id = self._next_id("vouchers", 300_001)
            number = self.db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM vouchers WHERE company_id=? AND year=?",
                (company_id, day.year),
            ).fetchone()[0]
            with self._transaction():
                self.db.execute(
                    "INSERT INTO vouchers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id,
                        company_id,
                        day.isoformat(),
                        number,
                        0,
                        day.year,
                        f"Tilbakeføring av bilag {original[0]}: {original[1] or ''}".strip(),
                        None,
                        original[2],
                        None,
                        1,
                        1,
                    ),
                )
                # The copies keep amount and gross negated row by row, so VAT reverses too.
                self.db.executemany(
                    "INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            self._next_id("postings", 500_001),
                            new_id,
                            company_id,
                            r[0],
                            day.isoformat(),
                            day.toordinal(),
                            r[1],
                            -r[2],
                            -r[3],
                            r[4],
                            r[5],
                            r[6],
                            r[7],
                            r[8],
                            1,
                        )
                        for r in rows
                    ],
                )
                self.db.execute(
                    "UPDATE vouchers SET reverse_voucher_id=?, version=version+1 WHERE id=?",
                    (new_id, voucher_id),
                )
            self._invalidate(company_id)
        return new_id

    def send_to_ledger(self, company_id: int, voucher_id: int) -> None:
        """Approve a non-posted voucher: it gets its number and its postings count from now on."""
        with self._lock:
            row = self.db.execute(
                "SELECT year FROM vouchers WHERE id=? AND company_id=? AND is_posted=0",
                (voucher_id, company_id),
            ).fetchone()
            if row is None:
                raise ValueError(f"voucher {voucher_id} is not waiting for approval")
            number = self.db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM vouchers WHERE company_id=? AND year=?",
                (company_id, row[0]),
            ).fetchone()[0]
            with self._transaction():
                self.db.execute(
                    "UPDATE vouchers SET number=?, is_posted=1, version=version+1 WHERE id=?",
                    (number, voucher_id),
                )
                self.db.execute("UPDATE postings SET is_posted=1 WHERE voucher_id=?", (voucher_id,))
            self._invalidate(company_id)

    def delete_voucher(self, company_id: int, voucher_id: int) -> bool:
        """Delete a voucher and its postings (as a user may in Tripletex); False if not there."""
        with self._lock:
            with self._transaction():
                self.db.execute("DELETE FROM postings WHERE voucher_id=?", (voucher_id,))
                gone = self.db.execute(
                    "DELETE FROM vouchers WHERE id=? AND company_id=?", (voucher_id, company_id)
                ).rowcount
            self._invalidate(company_id)
        return bool(gone)

    def voucher_state(self, company_id: int, voucher_id: int) -> tuple[bool, int | None] | None:
        """(is posted, reverse voucher id) of a voucher, or None if it does not exist."""
        with self._lock:
            row = self.db.execute(
                "SELECT is_posted, reverse_voucher_id FROM vouchers WHERE id=? AND company_id=?",
                (voucher_id, company_id),
            ).fetchone()
        return (bool(row[0]), row[1]) if row else None

    def _invalidate(self, company_id: int) -> None:
        cache = self._caches.get(company_id)
        if cache is not None:
            cache.balances = None
            cache.version = next(_VERSIONS)

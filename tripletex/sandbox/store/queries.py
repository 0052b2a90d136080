"""What a running sandbox reads and writes: tokens, sessions, reference data, balances, vouchers.

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
Tokens and sessions are held in memory too, loaded from the database when it opens.
"""

from __future__ import annotations

import bisect
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .. import demo, seed
from ..entities import (
    CURRENCY_NOK,
    account_entity,
    ore_to_decimal,
    posting_entity,
    voucher_entity,
)
from ..fields import Ref, Url
from .attachments import Attachments
from .schema import INSERT_BUDGET, INSERT_POSTING, INSERT_VOUCHER, PostingInput, decimal_to_ore
from .seeding import Seeding

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


def oslo_today() -> date:
    """Today's date in Europe/Oslo (Tripletex's clock for session expiry and periods)."""
    return datetime.now(OSLO).date()


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


class Queries(Attachments, Seeding):
    """The sandbox's operations on its data, with in-memory indexes for fast reads."""

    # `today` fixes the sandbox's clock (tests); None means the real date in Oslo.
    today_override: date | None = None
    _caches: dict[int, _CompanyCache]
    _tokens: dict[str, TokenInfo]
    _sessions: dict[str, tuple[str, date]]

    def today(self) -> date:
        """The sandbox's idea of today (Oslo), overridable in tests."""
        return self.today_override or oslo_today()

    def _forget(self) -> None:
        """Drop every in-memory index (the database file is about to be opened afresh)."""
        self._caches = {}
        self._tokens = {}
        self._sessions = {}

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

    def add_office_token(self, token: str, client_ids: list[int]) -> TokenInfo:
        """Register an accounting office's token reaching these clients (benchmarks: many firms
        behind one key, sharing its rate limit); the office is the demo office company."""
        office = demo.OFFICE.company_id
        with self._lock:
            employee_id = office * 10 + 3 + len(self._tokens) % 7
            with self._transaction():
                self.db.execute("DELETE FROM employees WHERE id=?", (employee_id,))
                self._add_token(token, office, employee_id, True, True)
                self.db.executemany(
                    "INSERT INTO office_clients VALUES (?, ?)", [(token, c) for c in client_ids]
                )
            info = TokenInfo(token, office, employee_id, True, True, frozenset(client_ids))
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
            self._ensure_bench(n, self.today())
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
            for account_id, number, name, vat, currency in self.db.execute(
                "SELECT id, number, name, vat_code, currency_id FROM accounts WHERE company_id=? "
                "ORDER BY number",
                (company_id,),
            ):
                entity = account_entity(account_id, number, name, vat, currency)
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

    # -- result budgets -----------------------------------------------------------------------

    def result_budgets(
        self,
        company_id: int,
        *,
        year: int,
        level: str,
        ids: frozenset[int] | None = None,
    ) -> list[dict[str, Any]]:
        """ResultBudget entities of the fiscal year named `year` (the one starting in it), of one
        `level`: COMPANY, DEPARTMENT or PROJECT, the last two only for `ids` when given."""
        cache = self._cache(company_id)
        start = date(year, cache.fiscal_start_month, 1)
        end = date(year + 1, cache.fiscal_start_month, 1)
        period_ids = {
            p["id"] for p in cache.periods if start.isoformat() <= p["start"] < end.isoformat()
        }
        column = {"DEPARTMENT": "department_id", "PROJECT": "project_id"}.get(level)
        with self._lock:
            rows = self.db.execute(
                "SELECT id, account_id, period_id, amount, department_id, project_id "
                "FROM result_budgets WHERE company_id=? ORDER BY id",
                (company_id,),
            ).fetchall()
        items = []
        for budget_id, account_id, period_id, amount, dept, project in rows:
            if period_id not in period_ids:
                continue
            dimension = dept if column == "department_id" else project
            if column is None and (dept is not None or project is not None):
                continue
            if column is not None and (
                dimension is None or (ids is not None and dimension not in ids)
            ):
                continue
            items.append(
                {
                    "id": budget_id,
                    "version": 1,
                    "account": Ref("account", account_id),
                    "accountingPeriod": Ref("accountingPeriod", period_id),
                    "amount": ore_to_decimal(amount),
                    "department": Ref("department", dept) if dept is not None else None,
                    "project": Ref("project", project) if project is not None else None,
                    "product": None,
                    "employee": None,
                    "resultBudgetType": level,
                }
            )
        return items

    def set_result_budget(
        self,
        company_id: int,
        *,
        account_number: int,
        month: date,
        amount: Decimal,
        department_id: int | None = None,
        project_id: int | None = None,
    ) -> int:
        """Add one result budget row (tests and the demo); returns its id."""
        account = self.account_by_number(company_id, account_number)
        period = next(
            (p for p in self._cache(company_id).periods if p["start"] == month.isoformat()), None
        )
        if account is None or period is None:
            raise ValueError(f"no account {account_number} or period {month} in {company_id}")
        ore = decimal_to_ore(amount)
        if ore is None:
            raise ValueError(f"{amount} has more than two decimals")
        with self._lock, self._transaction():
            budget_id = self._next_id("result_budgets", 900_001)
            self.db.execute(
                INSERT_BUDGET,
                (
                    budget_id,
                    company_id,
                    account["id"],
                    period["id"],
                    ore,
                    department_id,
                    project_id,
                ),
            )
        return budget_id

    def delete_result_budgets(self, company_id: int) -> int:
        """Remove every result budget of a company (a firm without a budget); returns how many."""
        with self._lock, self._transaction():
            cursor = self.db.execute("DELETE FROM result_budgets WHERE company_id=?", (company_id,))
        return cursor.rowcount

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
        by_date: bool = False,
        hidden_voucher_type: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, page of posting entities) of posted vouchers in [from, to), by id (or by date,
        then id); postings of vouchers of `hidden_voucher_type` are left out, as Tripletex leaves
        out what the key may not see."""
        where = ["company_id=?", "is_posted=1", "date_ord>=?", "date_ord<?"]
        args: list[Any] = [company_id, date_from.toordinal(), date_to.toordinal()]
        if hidden_voucher_type is not None:
            where.append("voucher_id NOT IN (SELECT id FROM vouchers WHERE voucher_type_id=?)")
            args.append(hidden_voucher_type)
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
        order = "date_ord, id" if by_date else "id"
        with self._lock:
            total = self.db.execute(
                f"SELECT COUNT(*) FROM postings WHERE {clause}", args
            ).fetchone()[0]
            rows = self.db.execute(
                f"SELECT * FROM postings WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
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
        documents = dict(
            self.db.execute(
                f"SELECT voucher_id, id FROM documents WHERE voucher_id IN ({marks})", ids
            ).fetchall()
        )
        return [voucher_entity(r, postings[r[0]], documents.get(r[0])) for r in rows]

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
        where = ["company_id=?"]
        args: list[int | str] = [company_id]
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
                    INSERT_VOUCHER,
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
                    INSERT_POSTING,
                    rows,
                )
            self._invalidate(company_id)
        return voucher_id

    def add_volume(self, company_id: int, *, postings_per_year: int) -> int:
        """Book two-line vouchers (office supplies paid from the bank) evenly over every month of
        the company's ledger up to today, about `postings_per_year` postings a year, as a busy
        firm has (benchmarks); returns how many postings were added."""
        accounts = {a["number"]: a["id"] for a in self.accounts(company_id)}
        month = date.fromisoformat(self._cache(company_id).periods[0]["start"])
        today = self.today()
        per_month = max(1, postings_per_year // 24)  # two postings a voucher, twelve months
        vouchers, postings = [], []
        with self._lock:
            numbers = dict(
                self.db.execute(
                    "SELECT year, MAX(number) FROM vouchers WHERE company_id=? GROUP BY year",
                    (company_id,),
                ).fetchall()
            )
            while month <= today:
                # The current month only up to today, in proportion.
                days = min(today.day, 28) if month == today.replace(day=1) else 28
                for i in range(max(1, per_month * days // 28)):
                    day = month.replace(day=1 + i % days)
                    voucher_id = self._next_id("vouchers", 300_001)
                    numbers[day.year] = numbers.get(day.year, 0) + 1
                    vouchers.append(
                        (
                            voucher_id,
                            company_id,
                            day.isoformat(),
                            numbers[day.year],
                            0,
                            day.year,
                            "Kontorrekvisita",
                            None,
                            seed.VOUCHER_TYPES["Utbetaling"],
                            None,
                            1,
                            1,
                        )
                    )
                    amount = 10_000 + (i * 7919) % 90_000  # øre: 100 to 1,000 kr
                    lines = [
                        PostingInput(1, accounts[6800], amount, None, None, None, None, day),
                        PostingInput(2, accounts[1920], -amount, None, None, None, None, day),
                    ]
                    postings += self._posting_rows(company_id, voucher_id, lines, True, accounts)
                month = seed.next_month(month)
            with self._transaction():
                self.db.executemany(INSERT_VOUCHER, vouchers)
                self.db.executemany(INSERT_POSTING, postings)
            self._invalidate(company_id)
        return len(postings)

    def reverse_voucher(self, company_id: int, voucher_id: int, day: date) -> int:
        """Book the reversal of a posted voucher on `day`; returns the new voucher's id."""
        with self._lock:
            original = self.db.execute(
                "SELECT number, description, voucher_type_id FROM vouchers WHERE id=?",
                (voucher_id,),
            ).fetchone()
            rows = self.db.execute(
                "SELECT row, account_id, amount, amount_gross, vat_type_id, department_id, "
                "project_id, description, system_generated, currency_id, amount_gross_currency "
                "FROM postings WHERE voucher_id=? ORDER BY id",
                (voucher_id,),
            ).fetchall()
            new_id = self._next_id("vouchers", 300_001)
            number = self.db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM vouchers WHERE company_id=? AND year=?",
                (company_id, day.year),
            ).fetchone()[0]
            with self._transaction():
                self.db.execute(
                    INSERT_VOUCHER,
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
                # The copies keep amount and gross (and the currency's) negated row by row, so VAT
                # reverses too.
                self.db.executemany(
                    INSERT_POSTING,
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
                            r[9],
                            None if r[10] is None else -r[10],
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
                self._delete_attachment(voucher_id)
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

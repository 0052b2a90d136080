"""Loading the demo data into a new sandbox database.

The first open seeds the demo companies of `demo.py` with the ledgers `seed.py` generates (the
previous and the current fiscal year up to today), their employees and tokens, the
accounting office's clients, and result budgets for the companies `demo.BUDGET_KEYS` names
(`seed.budget_amounts`: company level, and per department and project where postings carry one). Bench companies (`sandbox-bench-<n>`) are created the same way,
with a small chart, the first time their token is used.
"""

from __future__ import annotations

from datetime import date

from stdnum.no import orgnr

from .. import demo, seed
from .schema import INSERT_BUDGET, INSERT_POSTING, INSERT_VOUCHER, Database, PostingInput


def bench_org_number(n: int) -> str:
    """A valid, unique MOD11 organisation number for bench company n."""
    for k in range(10):
        base = str(90_000_000 + n * 10 + k)
        for check in range(10):
            if orgnr.is_valid(base + str(check)):
                return base + str(check)
    raise ValueError(n)  # pragma: no cover - one of ten bases always has a check digit


class Seeding(Database):
    """Writes the demo and bench companies into the database."""

    def _is_seeded(self) -> bool:
        return self.db.execute("SELECT value FROM meta WHERE key='seeded'").fetchone() is not None

    def _seed(self, today: date) -> None:
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
        account_ids = self._create_chart(company_id, small=small)
        period_ids = self._create_periods(company_id, first_day)
        dept_ids, project_ids = self._create_dimensions(company_id, first_day)
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
        self.db.executemany(INSERT_VOUCHER, vouchers)
        self.db.executemany(INSERT_POSTING, postings)
        if key in demo.BUDGET_KEYS:
            self._create_budgets(company_id, postings, period_ids, current)

    def _create_budgets(
        self,
        company_id: int,
        postings: list[tuple[object, ...]],
        period_ids: dict[date, int],
        current: date,
    ) -> None:
        """Result budgets of both fiscal years from the seeded postings (`seed.budget_amounts`)."""
        actuals: dict[tuple[int, date, int | None, int | None], int] = {}
        for row in postings:
            day = date.fromisoformat(str(row[4]))
            account_id, amount = int(str(row[6])), int(str(row[7]))
            dept = int(str(row[10])) if row[10] is not None else None
            project = int(str(row[11])) if row[11] is not None else None
            key = (account_id, day.replace(day=1), dept, project)
            actuals[key] = actuals.get(key, 0) + amount
        numbers = {a_id: n for n, a_id in self._account_numbers(company_id).items()}
        result = {k: v for k, v in actuals.items() if seed.is_budgeted(numbers[k[0]])}
        rows = [
            (
                self._next_id("result_budgets", 900_001),
                company_id,
                account_id,
                period_ids[month],
                amount,
                dept,
                project,
            )
            for (account_id, month, dept, project), amount in seed.budget_amounts(result, current)
            if month in period_ids
        ]
        self.db.executemany(INSERT_BUDGET, rows)

    def _account_numbers(self, company_id: int) -> dict[int, int]:
        query = "SELECT number, id FROM accounts WHERE company_id=?"
        return dict(self.db.execute(query, (company_id,)).fetchall())

    def _create_chart(self, company_id: int, *, small: bool) -> dict[int, int]:
        """The company's accounts; returns {account number: account id}."""
        chart = [row for row in seed.chart() if not small or row[0] in seed.BENCH_ACCOUNTS]
        account_ids: dict[int, int] = {}
        rows = []
        for number, account_name, vat in chart:
            account_ids[number] = self._next_id("accounts", 100_001)
            currency = seed.CURRENCY_IDS[seed.ACCOUNT_CURRENCIES.get(number, "NOK")]
            rows.append((account_ids[number], company_id, number, account_name, vat, currency))
        self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", rows)
        return account_ids

    def _create_periods(self, company_id: int, first_day: date) -> dict[date, int]:
        """Two fiscal years of monthly periods; returns {first day: period id}."""
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
        return {date.fromisoformat(str(p[2])): int(str(p[0])) for p in periods}

    def _create_dimensions(self, company_id: int, first_day: date) -> tuple[list[int], list[int]]:
        """The company's departments and projects; returns their ids in seed order."""
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
        return dept_ids, project_ids

    def _ensure_bench(self, n: int, today: date) -> None:
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
                today,
                small=True,
            )
            self._add_token(token, company_id, company_id * 10 + 1, True, False)

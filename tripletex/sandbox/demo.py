"""Fixed demo companies and tokens of the Tripletex sandbox.

Other code (the demo seed of the Django app, tests, benchmarks) imports these constants, so
they never change between runs. Organisation numbers are valid MOD11 numbers that belong to
no real company we know of.
"""

from __future__ import annotations

from dataclasses import dataclass

CONSUMER_TOKEN = "sandbox-consumer-token"

HOLDING_TOKEN = "sandbox-employee-holding"
READONLY_TOKEN = "sandbox-employee-holding-readonly"
OPERATING_TOKEN = "sandbox-employee-operating"
OFFICE_TOKEN = "sandbox-office-token"
JULY_TOKEN = "sandbox-employee-july"

# Employee tokens of this form map to lazily generated small "bench" companies.
BENCH_TOKEN_PREFIX = "sandbox-bench-"
BENCH_COMPANY_ID_BASE = 800_000


@dataclass(frozen=True)
class DemoCompany:
    """One company of the sandbox and the tokens that reach it."""

    key: str
    name: str
    org_number: str
    company_id: int
    employee_token: str | None
    office_token: str | None
    role: str
    # The calendar month its fiscal year starts in (Tripletex supports a deviating fiscal year).
    fiscal_year_start_month: int = 1


HOLDING = DemoCompany(
    key="holding",
    name="Fjellvik Holding AS",
    org_number="921500033",
    company_id=71001,
    employee_token=HOLDING_TOKEN,
    office_token=None,
    role="holding",
)
OPERATING = DemoCompany(
    key="operating",
    name="Fjellvik Drift AS",
    org_number="922500037",
    company_id=71002,
    employee_token=OPERATING_TOKEN,
    office_token=None,
    role="operating",
)
OFFICE = DemoCompany(
    key="office",
    name="Tallknuserne Regnskap AS",
    org_number="923500030",
    company_id=71003,
    employee_token=OFFICE_TOKEN,
    office_token=None,
    role="office",
)
CLIENT_A = DemoCompany(
    key="client-a",
    name="Nordlys Invest AS",
    org_number="924500034",
    company_id=71004,
    employee_token=None,
    office_token=OFFICE_TOKEN,
    role="client",
)
CLIENT_B = DemoCompany(
    key="client-b",
    name="Havbris Eiendom AS",
    org_number="925500038",
    company_id=71005,
    employee_token=None,
    office_token=OFFICE_TOKEN,
    role="client",
)

# A holding company whose fiscal year runs from July to June ("2025/26").
JULY = DemoCompany(
    key="july",
    name="Fjordkant Invest AS",
    org_number="926500031",
    company_id=71006,
    employee_token=JULY_TOKEN,
    office_token=None,
    role="holding",
    fiscal_year_start_month=7,
)

DEMO_COMPANIES: tuple[DemoCompany, ...] = (HOLDING, OPERATING, OFFICE, CLIENT_A, CLIENT_B, JULY)

# Companies seeded with result budgets (/resultbudget); the others keep none, so the demo has
# firms that upload their budget from the XLSX template instead.
BUDGET_KEYS = frozenset({HOLDING.key, OPERATING.key, CLIENT_A.key, JULY.key})


def demo_company(key: str) -> DemoCompany:
    """The demo company with this key; raises KeyError for an unknown key."""
    for company in DEMO_COMPANIES:
        if company.key == key:
            return company
    raise KeyError(key)


def bench_token(n: int) -> str:
    """Employee token of generated bench company n."""
    return f"{BENCH_TOKEN_PREFIX}{n}"

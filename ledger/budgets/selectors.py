"""What the figures pages, the report pack and the office dashboard read of a firm's budget.

Signs are the ledger's, as the P&L stores its amounts (Tripletex's: debit positive, credit negative,
so income is negative and costs positive); a page flips a budget for display exactly as it flips
the actual figure beside it. A month belongs to a period [date_from, date_to) when its first day
does (budgets are monthly; the figures' periods are whole months).

Levels: with neither `department_id` nor `project_id` the company-level budget is read; with one of
them (Tripletex's id, as on `Posting`), that department's or project's budget. Tripletex keeps a
budget for one dimension at a time (`resultBudgetType`), so asking for a department and a project
together finds nothing. Accounts without a budget are absent from the answers (not zero).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet, Sum

from companies.models import Company
from ledger.accounts import RESULT
from ledger.figures.layout import ALLOCATIONS, PNL_GROUPS, display_sign, group_of
from ledger.models import AccountBalance, Budget, LedgerAccount
from ledger.periods import FiscalYear


def _budget_rows(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None,
    project_id: int | None,
) -> QuerySet[Budget]:
    rows = Budget.objects.filter(company=company, month__gte=date_from, month__lt=date_to)
    if department_id is not None and project_id is not None:
        return rows.none()
    if department_id is not None:
        return rows.filter(department_id=department_id)
    if project_id is not None:
        return rows.filter(project_id=project_id)
    return rows.filter(department_id__isnull=True, project_id__isnull=True)


def budget_by_account(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None = None,
    project_id: int | None = None,
) -> dict[int, Decimal]:
    """Account number → the budget of the months in [date_from, date_to) (one query)."""
    rows = _budget_rows(
        company=company,
        date_from=date_from,
        date_to=date_to,
        department_id=department_id,
        project_id=project_id,
    )
    sums = rows.values("account_number").annotate(total=Sum("amount")).order_by("account_number")
    return {row["account_number"]: row["total"] for row in sums}


def budget_by_account_month(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None = None,
    project_id: int | None = None,
) -> dict[int, dict[datetime.date, Decimal]]:
    """Account number → {first day of month → budget} for the months in [date_from, date_to)."""
    rows = _budget_rows(
        company=company,
        date_from=date_from,
        date_to=date_to,
        department_id=department_id,
        project_id=project_id,
    ).order_by("account_number", "month")
    by_account: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    for number, month, amount in rows.values_list("account_number", "month", "amount"):
        by_account[number][month] = amount
    return dict(by_account)


def has_budget(*, company: Company) -> bool:
    """True when the firm has a budget of any level for any month (one query)."""
    return Budget.objects.filter(company=company).exists()


# ---- the budget page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    """One account's company-level budget of a fiscal year, month by month, as the P&L shows it."""

    number: int
    name: str
    months: list[Decimal | None]

    @property
    def total(self) -> Decimal:
        return sum((m for m in self.months if m is not None), Decimal(0))


@dataclass(frozen=True)
class VarianceLine:
    """Budget against actual over a period, as the P&L shows them (income and costs positive):
    variance = actual − budget, and its percentage of the budget (None for a zero budget)."""

    number: int | None
    name: str
    budget: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        return self.actual - self.budget

    @property
    def variance_pct(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.variance / abs(self.budget) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def shown_sign(number: int) -> int:
    """+1 or −1: how the P&L turns the stored amount of account `number` into the shown one."""
    spec = group_of(number, PNL_GROUPS)
    return display_sign(spec.nature, False) if spec is not None else 1


def budget_year_rows(*, company: Company, fiscal_year: FiscalYear) -> list[BudgetRow]:
    """Every account with a company-level budget in the year, by number (2 queries)."""
    by_month = budget_by_account_month(
        company=company, date_from=fiscal_year.start, date_to=fiscal_year.end
    )
    names = dict(
        LedgerAccount.objects.filter(company=company, number__in=by_month).values_list(
            "number", "name"
        )
    )
    return [
        BudgetRow(
            number,
            names.get(number, ""),
            [_shown(months.get(m), number) for m in fiscal_year.months],
        )
        for number, months in sorted(by_month.items())
    ]


def _shown(amount: Decimal | None, number: int) -> Decimal | None:
    return None if amount is None else amount * shown_sign(number)


def budget_variance(
    *, company: Company, date_from: datetime.date, date_to: datetime.date
) -> tuple[list[VarianceLine], VarianceLine]:
    """Each result account with a budget or an actual in [date_from, date_to), and the net result
    (3000–8799, as the P&L's "Net result for the year"), budget against actual (3 queries)."""
    budget = budget_by_account(company=company, date_from=date_from, date_to=date_to)
    actual_rows = (
        AccountBalance.objects.filter(
            company=company,
            month__gte=date_from,
            month__lt=date_to,
            **RESULT.lookups(),
        )
        .values("account_number")
        .annotate(total=Sum("balance_change"))
        .values_list("account_number", "total")
    )
    actual = {number: total for number, total in actual_rows if total}
    numbers = sorted(n for n in set(budget) | set(actual) if n in RESULT)
    names = dict(
        LedgerAccount.objects.filter(company=company, number__in=numbers).values_list(
            "number", "name"
        )
    )
    lines = [
        VarianceLine(
            number,
            names.get(number, ""),
            budget.get(number, Decimal(0)) * shown_sign(number),
            actual.get(number, Decimal(0)) * shown_sign(number),
        )
        for number in numbers
    ]
    in_result = [n for n in numbers if n < ALLOCATIONS.first]
    result = VarianceLine(
        None,
        "",
        -sum((budget.get(n, Decimal(0)) for n in in_result), Decimal(0)),
        -sum((actual.get(n, Decimal(0)) for n in in_result), Decimal(0)),
    )
    return lines, result

"""Selectors for the figures pages: the P&L by month and the balance sheet, grouped as NS 4102.

Signs. AccountBalance keeps Tripletex's signs (debit +, credit −). In the default "display" signs
revenue, financial income, equity, liabilities and every result line are flipped so that profit
and revenue read positive, while costs and assets keep their (debit-positive) sign — the layout of
the Norwegian oppstillingsplan. The raw mode shows every number exactly as Tripletex stores it.
Whatever the mode, a variance is favourable when the raw (Tripletex) variance is negative: more
credit is more profit.

Lines. Which accounts make up which line is the NS 4102 layout in `ledger.figures.layout`.

Fiscal year. The pages show one fiscal year of the firm, found by the rule in `ledger.periods`
(the one the sync and the tie-out use too), named by the calendar year it starts in.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.accounts import BALANCE, RESULT, AccountRange
from ledger.budgets.selectors import budget_by_account
from ledger.figures.layout import (
    BALANCE_ASSETS,
    BALANCE_EQUITY_LIABILITIES,
    COST,
    INCOME,
    NET_RESULT,
    PNL_GROUPS,
    PNL_LAYOUT,
    GroupSpec,
    TotalSpec,
    display_sign,
    pnl_members,
)
from ledger.models import (
    AccountBalance,
    Department,
    LedgerAccount,
    Posting,
    PostingMonth,
    Project,
)
from ledger.periods import (
    FiscalYear,
    add_months,
    fiscal_year_named,
    fiscal_year_of,
    fiscal_year_start_month,
    month_next,
    month_start,
    months_in,
    months_summary,
    today_local,
)
from ledger.sync.selectors import FiguresStatus, figures_status

ZERO = Decimal(0)
CENT = Decimal("0.01")


# ---- the period a page shows --------------------------------------------------------------------

# What a page can show: one month, a quarter of the fiscal year, the fiscal year to date, the
# twelve months up to a month, or any run of whole months (at most MAX_MONTHS).
MONTH, QUARTER, YTD, ROLLING_12, CUSTOM = "month", "quarter", "ytd", "rolling12", "custom"
PERIOD_KINDS = (MONTH, QUARTER, YTD, ROLLING_12, CUSTOM)
# What the total is compared with: the same months a year earlier, or the budget.
COMPARE_LAST_YEAR, COMPARE_BUDGET = "last_year", "budget"
MAX_MONTHS = 36


@dataclass(frozen=True)
class Period:
    """What a figures page shows: which months, the fiscal year of the last, signs, comparison.

    `through` is the last month shown; `first` the first (for a custom range; the other kinds
    derive it). The months are the half-open period [start, end)."""

    fiscal_year: FiscalYear
    through: datetime.date
    is_raw: bool
    start_month: int
    years: list[FiscalYear]
    has_data: bool
    kind: str = YTD
    first: datetime.date | None = None
    compare: str = COMPARE_LAST_YEAR

    @cached_property
    def months(self) -> list[datetime.date]:
        through = self.through
        if self.kind == MONTH:
            return [through]
        if self.kind == QUARTER:
            index = self.fiscal_year.months.index(through) // 3 * 3
            return self.fiscal_year.months[index : index + 3]
        if self.kind == ROLLING_12:
            return [add_months(through, i) for i in range(-11, 1)]
        if self.kind == CUSTOM and self.first is not None:
            return months_in(self.first, month_next(through))
        return [m for m in self.fiscal_year.months if m <= through]

    @property
    def start(self) -> datetime.date:
        return self.months[0]

    @property
    def end(self) -> datetime.date:
        """The first day after the period (half-open)."""
        return month_next(self.months[-1])

    @property
    def quarter(self) -> int:
        """The fiscal quarter (1–4) the last month is in."""
        return self.fiscal_year.months.index(self.through) // 3 + 1

    @cached_property
    def last_year_months(self) -> list[datetime.date]:
        return [add_months(m, -12) for m in self.months]

    @property
    def is_budget(self) -> bool:
        return self.compare == COMPARE_BUDGET


def period_kind_choices() -> list[tuple[str, str]]:
    """(kind, label) of every period a page can show, for the period picker."""
    return [
        (MONTH, _("Month")),
        (QUARTER, _("Quarter")),
        (YTD, _("Year to date")),
        (ROLLING_12, _("Last 12 months")),
        (CUSTOM, _("Custom range")),
    ]


def period_resolve(
    *,
    company: Company,
    year: int | None,
    month: int | None,
    is_raw: bool,
    kind: str = YTD,
    quarter: int | None = None,
    first: datetime.date | None = None,
    last: datetime.date | None = None,
    compare: str = COMPARE_LAST_YEAR,
) -> Period:
    """The period a figures page shows (defaults: the fiscal year through the latest synced month).

    ?ar=&mnd= pick the fiscal year and the last month; a quarter (1–4) of that fiscal year ends
    with its third month; a custom range is [first, last] in months (at most MAX_MONTHS, else the
    last MAX_MONTHS of it; a range given backwards is turned around)."""
    summary = months_summary(company=company)
    start_month = fiscal_year_start_month(summary)
    latest = summary[-1].month if summary else month_start(today_local())
    years = sorted(
        {fiscal_year_of(s.month, start_month) for s in summary}
        | {fiscal_year_of(latest, start_month)},
        key=lambda fy: fy.start,
        reverse=True,
    )
    kind = kind if kind in PERIOD_KINDS else YTD
    compare = compare if compare in (COMPARE_LAST_YEAR, COMPARE_BUDGET) else COMPARE_LAST_YEAR
    if kind == CUSTOM and first is not None and last is not None:
        first, last = sorted((month_start(first), month_start(last)))
        first = max(first, add_months(last, 1 - MAX_MONTHS))
        fy = fiscal_year_of(last, start_month)
        if fy not in years:
            years = sorted([*years, fy], key=lambda f: f.start, reverse=True)
        return Period(fy, last, is_raw, start_month, years, bool(summary), kind, first, compare)
    if kind == CUSTOM:
        kind = YTD
    fy = fiscal_year_of(latest, start_month)
    if year is not None and 1900 <= year <= 2100:
        fy = fiscal_year_named(year, start_month)
    through = fy.months[-1]
    synced = [s.month for s in summary if fy.contains(s.month)]
    if synced:
        through = synced[-1]
    if month is not None and 1 <= month <= 12:
        through = next(m for m in fy.months if m.month == month)
    if kind == QUARTER:
        index = fy.months.index(through) // 3
        if quarter is not None and 1 <= quarter <= 4:
            index = quarter - 1
        through = fy.months[index * 3 + 2]
    if fy not in years:
        years = sorted([*years, fy], key=lambda f: f.start, reverse=True)
    return Period(fy, through, is_raw, start_month, years, bool(summary), kind, None, compare)


# ---- amounts -----------------------------------------------------------------------------------


@dataclass
class Cells:
    """One line's amounts in the shown signs: each month, the period's total (`ytd`), the same
    months last year, the budget (None when not read) and the variance against the comparison."""

    months: list[Decimal]
    ytd: Decimal
    last_year: Decimal
    # The raw variance decides the colour: negative (more credit) is favourable.
    raw_variance: Decimal
    budget: Decimal | None = None
    is_budget: bool = False

    @property
    def compared(self) -> Decimal:
        """What the total is compared with: the budget or the same period last year."""
        if self.is_budget:
            return self.budget or ZERO
        return self.last_year

    @property
    def variance(self) -> Decimal:
        return self.ytd - self.compared

    @property
    def variance_pct(self) -> Decimal | None:
        if not self.compared:
            return None
        return (self.variance / abs(self.compared) * 100).quantize(Decimal("0.1"))

    @property
    def is_favourable(self) -> bool | None:
        if not self.raw_variance:
            return None
        return self.raw_variance < 0


def _cells(
    raw_months: list[Decimal],
    raw_last_year: Decimal,
    sign: int,
    raw_budget: Decimal | None = None,
    is_budget: bool = False,
) -> Cells:
    ytd = sum(raw_months, ZERO)
    compared = (raw_budget or ZERO) if is_budget else raw_last_year
    return Cells(
        months=[v * sign for v in raw_months],
        ytd=ytd * sign,
        last_year=raw_last_year * sign,
        raw_variance=ytd - compared,
        budget=None if raw_budget is None else raw_budget * sign,
        is_budget=is_budget,
    )


@dataclass
class AccountLine:
    number: int
    name: str
    cells: Cells


@dataclass
class PnlLine:
    """A group (with its accounts) or a result line of the P&L."""

    key: str
    label: str
    is_total: bool
    cells: Cells
    accounts: list[AccountLine] = field(default_factory=list)
    in_result: bool = True


@dataclass
class ChartMonth:
    month: datetime.date
    revenue: Decimal
    costs: Decimal
    result: Decimal
    last_year_result: Decimal


@dataclass
class Pnl:
    company: Company
    period: Period
    lines: list[PnlLine]
    chart: list[ChartMonth]
    account_count: int
    dimensions: Dimensions | None = None
    # With a filter: the months shown (this year and last) whose postings are not stored.
    unstored_months: list[datetime.date] = field(default_factory=list)
    # True when the budget was read (the cells carry it).
    has_budget_figures: bool = False


@dataclass(frozen=True)
class Dimensions:
    """A P&L filter on stored postings: one department, one project, or both (Tripletex ids)."""

    department_id: int | None = None
    project_id: int | None = None
    label: str = ""

    def lookups(self) -> dict[str, int]:
        """Posting lookups that keep the filter's postings."""
        lookups = {"department_id": self.department_id, "project_id": self.project_id}
        return {name: value for name, value in lookups.items() if value is not None}


def pnl_dimension_choices(*, company: Company) -> tuple[list[Department], list[Project]]:
    """The departments and projects a P&L can be filtered by."""
    return (
        list(Department.objects.filter(company=company)),
        list(Project.objects.filter(company=company)),
    )


def pnl_dimensions_resolve(
    *, company: Company, department: int | None, project: int | None
) -> Dimensions | None:
    """The filter for a department and/or project (our ids); None when neither is the company's."""
    chosen_department = (
        Department.objects.filter(company=company, pk=department).first() if department else None
    )
    chosen_project = (
        Project.objects.filter(company=company, pk=project).first() if project else None
    )
    if chosen_department is None and chosen_project is None:
        return None
    names = [str(d) for d in (chosen_department, chosen_project) if d is not None]
    return Dimensions(
        department_id=chosen_department.tripletex_id if chosen_department else None,
        project_id=chosen_project.tripletex_id if chosen_project else None,
        label=" · ".join(names),
    )


def money(value: Decimal | None) -> Decimal:
    """An aggregate as exact kroner and øre (SQLite sums decimals in floating point)."""
    return (value or ZERO).quantize(CENT)


def _account_names(*, company: Company, accounts: AccountRange) -> dict[int, str]:
    rows = LedgerAccount.objects.filter(company=company, **accounts.lookups("number"))
    return dict(rows.values_list("number", "name"))


def _budget(
    company: Company, period: Period, dimensions: Dimensions | None, with_budget: bool
) -> dict[int, Decimal] | None:
    """The budget of the period's months per account (raw signs), when compared or asked for."""
    if not (period.is_budget or with_budget):
        return None
    return budget_by_account(
        company=company,
        date_from=period.start,
        date_to=period.end,
        department_id=dimensions.department_id if dimensions else None,
        project_id=dimensions.project_id if dimensions else None,
    )


def pnl_for_period(
    *,
    company: Company,
    period: Period,
    dimensions: Dimensions | None = None,
    with_budget: bool = False,
) -> Pnl:
    """The P&L of the period grouped per NS 4102, with its total, the same months last year, the
    budget (when the period compares with it or `with_budget`) and the variance (4–5 queries).

    With `dimensions` the amounts are the stored postings of that department and/or project
    (the sync stores every posting of the years it pulls from postings), at no Tripletex call:
    the same sums `/balanceSheet?departmentId=…` gives, month by month; the budget is then that
    department's or project's."""
    budget = _budget(company, period, dimensions, with_budget)
    if dimensions is not None:
        return _pnl_of_postings(company, period, dimensions, budget)
    months, ly_months = period.months, period.last_year_months
    n_months = len(months)
    index = {m: i for i, m in enumerate(months)}
    # Both windows in one query, summed here: this year's months by account, last year's total by
    # account and its net result by month (the chart's line). With 36 months as columns the
    # windows overlap by 24 months, and two aggregate queries over last year cost more than
    # adding its rows up (a period's months are consecutive, so last year's are too).
    ly_first, ly_last = ly_months[0], ly_months[-1]
    net_first, net_end = NET_RESULT.first, NET_RESULT.end
    this_year: dict[int, list[Decimal]] = {}
    ly_sums: dict[int, Decimal] = {}
    ly_net: dict[datetime.date, Decimal] = {}
    rows = AccountBalance.objects.filter(
        company=company,
        **RESULT.lookups(),
        month__in=sorted({*months, *ly_months}),
    ).values_list("account_number", "month", "balance_change")
    month_index, account_months = index.get, this_year.get  # bound once: ~20,000 rows
    for number, month, change in rows:
        i = month_index(month)
        if i is not None:
            values = account_months(number)
            if values is None:
                values = this_year[number] = [ZERO] * n_months
            values[i] += change
        if ly_first <= month <= ly_last:
            ly_sums[number] = ly_sums.get(number, ZERO) + change
            if net_first <= number < net_end:
                ly_net[month] = ly_net.get(month, ZERO) + change
    last_year = {number: money(total) for number, total in ly_sums.items()}
    names = _account_names(company=company, accounts=RESULT)
    members = pnl_members(set(this_year) | set(last_year) | set(budget or ()))
    group_months = {
        key: _column_sums([this_year[n] for n in numbers if n in this_year], n_months)
        for key, numbers in members.items()
    }
    lines = _pnl_lines(members, group_months, this_year, last_year, names, period, budget)
    ly_result = {month: -money(total) for month, total in ly_net.items()}
    chart = _pnl_chart(period, group_months, ly_result=ly_result)
    count = sum(len(numbers) for numbers in members.values())
    report = Pnl(company, period, lines, chart, count)
    report.has_budget_figures = budget is not None
    return report


def _pnl_of_postings(
    company: Company,
    period: Period,
    dimensions: Dimensions,
    budget: dict[int, Decimal] | None,
) -> Pnl:
    """The P&L from the stored postings of a department and/or project (3 queries)."""
    months, ly_months = period.months, period.last_year_months
    index = {m: i for i, m in enumerate(months)}
    this_year: dict[int, list[Decimal]] = {}
    last_year: dict[int, Decimal] = defaultdict(lambda: ZERO)
    ly_result: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    rows = Posting.objects.filter(
        company=company,
        **RESULT.lookups(),
        **dimensions.lookups(),
        date__gte=ly_months[0],
        date__lt=add_months(months[-1], 1),
    ).values_list("account_number", "date", "amount")
    for number, day, amount in rows:
        month = month_start(day)
        if month in index:
            values = this_year.setdefault(number, [ZERO] * len(months))
            values[index[month]] += amount
        if ly_months[0] <= month <= ly_months[-1]:
            last_year[number] += amount
            if number in NET_RESULT:
                ly_result[month] -= amount
    names = _account_names(company=company, accounts=RESULT)
    members = pnl_members(set(this_year) | set(last_year) | set(budget or ()))
    group_months = {
        key: _column_sums([this_year[n] for n in numbers if n in this_year], len(months))
        for key, numbers in members.items()
    }
    lines = _pnl_lines(members, group_months, this_year, last_year, names, period, budget)
    chart = _pnl_chart(period, group_months, ly_result=ly_result)
    stored = set(
        PostingMonth.objects.filter(company=company, month__in=[*ly_months, *months]).values_list(
            "month", flat=True
        )
    )
    unstored = [m for m in [*ly_months, *months] if m not in stored]
    count = sum(len(numbers) for numbers in members.values())
    report = Pnl(company, period, lines, chart, count, dimensions, unstored)
    report.has_budget_figures = budget is not None
    return report


def _column_sums(rows: list[list[Decimal]], width: int) -> list[Decimal]:
    """Per-column sums of equally long rows ([0, …] when there are none)."""
    if not rows:
        return [ZERO] * width
    return [sum(column, ZERO) for column in zip(*rows, strict=True)]


def _pnl_lines(
    members: dict[str, list[int]],
    group_months: dict[str, list[Decimal]],
    this_year: dict[int, list[Decimal]],
    last_year: dict[int, Decimal],
    names: dict[int, str],
    period: Period,
    budget: dict[int, Decimal] | None = None,
) -> list[PnlLine]:
    """Groups with their accounts, and result lines summing every counting group above them."""
    n_months, is_raw, is_budget = len(period.months), period.is_raw, period.is_budget
    no_months = [ZERO] * n_months
    running_months, running_ly, running_budget = no_months, ZERO, ZERO
    lines: list[PnlLine] = []

    def budget_of(numbers: list[int]) -> Decimal | None:
        if budget is None:
            return None
        return sum((budget.get(n, ZERO) for n in numbers), ZERO)

    for spec in PNL_LAYOUT:
        if isinstance(spec, TotalSpec):
            # Result lines read "profit positive" in display signs.
            sign = 1 if is_raw else -1
            total_budget = None if budget is None else running_budget
            cells = _cells(running_months, running_ly, sign, total_budget, is_budget)
            lines.append(PnlLine(spec.key, str(spec.label), True, cells))
            continue
        numbers = members.get(spec.key, [])
        if spec.hide_when_empty and not numbers:
            continue
        sign = display_sign(spec.nature, is_raw)
        accounts = [
            AccountLine(
                number,
                names.get(number, ""),
                _cells(
                    this_year.get(number, no_months),
                    last_year.get(number, ZERO),
                    sign,
                    budget_of([number]),
                    is_budget,
                ),
            )
            for number in numbers
        ]
        months_raw = group_months.get(spec.key, no_months)
        group_ly = sum((last_year.get(n, ZERO) for n in numbers), ZERO)
        group_budget = budget_of(numbers)
        if spec.in_result:
            running_months = [a + b for a, b in zip(running_months, months_raw, strict=True)]
            running_ly += group_ly
            running_budget += group_budget or ZERO
        cells = _cells(months_raw, group_ly, sign, group_budget, is_budget)
        line = PnlLine(spec.key, str(spec.label), False, cells)
        line.accounts, line.in_result = accounts, spec.in_result
        lines.append(line)
    return lines


def _pnl_chart(
    period: Period,
    group_months: dict[str, list[Decimal]],
    *,
    ly_result: dict[datetime.date, Decimal],
) -> list[ChartMonth]:
    """Income, costs and result per month (profit positive), and last year's result per month
    (`ly_result`, profit positive, by last year's month).

    Income is every credit-natured group (operating revenue and financial income: for a holding
    company dividends are the income); costs are every other group of the result.
    """
    months = period.months
    n_months = len(months)
    in_result = [s for s in PNL_GROUPS if s.in_result]
    income = _column_sums(
        [group_months[s.key] for s in in_result if s.nature == INCOME and s.key in group_months],
        n_months,
    )
    costs = _column_sums(
        [group_months[s.key] for s in in_result if s.nature == COST and s.key in group_months],
        n_months,
    )
    return [
        ChartMonth(
            m,
            -income[i],
            costs[i],
            -(income[i] + costs[i]),
            ly_result.get(add_months(m, -12), ZERO),
        )
        for i, m in enumerate(months)
    ]


# ---- balance sheet ----------------------------------------------------------------------------


@dataclass
class BalanceAccount:
    """One account: its balance at the end of each shown month, and at the previous year end."""

    number: int
    name: str
    by_month: list[Decimal]
    previous: Decimal

    @property
    def amount(self) -> Decimal:
        """At the end of the last shown month."""
        return self.by_month[-1]

    @property
    def change(self) -> Decimal:
        return self.amount - self.previous


@dataclass
class BalanceLine:
    """A group with its accounts, a computed line (this year's result) or a sum line."""

    key: str
    label: str
    kind: str  # "group" | "line" | "sum" | "check"
    by_month: list[Decimal]
    previous: Decimal
    accounts: list[BalanceAccount] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return self.by_month[-1]

    @property
    def change(self) -> Decimal:
        return self.amount - self.previous


@dataclass
class BalanceSheet:
    company: Company
    period: Period
    at: datetime.date  # the month whose end the sheet shows (the last column)
    previous_at: datetime.date  # the last month of the previous fiscal year
    assets: list[BalanceLine]
    equity_liabilities: list[BalanceLine]
    total_assets: BalanceLine
    total_equity_liabilities: BalanceLine
    check: BalanceLine
    months: list[datetime.date] = field(default_factory=list)  # a column per month end
    dimensions: Dimensions | None = None
    # With a filter: the first month whose postings are stored (balances sum postings from it).
    postings_from: datetime.date | None = None

    @property
    def is_balanced(self) -> bool:
        return not any(self.check.by_month) and self.check.previous == 0


def balances_at(*, company: Company, month: datetime.date) -> dict[int, Decimal]:
    """Each balance account's balance at the end of `month`: the out of its latest row up to it."""
    rows = AccountBalance.objects.filter(
        company=company,
        **BALANCE.lookups(),
        month__lte=month,
    )
    if connection.vendor == "postgresql":
        # DISTINCT ON walks the (company, account, month) index once.
        latest = rows.order_by("account_number", "-month").distinct("account_number")
    else:
        newest = (
            AccountBalance.objects.filter(
                company=company, account_number=OuterRef("account_number"), month__lte=month
            )
            .order_by("-month")
            .values("month")[:1]
        )
        latest = rows.filter(month=Subquery(newest))
    return dict(latest.values_list("account_number", "balance_out"))


def results_through(
    *, company: Company, now: FiscalYear, at: datetime.date, before: FiscalYear
) -> tuple[Decimal, Decimal]:
    """Raw sum of result accounts (3000–8999) in [now.start, at] and over the whole `before` year."""
    totals = AccountBalance.objects.filter(
        company=company,
        **RESULT.lookups(),
        month__gte=before.start,
        month__lte=at,
    ).aggregate(
        now=Sum("balance_change", filter=Q(month__gte=now.start)),
        before=Sum("balance_change", filter=Q(month__lt=before.end)),
    )
    return money(totals["now"]), money(totals["before"])


def _balance_columns(
    company: Company, months: list[datetime.date], extra: datetime.date
) -> tuple[list[dict[int, Decimal]], dict[int, Decimal]]:
    """Each balance account's balance at the end of each of `months`, and at the end of `extra`
    (raw signs; 3 queries)."""
    running = balances_at(company=company, month=add_months(months[0], -1))
    rows = (
        AccountBalance.objects.filter(
            company=company, **BALANCE.lookups(), month__gte=months[0], month__lte=months[-1]
        )
        .order_by("month")
        .values_list("account_number", "month", "balance_out")
    )
    outs: dict[datetime.date, dict[int, Decimal]] = defaultdict(dict)
    for number, month, out in rows:
        outs[month][number] = out
    columns = []
    for month in months:
        running = {**running, **outs.get(month, {})}
        columns.append(running)
    return columns, balances_at(company=company, month=extra)


def _posting_balance_columns(
    company: Company, months: list[datetime.date], extra: datetime.date, dimensions: Dimensions
) -> tuple[list[dict[int, Decimal]], dict[int, Decimal]]:
    """As _balance_columns, summed from the stored postings of a department and/or project."""
    rows = (
        Posting.objects.filter(
            company=company,
            **BALANCE.lookups(),
            **dimensions.lookups(),
            date__lt=month_next(max(months[-1], extra)),
        )
        .annotate(month=TruncMonth("date"))
        .values("account_number", "month")
        .annotate(total=Sum("amount"))
        .values_list("account_number", "month", "total")
    )
    changes: dict[datetime.date, dict[int, Decimal]] = defaultdict(dict)
    for number, month, total in rows:
        changes[month][number] = money(total)

    def at_end_of(last: datetime.date) -> dict[int, Decimal]:
        out: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for month, by_account in changes.items():
            if month <= last:
                for number, change in by_account.items():
                    out[number] += change
        return dict(out)

    return [at_end_of(m) for m in months], at_end_of(extra)


def _result_columns(
    company: Company,
    months: list[datetime.date],
    previous_year: FiscalYear,
    start_month: int,
    dimensions: Dimensions | None,
) -> tuple[list[Decimal], Decimal]:
    """Raw sum of result accounts from each month's fiscal-year start through it, and over the
    whole previous year (1 query)."""
    low = min(fiscal_year_of(months[0], start_month).start, previous_year.start)
    rows: Iterable[tuple[datetime.date, Decimal]]
    if dimensions is None:
        rows = (
            AccountBalance.objects.filter(
                company=company, **RESULT.lookups(), month__gte=low, month__lte=months[-1]
            )
            .values("month")
            .annotate(total=Sum("balance_change"))
            .values_list("month", "total")
        )
    else:
        rows = (
            Posting.objects.filter(
                company=company,
                **RESULT.lookups(),
                **dimensions.lookups(),
                date__gte=low,
                date__lt=month_next(max(months[-1], previous_year.months[-1])),
            )
            .annotate(month=TruncMonth("date"))
            .values("month")
            .annotate(total=Sum("amount"))
            .values_list("month", "total")
        )
    by_month = {month: money(total) for month, total in rows}

    def through(month: datetime.date) -> Decimal:
        start = fiscal_year_of(month, start_month).start
        return sum((v for m, v in by_month.items() if start <= m <= month), ZERO)

    before = sum((v for m, v in by_month.items() if previous_year.contains(m)), ZERO)
    return [through(m) for m in months], before


def balance_sheet_at(
    *, company: Company, period: Period, dimensions: Dimensions | None = None
) -> BalanceSheet:
    """The balance sheet at the end of each month of the period (one column for one month), with
    the previous fiscal year end and the change to the last month (5 queries).

    With `dimensions` the balances are the sums of the stored postings of that department
    and/or project (from the first stored month on: `postings_from`)."""
    at = period.through
    months = period.months
    previous_year = period.fiscal_year.previous()
    previous_at = previous_year.months[-1]
    if dimensions is None:
        columns, before = _balance_columns(company, months, previous_at)
    else:
        columns, before = _posting_balance_columns(company, months, previous_at, dimensions)
    results, result_before = _result_columns(
        company, months, previous_year, period.start_month, dimensions
    )
    names = _account_names(company=company, accounts=BALANCE)
    numbers = sorted(set().union(*columns, before))
    sign = 1 if period.is_raw else -1
    assets = _balance_groups(BALANCE_ASSETS, numbers, columns, before, names, period.is_raw)
    equity_liabilities = _balance_groups(
        BALANCE_EQUITY_LIABILITIES, numbers, columns, before, names, period.is_raw
    )
    # The year's result is still on the result accounts until the year-end closing voucher moves it
    # to equity (8960 → 2050); without this line assets could never equal equity and liabilities.
    result_line = BalanceLine(
        "unallocated_result",
        _("Result for the year, not yet allocated"),
        "line",
        [r * sign for r in results],
        result_before * sign,
    )
    equity_liabilities.insert(1, result_line)
    total_assets = _sum_line("total_assets", _("Total assets"), assets, len(months))
    total_el = _sum_line(
        "total_equity_liabilities",
        _("Total equity and liabilities"),
        equity_liabilities,
        len(months),
    )
    # Raw signs: the two sides are already opposite, so they must add up to zero; display signs
    # show both sides positive, so they must be equal.
    side = 1 if period.is_raw else -1
    check = BalanceLine(
        "check",
        _("Difference (assets − equity and liabilities)"),
        "check",
        [a + side * e for a, e in zip(total_assets.by_month, total_el.by_month, strict=True)],
        total_assets.previous + side * total_el.previous,
    )
    sheet = BalanceSheet(
        company,
        period,
        at,
        previous_at,
        assets,
        equity_liabilities,
        total_assets,
        total_el,
        check,
        months=months,
        dimensions=dimensions,
    )
    if dimensions is not None:
        first = PostingMonth.objects.filter(company=company).order_by("month").first()
        sheet.postings_from = first.month if first else None
    return sheet


def _balance_groups(
    specs: tuple[GroupSpec, ...],
    numbers: list[int],
    columns: list[dict[int, Decimal]],
    before: dict[int, Decimal],
    names: dict[int, str],
    is_raw: bool,
) -> list[BalanceLine]:
    lines = []
    for spec in specs:
        sign = display_sign(spec.nature, is_raw)
        accounts = [
            BalanceAccount(
                n,
                names.get(n, ""),
                [column.get(n, ZERO) * sign for column in columns],
                before.get(n, ZERO) * sign,
            )
            for n in numbers
            if n in spec
        ]
        lines.append(
            BalanceLine(
                spec.key,
                str(spec.label),
                "group",
                _column_sums([a.by_month for a in accounts], len(columns)),
                sum((a.previous for a in accounts), ZERO),
                accounts,
            )
        )
    return lines


def _sum_line(key: str, label: str, lines: list[BalanceLine], width: int) -> BalanceLine:
    return BalanceLine(
        key,
        label,
        "sum",
        _column_sums([line.by_month for line in lines], width),
        sum((line.previous for line in lines), ZERO),
    )


# ---- figures status ----------------------------------------------------------------------------


def figures_status_for(*, company: Company) -> FiguresStatus:
    """The sync's FiguresStatus (figures as of, incomplete reasons, runs) for the company."""
    return figures_status(company=company)

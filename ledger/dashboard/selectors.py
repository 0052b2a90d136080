"""One row per firm the user can open, with the figures an accounting office scans every morning.

Built on the overview of my companies (`ledger.figures.overview`: connection, last sync, figures as
of, waiting and failed transactions) and, for all firms at once, three more queries whatever their
number: the months each firm has with the totals the sync stores on them (MonthSync: the fiscal
year, `ledger.periods`; the month's net result; its closing current assets and short-term debt),
the company-level budget totals per firm and month (BudgetTotal, written with the budget rows), and
the last report pack. No balance or budget row is summed here: for 200 firms that was most of the
page's time (the sums are kept where the rows are written, `ledger.sync.month_replace` and
`ledger.budgets.totals`, and tested equal to the rows' sums).

* Result this year: the net result (3000–8799, the P&L's "Net result for the year", profit
  positive) of the firm's fiscal year to date, through the current month (Oslo); last year: the
  same months a year earlier; budget: the company-level budget of the same months
  (`ledger.budgets`), variance = result − budget and its percentage of the budget.
* Liquidity ratio: as `ledger.figures.keyfigures.key_figures` computes it (current assets
  14xx–19xx / short-term debt 23xx–29xx), at the end of the firm's last synced month up to the
  current one (that month's stored closing balances: the sync stores a row for every account
  whose balance is not zero, every month, so they are each account's latest balance), instead of
  that function's four queries per firm.
* The last report pack: the newest `ReportPack` of the firm (`ledger.packs`), any state.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, NamedTuple

from django.db.models import Max, Q, Subquery, Sum
from django.utils.translation import gettext_lazy as _
from django_scopes import scope, scopes_disabled

from companies.models import User
from ledger.figures.keyfigures import KeyFigure
from ledger.figures.overview import OverviewRow, companies_figures_overview
from ledger.models import BudgetTotal, MonthSync, ReportPack
from ledger.periods import (
    FiscalYear,
    MonthSummary,
    add_months,
    fiscal_year_of,
    fiscal_year_start_month,
    month_start,
    today_local,
)

ZERO = Decimal(0)
DASHBOARD_SORTS = (
    "name",
    "result",
    "last_year",
    "budget",
    "liquidity",
    "waiting",
    "failed",
    "sync",
    "pack",
)


@dataclass(frozen=True)
class PackInfo:
    """The newest report pack of a firm: its month, status and when it was made."""

    id: int
    month: datetime.date
    status: str
    created_at: datetime.datetime


@dataclass
class DashboardRow:
    """One firm on the office dashboard."""

    overview: OverviewRow
    fiscal_year: FiscalYear
    has_figures: bool
    result: Decimal
    result_last_year: Decimal
    budget: Decimal | None  # None: no company-level budget for these months
    liquidity: KeyFigure
    pack: PackInfo | None = None

    @cached_property
    def company(self) -> Any:
        return self.overview.company

    @cached_property
    def change(self) -> Decimal:
        return self.result - self.result_last_year

    @cached_property
    def change_pct(self) -> Decimal | None:
        return _pct(self.change, self.result_last_year)

    @cached_property
    def variance(self) -> Decimal | None:
        return None if self.budget is None else self.result - self.budget

    @cached_property
    def variance_pct(self) -> Decimal | None:
        return None if self.budget is None else _pct(self.result - self.budget, self.budget)

    @cached_property
    def liquidity_value(self) -> Decimal | None:
        return self.liquidity.value


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / abs(whole) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def office_dashboard(
    *, user: User, sort: str = "name", today: datetime.date | None = None
) -> list[DashboardRow]:
    """Every firm of the user with result, budget, liquidity, transactions, sync and last pack,
    sorted by `sort` (a DASHBOARD_SORTS key, "-" first for descending); constant queries."""
    overview = companies_figures_overview(user=user)
    if not overview:
        return []
    companies = [row.company for row in overview]
    ids = [c.pk for c in companies]
    current = month_start(today or today_local())
    with scope(company=companies):
        months = _synced_months(ids)
        years = {pk: fiscal_year_of(current, _start_month(months.get(pk, []))) for pk in ids}
        budgets = _budgets(years, current)
        packs = _last_packs(ids)
    rows = []
    for row in overview:
        pk = row.company.pk
        fiscal_year = years[pk]
        firm_months = months.get(pk, [])
        first, last_first = fiscal_year.start, add_months(fiscal_year.start, -12)
        last_current = add_months(current, -12)
        result = sum((m.net_result for m in firm_months if first <= m.month <= current), ZERO)
        result_last_year = sum(
            (m.net_result for m in firm_months if last_first <= m.month <= last_current), ZERO
        )
        last = next((m for m in reversed(firm_months) if m.month <= current), None)
        budget = budgets.get(pk)
        rows.append(
            DashboardRow(
                overview=row,
                fiscal_year=fiscal_year,
                has_figures=last is not None,
                result=-result,
                result_last_year=-result_last_year,
                budget=-budget[0] if budget and budget[1] else None,
                # Display signs, as key_figures: assets as stored (debit +), debt flipped (credit +).
                liquidity=_liquidity_figure(last.current_assets, -last.short_term_debt)
                if last
                else _liquidity_figure(ZERO, ZERO),
                pack=packs.get(pk),
            )
        )
    return dashboard_sorted(rows, sort)


class _Month(NamedTuple):
    """A synced month's counts (the fiscal-year rule's evidence) and the totals the sync stored on
    its MonthSync (ledger signs, `ledger.sync.month_replace.month_totals`). A tuple: a frozen
    dataclass per month of 200 firms cost more than the rest of the selector's Python."""

    month: datetime.date
    result_rows: int
    result_rows_opened: int
    net_result: Decimal
    current_assets: Decimal
    short_term_debt: Decimal


def _synced_months(ids: list[int]) -> dict[int, list[_Month]]:
    """Each firm's months with balances, oldest first (one query)."""
    months: dict[int, list[_Month]] = defaultdict(list)
    rows = (
        MonthSync.objects.filter(company_id__in=ids, balance_rows__gt=0)
        .order_by("company_id", "month")
        .values_list(
            "company_id",
            "month",
            "result_rows",
            "result_rows_opened",
            "net_result",
            "current_assets",
            "short_term_debt",
        )
    )
    for pk, month, result_rows, opened, net_result, assets, debt in rows:
        months[pk].append(_Month(month, result_rows, opened, net_result, assets, debt))
    return months


def _start_month(months: list[_Month]) -> int:
    """The fiscal-year rule (`ledger.periods.fiscal_year_start_month`) over a firm's months.

    The rule answers January whenever no month carried a result balance in (its first test), so
    its MonthSummary rows are only built for the firms where some month did."""
    if not any(m.result_rows_opened for m in months):
        return fiscal_year_start_month([])
    return fiscal_year_start_month(
        MonthSummary(m.month, m.result_rows, m.result_rows_opened) for m in months
    )


def _budgets(
    years: dict[int, FiscalYear], current: datetime.date
) -> dict[int, tuple[Decimal, int]]:
    """{firm: (company-level budget of the net-result accounts, ledger signs, budget rows)} of the
    firm's fiscal year through `current`, from the stored monthly totals (BudgetTotal, written with
    the budget rows, `ledger.budgets.totals`); one query, one term per distinct fiscal-year start."""
    by_start: dict[datetime.date, list[int]] = defaultdict(list)
    for pk, fiscal_year in years.items():
        by_start[fiscal_year.start].append(pk)
    this_year = Q(pk__in=[])
    for start, pks in by_start.items():
        this_year |= Q(company_id__in=pks, month__gte=start, month__lte=current)
    rows = (
        BudgetTotal.objects.filter(this_year)
        .values("company_id")
        .annotate(total=Sum("net_result"), rows=Sum("rows"))
        .values_list("company_id", "total", "rows")
    )
    return {pk: (total or ZERO, n or 0) for pk, total, n in rows}


def _liquidity_figure(current_assets: Decimal, short_term_debt: Decimal) -> KeyFigure:
    """The liquidity ratio as key_figures builds it (same label, formula and rounding)."""
    return KeyFigure(
        "liquidity_ratio",
        _("Liquidity ratio"),
        _("Current assets (14xx–19xx) / short-term debt (23xx–29xx), at the period's end"),
        current_assets,
        short_term_debt,
        is_percent=False,
    )


def _last_packs(ids: list[int]) -> dict[int, PackInfo]:
    """The newest report pack per firm (one query)."""
    with scopes_disabled():
        newest = (
            ReportPack.objects.filter(company_id__in=ids)
            .values("company_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        packs = ReportPack.objects.filter(id__in=Subquery(newest)).values_list(
            "id", "company_id", "month", "status", "created_at"
        )
        return {pk: PackInfo(pid, month, status, at) for pid, pk, month, status, at in packs}


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _sort_keys() -> dict[str, Callable[[DashboardRow], Any]]:
    return {
        "name": lambda r: r.company.name.lower(),
        "result": lambda r: r.result,
        "last_year": lambda r: r.change,
        "budget": lambda r: r.variance if r.variance is not None else Decimal("-1e20"),
        "liquidity": lambda r: r.liquidity_value if r.liquidity_value is not None else Decimal(-1),
        "waiting": lambda r: r.overview.waiting or 0,
        "failed": lambda r: r.overview.failed or 0,
        "sync": lambda r: r.overview.last_run.created_at if r.overview.last_run else _EPOCH,
        "pack": lambda r: r.pack.created_at if r.pack else _EPOCH,
    }


def dashboard_sorted(rows: list[DashboardRow], sort: str) -> list[DashboardRow]:
    """Sort by `sort` (or "-sort"); an unknown key sorts by name. Ties stay by name."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    keys = _sort_keys()
    if key not in keys:
        key, descending = "name", False
    rows = sorted(rows, key=keys["name"])
    return sorted(rows, key=keys[key], reverse=descending)

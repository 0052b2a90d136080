"""One row per firm the user can open, with the figures an accounting office scans every morning.

Built on the overview of my companies (`ledger.figures.overview`: connection, last sync, figures as
of, waiting and failed transactions) and, for all firms at once, five more queries whatever their
number: the months each firm has (its fiscal year, `ledger.periods`), result sums per firm and
month, company-level budget sums per firm and month, the latest balances of current assets and
short-term debt, and the last report pack.

* Result this year: the net result (3000–8799, the P&L's "Net result for the year", profit
  positive) of the firm's fiscal year to date, through the current month (Oslo); last year: the
  same months a year earlier; budget: the company-level budget of the same months
  (`ledger.budgets`), variance = result − budget and its percentage of the budget.
* Liquidity ratio: as `ledger.figures.keyfigures.key_figures` computes it (current assets
  14xx–19xx / short-term debt 23xx–29xx), at the end of the firm's last synced month up to the
  current one, for every firm in one query instead of that function's four per firm.
* The last report pack: the newest `ReportPack` of the firm (`ledger.packs`), any state.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from django.db.models import Count, Max, Q, Subquery, Sum
from django.utils.translation import gettext_lazy as _
from django_scopes import scope, scopes_disabled

from companies.models import User
from ledger.figures.keyfigures import CURRENT_ASSETS, NET_RESULT, SHORT_TERM_DEBT, KeyFigure
from ledger.figures.overview import OverviewRow, companies_figures_overview
from ledger.models import AccountBalance, Budget, MonthSync, ReportPack
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
        years, last_synced = _fiscal_years(ids, current)
        windows = _windows(years, current)
        results = _sums(AccountBalance, "balance_change", ids, windows)
        budgets = _sums(Budget, "amount", ids, windows, department_id=None, project_id=None)
        liquidity = _liquidity(last_synced)
        packs = _last_packs(ids)
    rows = []
    for row in overview:
        pk = row.company.pk
        result, result_last_year, _n = results.get(pk, (ZERO, ZERO, 0))
        budget = budgets.get(pk)
        rows.append(
            DashboardRow(
                overview=row,
                fiscal_year=years[pk],
                has_figures=pk in last_synced,
                result=-result,
                result_last_year=-result_last_year,
                budget=-budget[0] if budget and budget[2] else None,
                liquidity=liquidity.get(pk) or _liquidity_figure(ZERO, ZERO),
                pack=packs.get(pk),
            )
        )
    return dashboard_sorted(rows, sort)


def _fiscal_years(
    ids: list[int], current: datetime.date
) -> tuple[dict[int, FiscalYear], dict[int, datetime.date]]:
    """Each firm's fiscal year containing `current` (the fiscal-year rule) and its last synced
    month up to `current` (one query)."""
    summaries: dict[int, list[MonthSummary]] = defaultdict(list)
    rows = (
        MonthSync.objects.filter(company_id__in=ids, balance_rows__gt=0)
        .order_by("company_id", "month")
        .values_list("company_id", "month", "result_rows", "result_rows_opened")
    )
    last: dict[int, datetime.date] = {}
    for pk, month, result_rows, opened in rows:
        summaries[pk].append(MonthSummary(month, result_rows, opened))
        if month <= current:
            last[pk] = month
    years = {pk: fiscal_year_of(current, fiscal_year_start_month(summaries[pk])) for pk in ids}
    return years, last


def _windows(years: dict[int, FiscalYear], current: datetime.date) -> tuple[Q, Q, datetime.date]:
    """Filters for the months of this fiscal year to date and of the same months a year earlier,
    one term per distinct fiscal-year start (most firms share one), and the earliest month."""
    by_start: dict[datetime.date, list[int]] = defaultdict(list)
    for pk, fiscal_year in years.items():
        by_start[fiscal_year.start].append(pk)
    this_year, last_year = Q(pk__in=[]), Q(pk__in=[])
    for start, pks in by_start.items():
        this_year |= Q(company_id__in=pks, month__gte=start, month__lte=current)
        last_year |= Q(
            company_id__in=pks,
            month__gte=add_months(start, -12),
            month__lte=add_months(current, -12),
        )
    return this_year, last_year, add_months(min(by_start), -12)


def _sums(
    model: Any, field: str, ids: list[int], windows: tuple[Q, Q, datetime.date], **filters: Any
) -> dict[int, tuple[Decimal, Decimal, int]]:
    """{firm: (raw sum this year to date, raw sum of last year's same months, rows this year)} of
    `field` over the net-result accounts (one query, one row per firm)."""
    this_year, last_year, first = windows
    rows = (
        model.objects.filter(
            company_id__in=ids, month__gte=first, **NET_RESULT.lookups(), **filters
        )
        .values("company_id")
        .annotate(
            now=Sum(field, filter=this_year),
            before=Sum(field, filter=last_year),
            rows=Count("id", filter=this_year),
        )
        .values_list("company_id", "now", "before", "rows")
    )
    return {pk: (now or ZERO, before or ZERO, n) for pk, now, before, n in rows}


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


def _liquidity(last: dict[int, datetime.date]) -> dict[int, KeyFigure]:
    """Each firm's liquidity ratio at the end of its last synced month (one query).

    The sync stores a row for every account whose balance in, change or out is not zero, every
    month (`ledger.sync.services`, "Grid"), so the month's own rows are each account's latest
    balance: what key_figures reads as the out of its latest row up to the month."""
    by_month: dict[datetime.date, list[int]] = defaultdict(list)
    for pk, month in last.items():
        by_month[month].append(pk)
    if not by_month:
        return {}
    at_month = Q(pk__in=[])
    for month, pks in by_month.items():
        at_month |= Q(company_id__in=pks, month=month)
    rows = (
        AccountBalance.objects.filter(
            at_month,
            account_number__gte=CURRENT_ASSETS.first,
            account_number__lt=SHORT_TERM_DEBT.end,
        )
        .values("company_id")
        .annotate(
            assets=Sum("balance_out", filter=Q(**CURRENT_ASSETS.lookups())),
            debt=Sum("balance_out", filter=Q(**SHORT_TERM_DEBT.lookups())),
        )
        .values_list("company_id", "assets", "debt")
    )
    # Display signs, as key_figures: assets as stored (debit +), debt flipped (credit +).
    return {pk: _liquidity_figure(a or ZERO, -(d or ZERO)) for pk, a, d in rows}


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

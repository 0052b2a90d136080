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
  14xx–19xx / short-term debt 23xx–29xx, each account's latest balance up to the current month),
  for every firm in one query instead of that function's four per firm.
* The last report pack: the newest pack of the reporting app (`reporting.ReportPack`) when that
  app is installed; looked up through the app registry so that the ledger imports nothing above it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Max, OuterRef, Subquery, Sum
from django.utils.translation import gettext_lazy as _
from django_scopes import scope, scopes_disabled

from companies.models import User
from ledger.figures.keyfigures import CURRENT_ASSETS, NET_RESULT, SHORT_TERM_DEBT, KeyFigure
from ledger.figures.overview import OverviewRow, companies_figures_overview
from ledger.models import AccountBalance, Budget, MonthSync
from ledger.periods import (
    FiscalYear,
    MonthSummary,
    add_months,
    fiscal_year_of,
    fiscal_year_start_month,
    month_next,
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

    @property
    def company(self) -> Any:
        return self.overview.company

    @property
    def change(self) -> Decimal:
        return self.result - self.result_last_year

    @property
    def change_pct(self) -> Decimal | None:
        return _pct(self.change, self.result_last_year)

    @property
    def variance(self) -> Decimal | None:
        return None if self.budget is None else self.result - self.budget

    @property
    def variance_pct(self) -> Decimal | None:
        return None if self.budget is None else _pct(self.result - self.budget, self.budget)


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part / abs(whole) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def has_report_packs() -> bool:
    """True when the reporting app (with its ReportPack model) is installed."""
    return apps.is_installed("reporting")


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
        years = _fiscal_years(ids, current)
        first = min(fy.start for fy in years.values()).replace(year=current.year - 2)
        results = _sums_by_month(AccountBalance, "balance_change", ids, first, current)
        budgets = _sums_by_month(
            Budget, "amount", ids, first, current, department_id=None, project_id=None
        )
        liquidity = _liquidity(ids, current)
        packs = _last_packs(ids) if has_report_packs() else {}
    rows = []
    for row in overview:
        pk = row.company.pk
        fiscal_year = years[pk]
        this_year = (fiscal_year.start, month_next(current))
        last_year = (add_months(this_year[0], -12), add_months(this_year[1], -12))
        by_month = results.get(pk, {})
        budget_months = budgets.get(pk)
        rows.append(
            DashboardRow(
                overview=row,
                fiscal_year=fiscal_year,
                has_figures=bool(by_month),
                result=-_window(by_month, *this_year),
                result_last_year=-_window(by_month, *last_year),
                budget=-_window(budget_months, *this_year) if budget_months else None,
                liquidity=liquidity.get(pk) or _liquidity_figure(ZERO, ZERO),
                pack=packs.get(pk),
            )
        )
    return dashboard_sorted(rows, sort)


def _fiscal_years(ids: list[int], current: datetime.date) -> dict[int, FiscalYear]:
    """Each firm's fiscal year containing `current`, by the fiscal-year rule (one query)."""
    summaries: dict[int, list[MonthSummary]] = defaultdict(list)
    rows = (
        MonthSync.objects.filter(company_id__in=ids, balance_rows__gt=0)
        .order_by("company_id", "month")
        .values_list("company_id", "month", "result_rows", "result_rows_opened")
    )
    for pk, month, result_rows, opened in rows:
        summaries[pk].append(MonthSummary(month, result_rows, opened))
    return {pk: fiscal_year_of(current, fiscal_year_start_month(summaries[pk])) for pk in ids}


def _sums_by_month(
    model: Any,
    field: str,
    ids: list[int],
    first: datetime.date,
    current: datetime.date,
    **filters: Any,
) -> dict[int, dict[datetime.date, Decimal]]:
    """{firm: {month: raw sum of `field` over the net-result accounts}} in [first, current]."""
    rows = (
        model.objects.filter(
            company_id__in=ids,
            month__gte=first,
            month__lte=current,
            **NET_RESULT.lookups(),
            **filters,
        )
        .values("company_id", "month")
        .annotate(total=Sum(field))
        .values_list("company_id", "month", "total")
    )
    sums: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    for pk, month, total in rows:
        sums[pk][month] = total or ZERO
    return sums


def _window(
    by_month: dict[datetime.date, Decimal] | None, start: datetime.date, end: datetime.date
) -> Decimal:
    return sum((v for m, v in (by_month or {}).items() if start <= m < end), ZERO)


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


def _liquidity(ids: list[int], current: datetime.date) -> dict[int, KeyFigure]:
    """Each firm's liquidity ratio from its accounts' latest balances up to `current` (1 query)."""
    rows = AccountBalance.objects.filter(
        company_id__in=ids,
        account_number__gte=CURRENT_ASSETS.first,
        account_number__lt=SHORT_TERM_DEBT.end,
        month__lte=current,
    )
    if connection.vendor == "postgresql":
        latest = rows.order_by("company_id", "account_number", "-month").distinct(
            "company_id", "account_number"
        )
    else:
        newest = (
            AccountBalance.objects.filter(
                company_id=OuterRef("company_id"),
                account_number=OuterRef("account_number"),
                month__lte=current,
            )
            .order_by("-month")
            .values("month")[:1]
        )
        latest = rows.filter(month=Subquery(newest))
    assets: dict[int, Decimal] = defaultdict(Decimal)
    debt: dict[int, Decimal] = defaultdict(Decimal)
    for pk, number, out in latest.values_list("company_id", "account_number", "balance_out"):
        if number in CURRENT_ASSETS:
            assets[pk] += out
        elif number in SHORT_TERM_DEBT:
            debt[pk] += out
    # Display signs, as key_figures: assets as stored (debit +), debt flipped (credit +).
    return {pk: _liquidity_figure(assets[pk], -debt[pk]) for pk in set(assets) | set(debt)}


def _last_packs(ids: list[int]) -> dict[int, PackInfo]:
    """The newest report pack per firm (one query)."""
    pack_model = apps.get_model("reporting", "ReportPack")
    with scopes_disabled():
        newest = (
            pack_model.objects.filter(company_id__in=ids)
            .values("company_id")
            .annotate(last=Max("id"))
            .values_list("last", flat=True)
        )
        packs = pack_model.objects.filter(id__in=Subquery(newest)).values_list(
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
        "liquidity": lambda r: r.liquidity.value if r.liquidity.value is not None else Decimal(-1),
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

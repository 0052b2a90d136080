"""Figures pages: the overview of my companies, P&L, balance sheet, drill-down and exports.

Every choice (fiscal year `ar`, month `mnd`, signs `fortegn`, open groups `apne`, sort `sort`,
page `side`, the P&L's department `avd` and project `prosj`) lives in the query string, so a view
can be bookmarked and shared.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from companies.models import Role
from companies.tenancy import AuthenticatedRequest, CompanyRequest, company_role_required
from ledger.figures import charts, drilldown, exports
from ledger.figures.drilldown import postings_for_account_month
from ledger.figures.layout import GROUP_KEYS
from ledger.figures.overview import OVERVIEW_SORTS, companies_figures_overview
from ledger.figures.selectors import (
    Dimensions,
    Period,
    balance_sheet_at,
    figures_status_for,
    period_resolve,
    pnl_dimension_choices,
    pnl_dimensions_resolve,
    pnl_for_period,
)
from ledger.params import MAX_ID, ParamError, int_param
from ledger.periods import fiscal_year_of, fiscal_year_start_month_of

RAW_SIGNS = "tripletex"
ALL_GROUPS = "alle"
# The P&L's filter: our Department and Project ids (avdeling, prosjekt).
DIMENSION_PARAMS = ("avd", "prosj")
# Tripletex pages postings with an offset (`from`); far beyond any account-month's postings.
MAX_PAGE = 10_000


def _period(request: CompanyRequest, *, strict: bool = False) -> Period:
    """The period of ?ar=&mnd=. A page says what was wrong with a bad value and shows the default
    instead; an export (strict) raises ParamError, since a file cannot carry the message."""
    choice: dict[str, int | None] = {}
    for name, key, (low, high) in (("ar", "year", (1900, 2100)), ("mnd", "month", (1, 12))):
        try:
            choice[key] = int_param(request.GET, name, minimum=low, maximum=high)
        except ParamError as exc:
            if strict:
                raise
            messages.warning(request, str(exc))
            choice[key] = None
    return period_resolve(
        company=request.company,
        year=choice["year"],
        month=choice["month"],
        is_raw=request.GET.get("fortegn") == RAW_SIGNS,
    )


def _dimensions(request: CompanyRequest, *, strict: bool = False) -> Dimensions | None:
    """The P&L filter of ?avd=&prosj= (our department and project ids), as _period reads ?ar=."""
    chosen: dict[str, int | None] = {}
    for name in DIMENSION_PARAMS:
        try:
            chosen[name] = int_param(request.GET, name, minimum=1, maximum=MAX_ID)
        except ParamError as exc:
            if strict:
                raise
            messages.warning(request, str(exc))
            chosen[name] = None
    if not any(chosen.values()):
        return None
    return pnl_dimensions_resolve(
        company=request.company, department=chosen["avd"], project=chosen["prosj"]
    )


def _query(period: Period, **extra: str) -> str:
    params = {"ar": str(period.fiscal_year.year), "mnd": str(period.through.month)}
    if period.is_raw:
        params["fortegn"] = RAW_SIGNS
    params.update({k: v for k, v in extra.items() if v})
    return urlencode(params)


def _open_groups(request: CompanyRequest) -> tuple[set[str], bool]:
    raw = request.GET.get("apne", "")
    if raw == ALL_GROUPS:
        return set(GROUP_KEYS), True
    return {key for key in raw.split(",") if key in GROUP_KEYS}, False


def _toggle_links(period: Period, open_groups: set[str], keep: dict[str, str]) -> dict[str, str]:
    """For each group, the query string that opens it (or closes it when open)."""
    links = {}
    for key in GROUP_KEYS:
        toggled = open_groups ^ {key}
        opened = ",".join(k for k in GROUP_KEYS if k in toggled)
        links[key] = _query(period, apne=opened, **keep)
    return links


def _page_context(
    request: CompanyRequest, period: Period, *, keep: dict[str, str] | None = None
) -> dict[str, object]:
    """What every figures page shows; `keep` are query parameters its links carry along."""
    company = request.company
    keep = keep or {}
    open_groups, all_open = _open_groups(request)
    apne = request.GET.get("apne", "")
    return {
        "company": company,
        "period": period,
        "status": figures_status_for(company=company),
        "query": _query(period, **keep),
        "open_groups": open_groups,
        "all_open": all_open,
        "open_param": apne,
        "toggle": _toggle_links(period, open_groups, keep),
        "open_all_query": _query(period, apne=ALL_GROUPS, **keep),
        "close_all_query": _query(period, **keep),
        "signs_query": {
            "display": _query(replace(period, is_raw=False), apne=apne, **keep),
            "raw": _query(replace(period, is_raw=True), apne=apne, **keep),
        },
        # Relative to /c/<slug>/resultat/ and /balanse/: thousands of links, so keep them short.
        "drill_base": "../posteringer/",
    }


@require_GET
@login_required
def overview(request: AuthenticatedRequest) -> HttpResponse:
    """Overview of my companies: connection, figures as of, last sync, open transactions."""
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in OVERVIEW_SORTS:
        sort = "name"
    rows = companies_figures_overview(user=request.user, sort=sort)
    return render(
        request,
        "ledger/figures/overview.html",
        {"rows": rows, "sort": sort, "sorts": OVERVIEW_SORTS},
    )


@company_role_required(Role.ACCOUNTANT)
@require_GET
def pnl(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Resultatregnskap by month with YTD, last year and variance, charts and drill-down links."""
    period = _period(request)
    dimensions = _dimensions(request)
    report = pnl_for_period(company=request.company, period=period, dimensions=dimensions)
    keep = {name: request.GET.get(name, "") for name in DIMENSION_PARAMS} if dimensions else {}
    context = _page_context(request, period, keep=keep)
    departments, projects = pnl_dimension_choices(company=request.company)
    context.update(
        {
            "pnl": report,
            "departments": departments,
            "projects": projects,
            "chosen": keep,
            "chart_months": charts.pnl_months_svg(report.chart),
            "chart_trend": charts.result_trend_svg(report.chart),
        }
    )
    return render(request, "ledger/figures/pnl.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def balance(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Balanse at a month end against the previous fiscal year end, with the check line."""
    period = _period(request)
    sheet = balance_sheet_at(company=request.company, period=period)
    context = _page_context(request, period)
    context["sheet"] = sheet
    return render(request, "ledger/figures/balance.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def postings(
    request: CompanyRequest, company_slug: str, account: int, year: int, month: int
) -> HttpResponse:
    """The postings behind one account-month as the sync stored them, page by page."""
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        raise Http404("No such month.")
    try:
        page = int_param(request.GET, "side", minimum=1, maximum=MAX_PAGE) or 1
    except ParamError as exc:
        messages.warning(request, str(exc))
        page = 1
    result = postings_for_account_month(
        company=request.company,
        account_number=account,
        month=datetime.date(year, month, 1),
        page=page,
    )
    back = request.GET.get("fra", "")
    start_month = fiscal_year_start_month_of(company=request.company)
    fiscal_year = fiscal_year_of(result.month, start_month)
    return render(
        request,
        "ledger/figures/postings.html",
        {
            "result": result,
            "status": figures_status_for(company=request.company),
            "back_query": urlencode({"ar": fiscal_year.year, "mnd": month}),
            "back_to": "balance" if back == "balanse" else "pnl",
            "from_param": back,
        },
    )


@company_role_required(Role.ACCOUNTANT)
@require_POST
def postings_refresh(
    request: CompanyRequest, company_slug: str, account: int, year: int, month: int
) -> HttpResponse:
    """Refresh: pull the month's postings from Tripletex again, then show the account's."""
    if not (1 <= month <= 12 and 1900 <= year <= 2100):
        raise Http404("No such month.")
    error = drilldown.postings_refresh(company=request.company, month=datetime.date(year, month, 1))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The month's postings have been pulled from Tripletex."))
    target = reverse(
        "ledger:postings",
        kwargs={
            "company_slug": request.company.slug,
            "account": account,
            "year": year,
            "month": month,
        },
    )
    back = request.POST.get("fra", "")
    return redirect(f"{target}?{urlencode({'fra': back})}" if back else target)


def _download(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    if isinstance(content, str):
        # A byte-order mark makes Excel read the file as UTF-8 (æ, ø, å).
        content = "\ufeff".encode() + content.encode("utf-8")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _bad_params_answer_400(
    view: Callable[[CompanyRequest, str], HttpResponse],
) -> Callable[[CompanyRequest, str], HttpResponse]:
    """An export asked for with a bad ?ar= or ?mnd= answers 400 with the reason, as text."""

    @functools.wraps(view)
    def wrapped(request: CompanyRequest, company_slug: str) -> HttpResponse:
        try:
            return view(request, company_slug)
        except ParamError as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")

    return wrapped


def _pnl_table(request: CompanyRequest) -> tuple[exports.Table, str]:
    company = request.company
    period = _period(request, strict=True)
    dimensions = _dimensions(request, strict=True)
    report = pnl_for_period(company=company, period=period, dimensions=dimensions)
    table = exports.pnl_table(report, figures_status_for(company=company))
    name = f"resultat-{company.org_number}-{period.fiscal_year.year}-{period.through:%m}"
    return table, name


def _balance_table(request: CompanyRequest) -> tuple[exports.Table, str]:
    company = request.company
    period = _period(request, strict=True)
    sheet = balance_sheet_at(company=company, period=period)
    table = exports.balance_table(sheet, figures_status_for(company=company))
    return table, f"balanse-{company.org_number}-{period.through:%Y-%m}"


@company_role_required(Role.ACCOUNTANT)
@require_GET
@_bad_params_answer_400
def pnl_xlsx(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The P&L as an Excel workbook."""
    table, name = _pnl_table(request)
    return _download(exports.table_xlsx(table), f"{name}.xlsx", XLSX)


@company_role_required(Role.ACCOUNTANT)
@require_GET
@_bad_params_answer_400
def pnl_csv(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The P&L as CSV (semicolons, decimal comma)."""
    table, name = _pnl_table(request)
    return _download(exports.table_csv(table), f"{name}.csv", CSV)


@company_role_required(Role.ACCOUNTANT)
@require_GET
@_bad_params_answer_400
def balance_xlsx(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The balance sheet as an Excel workbook."""
    table, name = _balance_table(request)
    return _download(exports.table_xlsx(table), f"{name}.xlsx", XLSX)


@company_role_required(Role.ACCOUNTANT)
@require_GET
@_bad_params_answer_400
def balance_csv(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The balance sheet as CSV (semicolons, decimal comma)."""
    table, name = _balance_table(request)
    return _download(exports.table_csv(table), f"{name}.csv", CSV)

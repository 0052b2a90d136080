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
from ledger.budgets.selectors import has_budget
from ledger.figures import charts, drilldown, exports
from ledger.figures.drilldown import postings_for_account_month
from ledger.figures.keyfigures import cash_flow, key_figures
from ledger.figures.layout import GROUP_KEYS
from ledger.figures.overview import OVERVIEW_SORTS, companies_figures_overview
from ledger.figures.selectors import (
    COMPARE_BUDGET,
    COMPARE_LAST_YEAR,
    CUSTOM,
    MONTH,
    QUARTER,
    ROLLING_12,
    YTD,
    Dimensions,
    Period,
    balance_sheet_at,
    figures_status_for,
    period_kind_choices,
    period_resolve,
    pnl_dimension_choices,
    pnl_dimensions_resolve,
    pnl_for_period,
)
from ledger.params import MAX_ID, ParamError, int_param
from ledger.periods import fiscal_year_of, fiscal_year_start_month_of, month_parse

RAW_SIGNS = "tripletex"
ALL_GROUPS = "alle"
BUDGET_PARAM = "budsjett"
# ?periode=: month, quarter, year to date, rolling 12 months, a custom range of months.
KIND_PARAMS = {"mnd": MONTH, "kvartal": QUARTER, "hittil": YTD, "12mnd": ROLLING_12, "egen": CUSTOM}
PARAM_OF_KIND = {kind: param for param, kind in KIND_PARAMS.items()}
# The P&L's filter: our Department and Project ids (avdeling, prosjekt).
DIMENSION_PARAMS = ("avd", "prosj")
# Tripletex pages postings with an offset (`from`); far beyond any account-month's postings.
MAX_PAGE = 10_000


def _month_param(request: CompanyRequest, name: str) -> datetime.date | None:
    """?fom=2025-01 as its first day; None when absent. Raises ParamError."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = month_parse(raw)
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 2100:
        raise ParamError(
            _("%(name)s must be a month such as 2025-03, not “%(value)s”.")
            % {"name": name, "value": raw[:24]}
        )
    return value


def _period(request: CompanyRequest, *, strict: bool = False, default_kind: str = YTD) -> Period:
    """The period of ?periode=&ar=&mnd=&kv=&fom=&tom=&mot=. A page says what was wrong with a bad
    value and shows the default instead; an export (strict) raises ParamError, since a file
    cannot carry the message."""
    choice: dict[str, object] = {}
    readers: tuple[tuple[str, str, Callable[[], object]], ...] = (
        ("ar", "year", lambda: int_param(request.GET, "ar", minimum=1900, maximum=2100)),
        ("mnd", "month", lambda: int_param(request.GET, "mnd", minimum=1, maximum=12)),
        ("kv", "quarter", lambda: int_param(request.GET, "kv", minimum=1, maximum=4)),
        ("fom", "first", lambda: _month_param(request, "fom")),
        ("tom", "last", lambda: _month_param(request, "tom")),
    )
    for _name, key, read in readers:
        try:
            choice[key] = read()
        except ParamError as exc:
            if strict:
                raise
            messages.warning(request, str(exc))
            choice[key] = None
    kind = KIND_PARAMS.get(request.GET.get("periode", ""), default_kind)
    if kind == CUSTOM and (choice["first"] is None or choice["last"] is None):
        if strict:
            raise ParamError(_("A custom period needs both a first and a last month."))
        if choice["first"] or choice["last"]:
            messages.warning(request, _("Choose both the first and the last month of the period."))
        kind = default_kind
    return period_resolve(
        company=request.company,
        year=choice["year"],  # type: ignore[arg-type]
        month=choice["month"],  # type: ignore[arg-type]
        is_raw=request.GET.get("fortegn") == RAW_SIGNS,
        kind=kind,
        quarter=choice["quarter"],  # type: ignore[arg-type]
        first=choice["first"],  # type: ignore[arg-type]
        last=choice["last"],  # type: ignore[arg-type]
        compare=COMPARE_BUDGET if request.GET.get("mot") == BUDGET_PARAM else COMPARE_LAST_YEAR,
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


def _period_params(period: Period) -> dict[str, str]:
    """The query parameters that name the period (what a link must carry to show it again)."""
    params = {"periode": PARAM_OF_KIND[period.kind]}
    if period.kind == CUSTOM:
        params.update({"fom": f"{period.start:%Y-%m}", "tom": f"{period.through:%Y-%m}"})
    else:
        params.update({"ar": str(period.fiscal_year.year), "mnd": str(period.through.month)})
    if period.kind == QUARTER:
        params["kv"] = str(period.quarter)
    if period.is_budget:
        params["mot"] = BUDGET_PARAM
    if period.is_raw:
        params["fortegn"] = RAW_SIGNS
    return params


def _query(period: Period, **extra: str) -> str:
    params = _period_params(period)
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
    request: CompanyRequest, period: Period, *, dimensions: Dimensions | None = None
) -> dict[str, object]:
    """What every figures page shows: the period picker, the filter, links that keep both."""
    company = request.company
    keep = {name: request.GET.get(name, "") for name in DIMENSION_PARAMS} if dimensions else {}
    open_groups, all_open = _open_groups(request)
    apne = request.GET.get("apne", "")
    departments, projects = pnl_dimension_choices(company=company)
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
        "kinds": [(PARAM_OF_KIND[kind], label) for kind, label in period_kind_choices()],
        "kind_param": PARAM_OF_KIND[period.kind],
        "range_months": _range_months(period),
        "has_budget": has_budget(company=company),
        "budget_param": BUDGET_PARAM,
        "dimensions": dimensions,
        "departments": departments,
        "projects": projects,
        "chosen": keep,
        # Relative to /c/<slug>/resultat/ and /balanse/: thousands of links, so keep them short.
        "drill_base": "../posteringer/",
        # The drill-down shows the postings of the cell it came from: its signs, its filter.
        "drill_query": _drill_query(period, keep),
        "balance_drill_query": _drill_query(period, {"fra": "balanse", **keep}),
    }


def _drill_query(period: Period, keep: dict[str, str]) -> str:
    """The drill-down links' query string, HTML-escaped (it goes into thousands of href="…")."""
    params = {name: value for name, value in keep.items() if value}
    if period.is_raw:
        params["fortegn"] = RAW_SIGNS
    return "?" + urlencode(params).replace("&", "&amp;") if params else ""


def _range_months(period: Period) -> list[datetime.date]:
    """The months a custom range can start or end in: every month of the years with figures."""
    years = sorted(period.years, key=lambda fy: fy.start)
    return [m for fy in years for m in fy.months]


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
    """Resultatregnskap by month with the period's total, last year or budget and the variance,
    charts and drill-down links."""
    period = _period(request)
    dimensions = _dimensions(request)
    report = pnl_for_period(company=request.company, period=period, dimensions=dimensions)
    context = _page_context(request, period, dimensions=dimensions)
    context.update(
        {
            "pnl": report,
            "chart_months": charts.pnl_months_svg(report.chart),
            "chart_trend": charts.result_trend_svg(report.chart),
        }
    )
    return render(request, "ledger/figures/pnl.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def balance(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Balanse at each month end of the period against the previous fiscal year end, with the
    check line (one month by default)."""
    period = _period(request, default_kind=MONTH)
    dimensions = _dimensions(request)
    sheet = balance_sheet_at(company=request.company, period=period, dimensions=dimensions)
    context = _page_context(request, period, dimensions=dimensions)
    # The balance sheet compares with the previous year end, never with a budget.
    context.update({"sheet": sheet, "no_compare": True})
    return render(request, "ledger/figures/balance.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def key_figures_page(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Key figures with their formulas and the indirect cash-flow statement of the period."""
    period = _period(request)
    dimensions = _dimensions(request)
    company, start, end = request.company, period.start, period.end
    context = _page_context(request, period, dimensions=dimensions)
    context.update(
        {
            "figures": key_figures(
                company=company, date_from=start, date_to=end, dimensions=dimensions
            ),
            "cash_flow": cash_flow(
                company=company, date_from=start, date_to=end, dimensions=dimensions
            ),
            "no_compare": True,
        }
    )
    return render(request, "ledger/figures/keyfigures.html", context)


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
    is_raw = request.GET.get("fortegn") == RAW_SIGNS
    dimensions = _dimensions(request)
    result = postings_for_account_month(
        company=request.company,
        account_number=account,
        month=datetime.date(year, month, 1),
        page=page,
        is_raw=is_raw,
        dimensions=dimensions,
    )
    back = request.GET.get("fra", "")
    start_month = fiscal_year_start_month_of(company=request.company)
    fiscal_year = fiscal_year_of(result.month, start_month)
    back_params = {"ar": str(fiscal_year.year), "mnd": str(month)}
    keep = {"fra": back} if back else {}
    if is_raw:
        back_params["fortegn"] = keep["fortegn"] = RAW_SIGNS
    if dimensions is not None:
        for name in DIMENSION_PARAMS:
            if request.GET.get(name):
                back_params[name] = keep[name] = request.GET[name]
    return render(
        request,
        "ledger/figures/postings.html",
        {
            "result": result,
            "status": figures_status_for(company=request.company),
            "back_query": urlencode(back_params),
            "back_to": "balance" if back == "balanse" else "pnl",
            "from_param": back,
            "keep_query": urlencode(keep),
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
    keep = {name: request.POST.get(name, "") for name in ("fra", "fortegn", *DIMENSION_PARAMS)}
    query = urlencode({name: value for name, value in keep.items() if value})
    return redirect(f"{target}?{query}" if query else target)


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
    name = f"resultat-{company.org_number}-{period.start:%Y-%m}-{period.through:%Y-%m}"
    return table, name


def _balance_table(request: CompanyRequest) -> tuple[exports.Table, str]:
    company = request.company
    period = _period(request, strict=True, default_kind=MONTH)
    dimensions = _dimensions(request, strict=True)
    sheet = balance_sheet_at(company=company, period=period, dimensions=dimensions)
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

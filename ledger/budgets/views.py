"""The budget page of a firm: where each fiscal year's budget comes from, the budget by account and
month, budget against actual for the year to date, the XLSX template and the upload.

The fiscal year is `?ar=<year>` (the year it starts in), by default the current one; only the
years the sync keeps current are offered.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from companies.models import Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.budgets.selectors import budget_variance, budget_year_rows
from ledger.budgets.upload import (
    MAX_UPLOAD_BYTES,
    BudgetUploadError,
    budget_template_xlsx,
    budget_upload,
    month_heading,
)
from ledger.models import BudgetYear
from ledger.params import ParamError, int_param
from ledger.periods import FiscalYear, add_months, month_next, month_start, today_local
from ledger.sync.selectors import synced_fiscal_years

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _years(request: CompanyRequest) -> tuple[FiscalYear, list[FiscalYear]]:
    """The chosen fiscal year (`ar`) and the years offered; an unknown year is the current one."""
    years = synced_fiscal_years(company=request.company)
    try:
        wanted = int_param(request.GET, "ar", minimum=1900, maximum=2100)
    except ParamError:
        wanted = None
    chosen = next((fy for fy in years if fy.year == wanted), years[-1])
    return chosen, years


@company_role_required(Role.ACCOUNTANT)
@require_GET
def budget(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The year's budget, its source, budget against actual so far, download and upload."""
    fiscal_year, years = _years(request)
    through = min(month_next(month_start(today_local())), fiscal_year.end)
    lines, result = budget_variance(
        company=request.company,
        date_from=fiscal_year.start,
        date_to=max(through, fiscal_year.start),
    )
    context = {
        "fiscal_year": fiscal_year,
        "years": years,
        "year_state": BudgetYear.objects.filter(
            company=request.company, start=fiscal_year.start
        ).first(),
        "rows": budget_year_rows(company=request.company, fiscal_year=fiscal_year),
        "month_headings": [month_heading(m) for m in fiscal_year.months],
        "months": fiscal_year.months,
        "variance_lines": [line for line in lines if line.budget or line.actual],
        "result": result,
        "last_month": add_months(max(through, month_next(fiscal_year.start)), -1),
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        # The figures navigation's links carry the year to the P&L and the balance sheet.
        "query": f"ar={fiscal_year.year}",
    }
    return render(request, "ledger/budgets/budget.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def budget_template(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The XLSX template of the chosen year, filled with what is stored."""
    fiscal_year, _years_offered = _years(request)
    content = budget_template_xlsx(company=request.company, fiscal_year=fiscal_year)
    response = HttpResponse(content, content_type=XLSX)
    name = f"budsjett-{request.company.org_number}-{fiscal_year.label.replace('/', '-')}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@company_role_required(Role.ACCOUNTANT)
@require_POST
def budget_upload_view(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Upload the year's budget: all or nothing; every problem is shown, nothing changes."""
    fiscal_year, _years_offered = _years(request)
    back = (
        reverse("ledger:budget", kwargs={"company_slug": company_slug}) + f"?ar={fiscal_year.year}"
    )
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the budget file (.xlsx) to upload."))
        return redirect(back)
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        messages.error(
            request,
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
        return redirect(back)
    try:
        result = budget_upload(
            company=request.company,
            fiscal_year=fiscal_year,
            upload=upload,
            file_name=upload.name or "",
            by=request.user,
        )
    except BudgetUploadError as exc:
        context = {
            "problems": exc.problems,
            "fiscal_year": fiscal_year,
            "back": back,
            "page_error": True,  # "Feil: " in the title, like a failed form
        }
        return render(request, "ledger/budgets/upload_failed.html", context, status=400)
    messages.success(
        request,
        _("The budget of %(year)s is stored: %(count)s amounts for %(accounts)s accounts.")
        % {"year": fiscal_year.label, "count": len(result.amounts), "accounts": result.accounts},
    )
    return redirect(back)

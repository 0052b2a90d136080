"""The sync page: figures as of, Sync now (whole company or one month), the log of runs, progress."""

import datetime

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from companies.models import Company, Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.periods import month_parse
from ledger.sync.selectors import sync_month_choices, sync_page, sync_progress
from ledger.sync.services import sync_request


@company_role_required(Role.ACCOUNTANT)
@require_GET
def sync(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The company's sync page: status, Sync now, progress and the log of runs."""
    page = sync_page(company=request.company)
    return render(request, "ledger/sync/sync.html", {"page": page, "company": request.company})


def _parse_month(value: str, company: Company) -> datetime.date | None:
    """'2026-03' → 2026-03-01 when it is a month the user may sync; None for 'all'."""
    if not value or value == "all":
        return None
    month = month_parse(value)
    if month not in sync_month_choices(company=company):
        raise ValueError(value)
    return month


@company_role_required(Role.ACCOUNTANT)
@require_POST
def sync_start(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Sync now: queue a run for the whole company or one month (or show the one running)."""
    target = reverse("ledger:sync", kwargs={"company_slug": request.company.slug})
    try:
        month = _parse_month(request.POST.get("month", ""), request.company)
    except ValueError:
        messages.error(request, _("Choose a month of this or last fiscal year."))
        return HttpResponseRedirect(target)
    run, created = sync_request(company=request.company, by=request.user, only_month=month)
    if created:
        messages.success(request, _("The sync has been queued. Progress is shown below."))
    else:
        messages.warning(
            request, _("A sync of this company is already running; it is shown below.")
        )
    return HttpResponseRedirect(f"{target}#run-{run.pk}")


@company_role_required(Role.ACCOUNTANT)
@require_GET
def sync_status(request: CompanyRequest, company_slug: str) -> JsonResponse:
    """JSON progress of the active (or last) run, for the page's live updates."""
    response = JsonResponse(sync_progress(company=request.company))
    response["Cache-Control"] = "no-store"
    return response

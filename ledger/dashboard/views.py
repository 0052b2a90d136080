"""The office dashboard page (`/kontor/`): every firm the user can open, sortable by `?sort=`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from companies.tenancy import AuthenticatedRequest
from ledger.dashboard.selectors import DASHBOARD_SORTS, office_dashboard
from ledger.periods import month_start, today_local


@require_GET
@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """Result against last year and budget, liquidity, transactions, sync and report pack per firm."""
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in DASHBOARD_SORTS:
        sort = "name"
    rows = office_dashboard(user=request.user, sort=sort)
    context = {
        "rows": rows,
        "sort": sort,
        "through": month_start(today_local()),
    }
    return render(request, "ledger/dashboard/dashboard.html", context)

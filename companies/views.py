"""Pages about companies and their people. Views are thin: check access, call a selector, render."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from companies.models import Role
from companies.selectors import companies_overview, members_of
from companies.tenancy import company_role_required


@require_GET
@login_required
def company_switch(request: HttpRequest) -> HttpResponse:
    """The switcher's target: go to the chosen company (404 unless a member)."""
    slug = request.GET.get("company", "")
    if not any(c.slug == slug for c in companies_overview(user=request.user)):
        raise Http404("No such company.")
    return HttpResponseRedirect(reverse("companies:company_home", kwargs={"company_slug": slug}))


@company_role_required(Role.ACCOUNTANT)
@require_GET
def company_home(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The company's front page."""
    return render(request, "companies/company_home.html", {"company": request.company})


@company_role_required(Role.ADMIN)
@require_GET
def members(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The company's users and their roles (company administrators only)."""
    rows = members_of(company=request.company)
    return render(request, "companies/members.html", {"members": rows})

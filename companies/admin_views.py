"""Staff admin pages beyond the default change forms: onboarding a firm, adding office clients,
deciding a connection request.

All are wrapped by `admin_site.admin_view` in companies/admin.py (staff only; others are sent to
the admin login) and check the model permission themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from companies.forms import MemberFormSet, OfficeClientsForm, OnboardingForm
from companies.intake.services import KeyRequestError, key_request_approve, key_request_reject
from companies.models import Company, KeyRequest, OfficeKey, TripletexConnection, User
from companies.onboarding.saving import firm_onboard, office_clients_add
from companies.onboarding.verification import (
    APPLICATION_NAME,
    KEY_NAME,
    ClientChoiceNeeded,
    OnboardingError,
    office_clients_for,
)
from companies.selectors import office_client_rows

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin


def _context(request: HttpRequest, model_admin: ModelAdmin, title: str) -> dict[str, object]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
    }


@sensitive_post_parameters("tripletex_key")
def company_onboard(request: HttpRequest, model_admin: ModelAdmin) -> HttpResponse:
    """Onboard a firm: verify its Tripletex key, then create it with its users."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = OnboardingForm(request.POST or None)
    members = MemberFormSet(request.POST or None, prefix="users")
    problems: tuple[str, ...] = ()
    error_code = ""
    if request.method == "POST" and form.is_valid() and members.is_valid():
        data = form.cleaned_data
        by = request.user if isinstance(request.user, User) else None
        try:
            result = firm_onboard(
                org_number=data["org_number"],
                name=data["name"],
                members=members.members(),
                key_type=data["key_type"],
                token=data.get("tripletex_key") or "",
                office_key=data.get("office_key"),
                office_name=data.get("office_name") or "",
                client_company_id=data.get("client_company_id"),
                by=by,
            )
        except ClientChoiceNeeded as exc:
            form.client_choices(exc.candidates)
            form.add_error(None, exc.message)
            error_code = exc.code
        except OnboardingError as exc:
            form.add_error(None, exc.message)
            problems, error_code = exc.problems, exc.code
        else:
            model_admin.log_addition(request, result.company, [{"added": {}}])
            messages.success(
                request,
                _("%(name)s is onboarded and connected to Tripletex; %(n)s invitation(s) sent.")
                % {"name": result.company.name, "n": len(result.invitations)},
            )
            for warning in result.connection.coverage_problems:
                messages.warning(request, warning)
            return redirect("admin:companies_company_change", result.company.pk)
    context = {
        **_context(request, model_admin, _("Onboard a firm")),
        "form": form,
        "members": members,
        "problems": problems,
        "error_code": error_code,
        "application_name": APPLICATION_NAME,
        "key_name": KEY_NAME,
        "office_key_type": TripletexConnection.KeyType.OFFICE,
    }
    return TemplateResponse(request, "admin/companies/company/onboard.html", context)


def office_key_clients(
    request: HttpRequest, model_admin: ModelAdmin, object_id: str
) -> HttpResponse:
    """List every client an office key reaches and create the selected ones as firms."""
    office_key = get_object_or_404(OfficeKey, pk=object_id)
    if not (
        model_admin.has_change_permission(request, office_key)
        and request.user.has_perm("companies.add_company")
    ):
        raise PermissionDenied
    error = ""
    try:
        _office, clients = office_clients_for(office_key=office_key)
    except OnboardingError as exc:
        clients, error = [], exc.message
    rows = office_client_rows(clients=clients)
    choices = [(row.client.id, row.client.name) for row in rows if row.can_add]
    form = OfficeClientsForm(request.POST or None, choices=choices)
    if request.method == "POST" and not error and form.is_valid():
        by = request.user if isinstance(request.user, User) else None
        try:
            created, skipped = office_clients_add(
                office_key=office_key, client_ids=form.cleaned_data["clients"], by=by
            )
        except OnboardingError as exc:
            error = exc.message
        else:
            for company in created:
                model_admin.log_addition(request, company, [{"added": {}}])
            messages.success(
                request, _("%(n)s firm(s) created from the office key.") % {"n": len(created)}
            )
            for reason in skipped:
                messages.warning(request, reason)
            return redirect("admin:companies_company_changelist")
    context = {
        **_context(
            request, model_admin, _("Add clients from %(office)s") % {"office": office_key.name}
        ),
        "office_key": office_key,
        "rows": rows,
        "form": form,
        "error": error,
        "companies_opts": Company._meta,
    }
    return TemplateResponse(request, "admin/companies/officekey/clients.html", context)


def key_request_decide(
    request: HttpRequest, model_admin: ModelAdmin, object_id: str, decision: str
) -> HttpResponse:
    """Approve a connection request (the firms are onboarded and the people invited) or reject
    it with a reason; either way the requester is e-mailed and the request's key deleted."""
    key_request = get_object_or_404(KeyRequest, pk=object_id)
    if request.method != "POST":
        return redirect("admin:companies_keyrequest_change", key_request.pk)
    if not (
        request.user.has_perm("companies.change_keyrequest")
        and request.user.has_perm("companies.add_company")
    ):
        raise PermissionDenied
    by = request.user if isinstance(request.user, User) else None
    try:
        if decision == "approve":
            companies = key_request_approve(key_request=key_request, by=by)
            model_admin.log_change(request, key_request, [{"changed": {"fields": ["status"]}}])
            messages.success(
                request,
                _("Approved: %(firms)s connected; the users are invited.")
                % {"firms": ", ".join(c.name for c in companies)},
            )
        else:
            key_request_reject(
                key_request=key_request, reason=request.POST.get("reason", ""), by=by
            )
            messages.success(request, _("Rejected; the requester is told why."))
    except OnboardingError as exc:
        messages.error(request, " ".join([exc.message, *exc.problems]))
    except KeyRequestError as exc:
        messages.error(request, str(exc))
    return redirect("admin:companies_keyrequest_change", key_request.pk)

"""The two public pages of the key intake: the request form and its receipt (no login needed)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from companies.intake.bot import (
    HONEYPOT_FIELD,
    BotCheckFailed,
    form_token_check,
    form_token_issue,
    honeypot_check,
)
from companies.intake.forms import KeyRequestForm, MembersFormSet
from companies.intake.services import intake_throttle, key_request_submit
from companies.models import Role
from companies.onboarding.verification import APPLICATION_NAME, KEY_NAME, OnboardingError
from companies.throttle import client_address

TEMPLATE = "companies/intake/request.html"


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context = {
        "form_token": form_token_issue(),
        "honeypot_field": HONEYPOT_FIELD,
        "application_name": APPLICATION_NAME,
        "key_name": KEY_NAME,
        **context,
    }
    return render(request, TEMPLATE, context, status=status)


@sensitive_post_parameters("tripletex_key")
@require_http_methods(["GET", "POST"])
def key_request(request: HttpRequest) -> HttpResponse:
    """Ask to be connected: the key is checked with Tripletex, then waits for staff, encrypted."""
    if request.method == "GET":
        form = KeyRequestForm(initial={"org_numbers": request.GET.get("org", "")[:20]})
        members = MembersFormSet(prefix="users", initial=[{"role": Role.ADMIN}])
        return _page(request, {"form": form, "members": members})
    form = KeyRequestForm(request.POST)
    members = MembersFormSet(request.POST, prefix="users")
    context: dict[str, Any] = {"form": form, "members": members}
    refused = _refused(request, context)
    if refused is not None:
        return _page(request, context, status=refused)
    if form.is_valid() and members.is_valid() and _submitted(context):
        return HttpResponseRedirect(reverse("key_request_received"))
    return _page(request, context, status=400)


def _refused(request: HttpRequest, context: dict[str, Any]) -> int | None:
    """The status for a paused address (429) or a submission that fails the bot checks (400);
    None when the form may be looked at. Every submission counts against the address."""
    throttle, address = intake_throttle(), client_address(request)
    if throttle.is_blocked(email="", address=address):
        context["throttled"] = True
        context["page_error"] = True  # "Feil: " in the title, like a failed form
        return 429
    throttle.record_failure(email="", address=address)
    try:
        form_token_check(request.POST.get("form_token", ""))
        honeypot_check(request.POST.get(HONEYPOT_FIELD, ""))
    except BotCheckFailed as exc:
        context["form"].add_error(None, exc.message)
        return 400
    return None


def _submitted(context: dict[str, Any]) -> bool:
    """Verify and store the request; False (with the reason on the form) when Tripletex refuses."""
    form, members = context["form"], context["members"]
    data = form.cleaned_data
    try:
        key_request_submit(
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            key_type=data["key_type"],
            token=data["tripletex_key"],
            org_numbers=data["org_numbers"],
            members=members.members(),
            accounting_system=data["accounting_system"],
            office_name=data.get("office_name") or "",
            note=data.get("note") or "",
        )
    except OnboardingError as exc:
        form.add_error(None, exc.message)
        context["problems"] = exc.problems
        return False
    return True


@require_GET
def key_request_received(request: HttpRequest) -> HttpResponse:
    """The receipt: what happens next."""
    return render(request, "companies/intake/received.html", {"title": _("Request received")})

"""The second step's pages: enter a code, set up an authenticator, and one's own settings.

Recovery codes are shown once, in the answer to the POST that made them (never stored for a
later page), with `Cache-Control: no-store`.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from companies.account_views import THROTTLED
from companies.mfa import (
    MfaError,
    is_verified,
    mfa_disable,
    mfa_enrolled,
    mfa_enrolment_confirm,
    mfa_enrolment_device,
    mfa_recovery_codes_left,
    mfa_recovery_codes_renew,
    mfa_required,
    mfa_verify,
    totp_manual_key,
    totp_qr_data_uri,
)
from companies.redirects import safe_next_url
from companies.tenancy import AuthenticatedRequest
from companies.throttle import LoginThrottle, client_address
from companies.twofactor.models import RecoveryCodes


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, target, fallback=reverse("home"))


def _no_store(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Cache-Control"] = "private, no-store"
    return response


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify_view(request: AuthenticatedRequest) -> HttpResponse:
    """After the password: a code from the authenticator, or a recovery code."""
    next_url = _next_url(request)
    if is_verified(request.user):
        return HttpResponseRedirect(next_url)
    if not mfa_enrolled(user=request.user):
        return redirect(reverse("mfa_enrol") + "?" + request.GET.urlencode())
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        throttle = LoginThrottle.from_settings()
        email, address = request.user.email, client_address(request)
        device = None
        if throttle.is_blocked(email=email, address=address):
            form.add_error(None, THROTTLED)
            status = 429
        else:
            device = mfa_verify(user=request.user, code=form.cleaned_data["code"])
            if device is None:
                throttle.record_failure(email=email, address=address)
                form.add_error(
                    "code",
                    _(
                        "That code is not right, or it has been used already. Wait a few "
                        "seconds and try the newest code."
                    ),
                )
                status = 400
        if device is not None:
            throttle.record_success(email=email, address=address)
            otp_login(request, device)
            if isinstance(device, RecoveryCodes):
                left = mfa_recovery_codes_left(user=request.user)
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(left)s are left. If your phone is lost, "
                        "set up the authenticator again under Two-step login."
                    )
                    % {"left": left},
                )
            return HttpResponseRedirect(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "registration/mfa_verify.html", context, status=status)


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol_view(request: AuthenticatedRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR code (or type the key), confirm with a code, and get
    the recovery codes once. Replacing an authenticator needs a verified session first."""
    next_url = _next_url(request)
    if mfa_enrolled(user=request.user) and not is_verified(request.user):
        return redirect(reverse("mfa_verify") + "?" + request.GET.urlencode())
    device = mfa_enrolment_device(user=request.user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        codes = mfa_enrolment_confirm(
            user=request.user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            otp_login(request, device)
            done = {"codes": codes, "next": next_url}
            return _no_store(render(request, "registration/mfa_recovery_codes.html", done))
        form.add_error(
            "code",
            _("That code is not right. Check the time on your phone and try the newest code."),
        )
        status = 400
    context: dict[str, object] = {
        "form": form,
        "next": next_url,
        "qr": totp_qr_data_uri(device),
        "manual_key": totp_manual_key(device),
        "required": mfa_required(user=request.user),
        "replacing": mfa_enrolled(user=request.user),
    }
    return _no_store(render(request, "registration/mfa_enrol.html", context, status=status))


@never_cache
@login_required
@require_http_methods(["GET"])
def mfa_settings_view(request: AuthenticatedRequest) -> HttpResponse:
    """One's own two-step login: on or off, recovery codes left, and what can be done."""
    context = {
        "enrolled": mfa_enrolled(user=request.user),
        "required": mfa_required(user=request.user),
        "codes_left": mfa_recovery_codes_left(user=request.user),
    }
    return render(request, "registration/mfa_settings.html", context)


@never_cache
@login_required
@require_POST
def mfa_recovery_codes_view(request: AuthenticatedRequest) -> HttpResponse:
    """New recovery codes, shown once."""
    try:
        codes = mfa_recovery_codes_renew(user=request.user)
    except MfaError:
        return redirect("mfa_settings")
    context = {"codes": codes, "next": reverse("mfa_settings")}
    return _no_store(render(request, "registration/mfa_recovery_codes.html", context))


@login_required
@require_POST
def mfa_disable_view(request: AuthenticatedRequest) -> HttpResponse:
    """Turn two-step login off (only for someone whose role does not require it)."""
    try:
        mfa_disable(user=request.user)
    except MfaError:
        messages.error(request, _("Your role requires two-step login; it cannot be turned off."))
    else:
        messages.success(request, _("Two-step login is off."))
    return redirect("mfa_settings")

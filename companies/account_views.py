"""Log in (throttled, then the second step), log out, and set a password from an invitation.

Every door asks the same throttle (companies/throttle.py) before it looks at a secret: this login
(which the staff admin's `/admin/login/` sends people to), the second-factor code
(companies/mfa_views.py) and invitation links.
"""

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from companies.mfa import mfa_pending_step, mfa_step_url
from companies.throttle import LoginThrottle, client_address

THROTTLED = _("Too many failed attempts. Wait a few minutes and try again.")


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses to even check the password while the e-mail at this address, or the address, is
    paused; counts every wrong password."""

    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {**AuthenticationForm.error_messages, "throttled": THROTTLED}

    def clean(self) -> dict[str, Any]:
        throttle = LoginThrottle.from_settings()
        email = str(self.data.get("username", ""))
        address = client_address(self.request) if self.request else ""
        if throttle.is_blocked(email=email, address=address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(email=email, address=address)
            raise
        throttle.record_success(email=email, address=address)
        return cleaned


class LoginView(auth_views.LoginView):
    """The one login: after the password, the second step when the user has or needs one."""

    template_name = "registration/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response

    def get_success_url(self) -> str:
        target = super().get_success_url()
        step = mfa_pending_step(self.request.user)
        return mfa_step_url(step, target) if step else target


class LogoutView(auth_views.LogoutView):
    pass


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """Set a password from an invitation link; the link works once (the token is tied to it).

    A door like the login: a paused address (or the invited e-mail paused at it) is refused, and
    every dead link counts as a failure. After the password the second step follows as at login
    (MfaRequiredMiddleware), so an invitation never skips it."""

    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    success_url = reverse_lazy("home")
    reset_url_token = "satt-passord"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        throttle = LoginThrottle.from_settings()
        address = client_address(request)
        user = self.get_user(kwargs.get("uidb64", ""))
        email = user.email if user is not None else ""
        if throttle.is_blocked(email=email, address=address):
            context = {"validlink": False, "throttled": True}
            return render(request, self.template_name, context, status=429)
        response = super().dispatch(request, *args, **kwargs)
        if not self.validlink:
            throttle.record_failure(email=email, address=address)
        return response

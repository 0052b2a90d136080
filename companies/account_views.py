"""Log in (with throttling of failed attempts), log out, and set a password from an invitation."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from companies.throttle import LoginThrottle


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses to even check the password after too many recent failures for the e-mail or address."""

    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed attempts. Wait a few minutes and try again."),
    }

    def clean(self) -> dict:
        throttle = LoginThrottle(
            cache=cache,
            attempts=settings.LOGIN_THROTTLE_ATTEMPTS,
            seconds=settings.LOGIN_THROTTLE_SECONDS,
        )
        keys = throttle.keys_for(
            email=self.data.get("username", ""),
            address=self.request.META.get("REMOTE_ADDR", "") if self.request else "",
        )
        if throttle.is_blocked(keys):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            throttle.record_failure(keys)
            raise


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """Set a password from an invitation link; the link works once (the token is tied to it)."""

    template_name = "registration/invitation_accept.html"
    post_reset_login = True
    success_url = reverse_lazy("home")
    reset_url_token = "satt-passord"

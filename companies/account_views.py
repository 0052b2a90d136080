"""Log in (with throttling of failed attempts) and log out."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
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

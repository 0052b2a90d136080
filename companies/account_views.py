"""Log in (throttled, then the second step), log out, and answer an invitation.

Every door asks the same throttle (companies/throttle.py) before it looks at a secret: this login
(which the staff admin's `/admin/login/` sends people to), the second-factor code
(companies/mfa_views.py) and invitation links.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from companies.invitations import (
    InvitationError,
    invitation_accept,
    invitation_accept_with_password,
    invitation_account,
    invitation_by_hash,
    invitation_decline,
    token_hash,
)
from companies.mfa import mfa_pending_step, mfa_step_url
from companies.models import Invitation, Role, User
from companies.redirects import safe_next_url
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

    def get_redirect_url(self) -> str:
        """The `next` to return to after the login, when it is a page of this site ('' if not),
        by the project's one rule (companies/redirects.py) rather than Django's copy of it."""
        name = self.redirect_field_name
        target = self.request.POST.get(name, self.request.GET.get(name))
        return safe_next_url(self.request, target, fallback="")

    def get_success_url(self) -> str:
        target = super().get_success_url()
        step = mfa_pending_step(self.request.user)
        return mfa_step_url(step, target) if step else target


class LogoutView(auth_views.LogoutView):
    pass


INVITATION_SESSION_KEY = "invitation_token_hash"


def _invitation_page(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    # These states are the page's news that it failed: "Feil: " in the title, like a failed form.
    page_error = context.get("state") in {"invalid", "throttled", "other_account"}
    context = {**context, "page_error": page_error}
    return render(request, "registration/invitation_accept.html", context, status=status)


@require_GET
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail: a door like the login (a paused address is refused, and every dead
    link counts as a failure). A live link's token moves into the session and out of the URL, as
    Django's password-reset view does, so it never reaches a Referer or the history."""
    throttle = LoginThrottle.from_settings()
    address = client_address(request)
    if throttle.is_blocked(email="", address=address):
        return _invitation_page(request, {"state": "throttled"}, status=429)
    hashed = token_hash(token)
    if invitation_by_hash(hashed) is None:
        throttle.record_failure(email="", address=address)
        return _invitation_page(request, {"state": "invalid"})
    request.session[INVITATION_SESSION_KEY] = hashed
    return HttpResponseRedirect(reverse("invitation_accept"))


@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def invitation_respond(request: HttpRequest) -> HttpResponse:
    """Answer the invitation whose link was opened in this session.

    Someone new chooses a password (and is then logged in, with the second step after it as at
    login); someone with an account logs in first and then accepts or declines; someone logged in
    with another address is told so. Nobody is a member before this page says yes."""
    invitation = invitation_by_hash(str(request.session.get(INVITATION_SESSION_KEY, "")))
    if invitation is None:
        return _invitation_page(request, {"state": "invalid"})
    context: dict[str, Any] = {"invitation": invitation, "role": Role(invitation.role).label}
    if request.user.is_authenticated:
        return _answer_logged_in(request, invitation, context)
    if invitation_account(invitation) is not None:
        login_url = f"{reverse('login')}?{urlencode({'next': reverse('invitation_accept')})}"
        return _invitation_page(request, {**context, "state": "log_in", "login_url": login_url})
    form = InvitationPasswordForm(invitation, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept_with_password(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except InvitationError as exc:
            form.add_error(None, str(exc))
        else:
            del request.session[INVITATION_SESSION_KEY]
            login(request, user)
            return _company_home(invitation)
    return _invitation_page(request, {**context, "state": "choose_password", "form": form})


def _answer_logged_in(
    request: HttpRequest, invitation: Invitation, context: dict[str, Any]
) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.email.lower() != invitation.email:
        return _invitation_page(request, {**context, "state": "other_account"})
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "decline":
                invitation_decline(invitation=invitation, user=user)
            else:
                invitation_accept(invitation=invitation, user=user)
        except InvitationError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("home"))
        del request.session[INVITATION_SESSION_KEY]
        if request.POST.get("answer") == "decline":
            messages.success(request, _("You declined the invitation."))
            return HttpResponseRedirect(reverse("home"))
        return _company_home(invitation)
    return _invitation_page(request, {**context, "state": "answer"})


def _company_home(invitation: Invitation) -> HttpResponse:
    return HttpResponseRedirect(
        reverse("companies:company_home", kwargs={"company_slug": invitation.company.slug})
    )


class InvitationPasswordForm(SetPasswordForm):
    """Choose a password for the invited address (Django's validators see that address)."""

    def __init__(self, invitation: Invitation, *args: Any, **kwargs: Any) -> None:
        super().__init__(User(email=invitation.email), *args, **kwargs)

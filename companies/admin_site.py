"""The staff admin's site: no login of its own, and no entry without a verified second factor.

Django's admin has its own login view, which neither the site login's throttle nor its second
step would see. Here `/admin/login/` sends a visitor to the site login (one door, one throttle),
and `has_permission` also asks for a session verified with an authenticator or recovery code.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from companies.mfa import is_verified, mfa_pending_step, mfa_step_url
from companies.redirects import safe_next_url


class StaffAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = safe_next_url(request, request.GET.get("next"), fallback=reverse("admin:index"))
        if self.has_permission(request):
            return HttpResponseRedirect(target)
        if not request.user.is_authenticated:
            return redirect_to_login(target)
        step = mfa_pending_step(request.user)
        if step is not None:
            return HttpResponseRedirect(mfa_step_url(step, target))
        # Signed in and verified, but not staff: the admin is not for them.
        raise PermissionDenied("The staff admin is for Dynamik staff.")

"""Request → company: resolve the membership, deny outsiders with 404, and scope every query.

Every company page lives under /c/<company_slug>/. The middleware resolves the membership before the
view runs and runs the view and its template rendering inside django-scopes' `scope(company=...)`, so a
query on a tenant model that forgets its company filter raises ScopeError instead of leaking rows.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, cast

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django_scopes import scope, scopes_disabled

from companies.models import Company, Membership, User
from companies.selectors import membership_get

COMPANY_PREFIX = "/c/"

__all__ = [
    "AuthenticatedRequest",
    "CompanyMiddleware",
    "CompanyRequest",
    "UnscopedModelAdmin",
    "company_role_required",
    "scope",
    "scopes_disabled",
]


class AuthenticatedRequest(HttpRequest):
    """A request behind login_required: `user` is a signed-in User, never AnonymousUser.

    For type checking only (django-stubs' README, "How can I create a HttpRequest that's guaranteed
    to have an authenticated user?"); Django still passes a plain HttpRequest."""

    user: User


class CompanyRequest(AuthenticatedRequest):
    """A request to a company page (/c/<company_slug>/...): CompanyMiddleware has set the member's
    company and membership, and the view runs inside that company's scope."""

    company: Company
    membership: Membership


class RoleRequiredView(Protocol):
    """A view wrapped by company_role_required; `required_role` lets tests check every URL has one."""

    required_role: str

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse: ...


def _company_slug(path: str) -> str | None:
    if not path.startswith(COMPANY_PREFIX):
        return None
    slug = path[len(COMPANY_PREFIX) :].split("/", 1)[0]
    return slug or None


class CompanyMiddleware:
    """Sets request.company and request.membership for company pages and scopes the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = _company_slug(request.path_info)
        if slug is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # An unknown slug and a company the user is not a member of get the same answer.
        membership = membership_get(user=request.user, company_slug=slug)
        if membership is None:
            raise Http404("No such company.")
        # From here on the request is what company views are annotated with.
        company_request = cast(CompanyRequest, request)
        company_request.membership = membership
        company_request.company = membership.company
        with scope(company=membership.company):
            response = self.get_response(request)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            return response


def company_role_required(
    role: str,
) -> Callable[[Callable[..., HttpResponse]], RoleRequiredView]:
    """View decorator: 403 unless the member's role is at least `role` (outsiders got 404 already)."""

    def decorator(view: Callable[..., HttpResponse]) -> RoleRequiredView:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership: Membership | None = getattr(request, "membership", None)
            if membership is None:
                raise Http404("No such company.")
            if not membership.has_role(role):
                raise PermissionDenied("Your role in this company does not allow this.")
            return view(request, *args, **kwargs)

        role_view = cast(RoleRequiredView, wrapped)
        role_view.required_role = role
        return role_view

    return decorator


def company_for_task(company_id: int) -> Company:
    """The company a task works for (Company itself is not a scoped model)."""
    return Company.objects.get(pk=company_id)


class UnscopedModelAdmin(admin.ModelAdmin):
    """Admin for a tenant model: staff see every company, so its views (and their rendering) run
    without django-scopes."""

    def _unscoped(self, view: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        with scopes_disabled():
            response = view(*args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return self._unscoped(super().changelist_view, request, extra_context)

    def changeform_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().changeform_view, *args, **kwargs)

    def history_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().history_view, *args, **kwargs)

    def delete_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().delete_view, *args, **kwargs)

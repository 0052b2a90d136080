"""Every page under /c/<company_slug>/ is closed to outsiders (404), to members without the role (403)
and to anonymous visitors (redirect to login). The URL list is read from the URLconf, so a new company
page is covered the moment it is added."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from companies.models import ROLE_RANK, Role

COMPANY_PREFIX = "c/<slug:company_slug>/"
_CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_SAMPLE = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def company_routes() -> list[tuple[str, URLPattern]]:
    """(route, pattern) for every URL pattern under the company prefix."""
    return [(r, p) for r, p in _walk(get_resolver().url_patterns) if r.startswith(COMPANY_PREFIX)]


def _url(route: str, slug: str) -> str:
    route = route.replace("<slug:company_slug>", slug, 1).lstrip("^").rstrip("$")
    return "/" + _CONVERTER.sub(lambda m: _SAMPLE[m.group("conv") or "str"], route)


def _required_role(pattern: URLPattern) -> str:
    return pattern.callback.required_role


ROUTES = company_routes()
IDS = [route for route, _ in ROUTES]


def test_company_pages_exist():
    assert len(ROUTES) >= 2


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_every_company_view_declares_its_role(route, pattern):
    # A view without company_role_required would only be guarded by the middleware.
    assert getattr(pattern.callback, "required_role", None) in set(Role), route


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_outsider_gets_404(client, bob, acme, route, pattern):
    client.force_login(bob)
    for method in ("get", "post"):
        assert getattr(client, method)(_url(route, acme.slug)).status_code == 404


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_unknown_company_gets_404(client, alice, route, pattern):
    client.force_login(alice)
    assert client.get(_url(route, "no-such-company")).status_code == 404


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_anonymous_is_sent_to_login(client, acme, route, pattern):
    response = client.get(_url(route, acme.slug))
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logg-inn/")


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_member_without_the_role_gets_403(client, members_by_role, acme, route, pattern):
    needed = ROLE_RANK[Role(_required_role(pattern))]
    weaker = [user for role, user in members_by_role.items() if ROLE_RANK[Role(role)] < needed]
    for user in weaker:
        client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(_url(route, acme.slug))
            assert response.status_code == 403, (route, user.email, method)

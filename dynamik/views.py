"""Error pages: plain templates, no tracebacks, no data from the failed request."""

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(template: str, status: int, request: HttpRequest) -> HttpResponse:
    body: str
    try:
        body = loader.render_to_string(template, {}, request)
    except Exception:  # noqa: BLE001 - an error page must never fail in turn
        body = "<h1>Noe gikk galt</h1>"
    return HttpResponse(body, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for unknown pages and for companies the user is not a member of (same answer)."""
    return _render("404.html", 404, request)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: a member whose role does not allow the page."""
    return _render("403.html", 403, request)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 without a traceback or request details."""
    return _render("500.html", 500, request)

"""Request and response hardening that Django's own middleware does not do.

- `TrustedProxyHeadersMiddleware` (first, before SecurityMiddleware): X-Forwarded-Proto and
  X-Forwarded-Host are believed only from an address in TRUSTED_PROXIES, the rule the login
  throttle uses for X-Forwarded-For (companies.throttle.is_trusted_proxy). Django's
  SECURE_PROXY_SSL_HEADER trusts the header from whoever sends it (Django's settings docs warn that
  the proxy must strip it), so a client that reaches gunicorn directly could otherwise claim HTTPS.
- `SecurityHeadersMiddleware`: the Content-Security-Policy and Permissions-Policy.
- `PrivatePagesMiddleware`: company pages (/c/…, the exports among them) and every page an
  authenticated person gets answer `Cache-Control: private, no-store`, so neither a shared cache
  nor the browser's disk keeps a firm's figures after logout.
- `SessionIdleMiddleware` (after AuthenticationMiddleware): a session ends after SESSION_IDLE_SECONDS
  without a request (sliding; SESSION_COOKIE_AGE is the same figure), and a staff session also when
  the browser closes (a cookie without Max-Age).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from companies.tenancy import COMPANY_PREFIX
from companies.throttle import is_trusted_proxy

# Headers a proxy sets about the client's request; not believed from anyone else.
PROXY_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")
# The session records the time of the last request it saw, at most this often (a write each time).
SEEN_KEY = "_dynamik_seen"


class TrustedProxyHeadersMiddleware:
    """Drops the X-Forwarded-Proto/Host/Port headers of a request not sent by a trusted proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_trusted_proxy(str(request.META.get("REMOTE_ADDR", ""))):
            for name in PROXY_HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy (no inline scripts or styles, nothing from other origins)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class PrivatePagesMiddleware:
    """`Cache-Control: private, no-store` on company pages and on anything a signed-in user gets."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path_info.startswith(COMPANY_PREFIX) or (user and user.is_authenticated):
            # patch_cache_control drops a `public` the view may have set when private is added.
            patch_cache_control(response, private=True, no_store=True)
        return response


class SessionIdleMiddleware:
    """Sliding idle expiry for every session; staff sessions also end with the browser.

    Django's session backends refuse a session past its expiry date, which is set to
    SESSION_COOKIE_AGE after the session is last saved; saving on every request
    (SESSION_SAVE_EVERY_REQUEST) would write the session row on every page and file download.
    Instead the session is touched once a minute at most (or every tenth of the idle time if that
    is shorter), which moves the expiry forward: a session ends between SESSION_IDLE_SECONDS and
    that much less a minute after its last request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.refresh = max(1, min(60, settings.SESSION_IDLE_SECONDS // 10))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view, so the request that logs someone in already gets their kind of cookie
        # (SessionMiddleware, outside this one, saves the session and sets the cookie after us),
        # and a request that logs out writes nothing.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            if user.is_staff and not session.get_expire_at_browser_close():
                session.set_expiry(0)  # a browser-session cookie; the idle expiry still applies
            now = int(time.time())
            if now - int(session.get(SEEN_KEY, 0)) >= self.refresh:
                session[SEEN_KEY] = now
        return response

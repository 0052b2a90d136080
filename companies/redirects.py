"""The one rule for where a `next=` parameter may send someone: a page of this site, or nowhere.

Every redirect whose target comes from the request goes through `safe_next_url`, which asks
Django's `url_has_allowed_host_and_scheme` (the check Django's own LoginView and set_language
use): `https://evil.example/`, `//evil.example/`, `/\\evil.example`, `javascript:` and the like
are refused, and on an HTTPS request so is a plain `http://` link to this host.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def is_safe_next_url(request: HttpRequest, target: str) -> bool:
    """True when `target` is a URL on this site (relative, or this host with an allowed scheme)."""
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next_url(request: HttpRequest, target: str | None, *, fallback: str) -> str:
    """`target` when it is a URL on this site, else `fallback`."""
    return target if target and is_safe_next_url(request, target) else fallback

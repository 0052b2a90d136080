"""Builds TripletexClients from Django settings; the only tripletex module that reads settings.

With REDIS_URL set, sessions and the rate-limit budget live in Redis (one connection pool per
process), shared by web and workers. Without it (embedded mode) they live in encrypted/locked
files under VAR_DIR/tripletex, shared by the processes on this machine.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import redis
import requests
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

from .client import TripletexClient
from .errors import TripletexError
from .ratelimit import FileRateLimiter, RateLimiter, RedisRateLimiter
from .session import FileSessionCache, RedisSessionCache, SessionCache

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# Per-process singletons, keyed by the settings they were built from (tests override settings).
_backends: dict[tuple[object, ...], tuple[SessionCache, RateLimiter]] = {}
_http: requests.Session | None = None


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def _shared_http() -> requests.Session:
    """One requests.Session per process, so calls reuse pooled TLS connections."""
    global _http
    with _lock:
        if _http is None:
            _http = _new_http()
        return _http


def _new_http() -> requests.Session:
    """A session that reads proxy and CA settings from the environment once, not on every call.

    With trust_env on, requests re-reads proxy variables and .netrc per request: about a tenth of
    a sync worker's CPU in profiles.
    """
    http = requests.Session()
    http.proxies.update(requests.utils.get_environ_proxies(""))
    http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    http.trust_env = False
    return http


def _stores() -> tuple[SessionCache, RateLimiter]:
    redis_url = getattr(settings, "REDIS_URL", "")
    var_dir = Path(settings.VAR_DIR) / "tripletex"
    signature = (redis_url, str(var_dir), tuple(settings.FIELD_ENCRYPTION_KEYS))
    with _lock:
        if signature not in _backends:
            if redis_url:
                connection = redis.Redis.from_url(redis_url)
                stores: tuple[SessionCache, RateLimiter] = (
                    RedisSessionCache(connection, _fernet()),
                    RedisRateLimiter(connection),
                )
            else:
                stores = (
                    FileSessionCache(var_dir / "sessions", _fernet()),
                    FileRateLimiter(var_dir / "ratelimit"),
                )
            _backends[signature] = stores
        return _backends[signature]


def make_client(*, employee_token: str, company_id: int = 0) -> TripletexClient:
    """A client for one employee token acting in company_id (0 = the key's own company)."""
    sessions, limiter = _stores()
    return TripletexClient(
        base_url=settings.TRIPLETEX_BASE_URL,
        consumer_token=settings.TRIPLETEX_CONSUMER_TOKEN,
        employee_token=employee_token,
        company_id=company_id,
        sessions=sessions,
        limiter=limiter,
        timeout=(float(settings.TRIPLETEX_CONNECT_TIMEOUT), float(settings.TRIPLETEX_READ_TIMEOUT)),
        http=_shared_http(),
    )


def drop_sessions(employee_token: str) -> None:
    """Forget the cached session of a key being replaced or removed, and revoke it best-effort."""
    client = make_client(employee_token=employee_token)
    try:
        client.session_delete()
    except TripletexError as exc:
        # The cached copy is gone either way; an unrevoked session dies at its expiry date.
        logger.warning("Could not revoke a Tripletex session: %s", exc)

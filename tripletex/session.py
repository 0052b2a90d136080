"""Tripletex session tokens: one per employee token, created once, cached encrypted, renewed early.

A session is made from our consumer token and the firm's employee token with
`PUT /token/session/:create` (tokens in the query string, no auth). It dies at 00:00 Europe/Oslo at
the start of its `expirationDate`, so we ask for today + 7 days and renew 24 hours before that
midnight; a 401 renews it too, once, under a lock so a burst of callers mints one session, not many.

Creating a session is retried like a read (429, 5xx, timeouts, connection errors; the client's
RetryPolicy): a session made twice is harmless, since the one we do not keep dies at its expiry
date. A refused key (401/403, or 422 naming a token) is never retried. The lock is held for one
attempt at a time, never across a retry's sleep, so it cannot expire under a slow retry and a
waiting process may pick up a session another one managed to create meanwhile.

Cache keys are sha256(base_url + employee token): never the raw token. Values are Fernet-encrypted
wherever they leave the process (Redis, files); nothing is ever stored in plaintext on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import redis
import requests
from cryptography.fernet import InvalidToken, MultiFernet

from .errors import (
    TripletexAuthError,
    TripletexError,
    TripletexOutcomeUnknown,
    TripletexResponseError,
    TripletexUnavailable,
    error_from_response,
)
from .ratelimit import RateLimiter, atomic_write, file_lock
from .redact import redact
from .retry import RetryPolicy, limiter_errors_ignored

logger = logging.getLogger(__name__)

OSLO = ZoneInfo("Europe/Oslo")
# Our choice (Nango uses the same): long enough to rarely renew, short enough to limit exposure.
SESSION_DAYS = 7
# Renew this long before the expiry midnight, so no call runs on a session about to die.
RENEW_MARGIN = timedelta(hours=24)
CREATE_PATH = "/token/session/:create"
# Since 2020-03-17 every token made in Tripletex's test environment starts with "test-"; the two
# installations share nothing, so a token sent to the other one is at best refused, at worst leaked.
PRODUCTION_HOSTS = frozenset({"tripletex.no", "www.tripletex.no"})
TEST_HOSTS = frozenset({"api-test.tripletex.tech", "api.tripletex.io"})
TEST_TOKEN_PREFIX = "test-"


def token_key(base_url: str, employee_token: str) -> str:
    """Stable, non-reversible key for one employee token in one Tripletex installation."""
    material = f"{base_url.rstrip('/')}\n{employee_token}".encode()
    return hashlib.sha256(material).hexdigest()


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Session:
    """A session token and the date at whose Oslo midnight it stops working."""

    token: str = field(repr=False)
    expiration_date: date

    @property
    def expires_at(self) -> datetime:
        """00:00 Europe/Oslo at the start of expiration_date: the first instant it is invalid."""
        return datetime.combine(self.expiration_date, dtime(0), tzinfo=OSLO)

    @property
    def renew_at(self) -> datetime:
        """When we stop using it and make a new one."""
        return self.expires_at - RENEW_MARGIN

    def is_fresh(self, now: datetime) -> bool:
        """True while the session may still be used."""
        return now < self.renew_at

    def dumps(self) -> str:
        """Serialise for a SessionCache."""
        return json.dumps({"token": self.token, "expirationDate": self.expiration_date.isoformat()})

    @classmethod
    def loads(cls, raw: str) -> Session:
        """Inverse of dumps()."""
        data = json.loads(raw)
        return cls(token=data["token"], expiration_date=date.fromisoformat(data["expirationDate"]))


class SessionCache(Protocol):
    """Where sessions live between calls and processes; values are opaque strings."""

    def get(self, key: str) -> str | None:
        """The value stored under key, or None if missing or expired."""
        ...

    def set(self, key: str, value: str, ttl: float) -> None:
        """Store value under key for ttl seconds."""
        ...

    def delete(self, key: str) -> None:
        """Remove key; no error if missing."""
        ...

    def lock(self, key: str) -> AbstractContextManager[object]:
        """An exclusive lock for creating the session of key."""
        ...


class MemorySessionCache:
    """Per-process cache (tests, scripts). Plain memory: nothing is written anywhere."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._clock = clock

    def get(self, key: str) -> str | None:
        """The value stored under key, or None if missing or expired."""
        with self._guard:
            item = self._values.get(key)
        if item is None or item[1] <= self._clock():
            return None
        return item[0]

    def set(self, key: str, value: str, ttl: float) -> None:
        """Store value under key for ttl seconds."""
        with self._guard:
            self._values[key] = (value, self._clock() + ttl)

    def delete(self, key: str) -> None:
        """Remove key; no error if missing."""
        with self._guard:
            self._values.pop(key, None)

    def lock(self, key: str) -> AbstractContextManager[object]:
        """A threading lock per key."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class RedisSessionCache:
    """Cache shared by web and workers: Fernet-encrypted values with a TTL, and a Redis lock."""

    def __init__(
        self,
        client: redis.Redis,
        fernet: MultiFernet,
        *,
        prefix: str = "tripletex:session:",
        lock_timeout: float = 60.0,
    ) -> None:
        self._redis = client
        self._fernet = fernet
        self._prefix = prefix
        self._lock_timeout = lock_timeout

    def get(self, key: str) -> str | None:
        """The decrypted value, or None if missing, expired or not decryptable with our keys."""
        raw = self._redis.get(self._prefix + key)
        if raw is None:
            return None
        try:
            return self._fernet.decrypt(raw).decode()
        except InvalidToken:
            # Rotated away from the key it was written with: behave as a miss and mint a new one.
            return None

    def set(self, key: str, value: str, ttl: float) -> None:
        """Store value encrypted for ttl seconds."""
        self._redis.set(
            self._prefix + key, self._fernet.encrypt(value.encode()), ex=max(1, int(ttl))
        )

    def delete(self, key: str) -> None:
        """Remove key; no error if missing."""
        self._redis.delete(self._prefix + key)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[object]:
        """A Redis lock that expires on its own if its holder dies."""
        lock = self._redis.lock(
            f"{self._prefix}lock:{key}",
            timeout=self._lock_timeout,
            blocking_timeout=self._lock_timeout,
        )
        if not lock.acquire():
            raise TripletexUnavailable("Timed out waiting for another process to create a session.")
        try:
            yield lock
        finally:
            with contextlib.suppress(redis.exceptions.LockError):
                lock.release()


class FileSessionCache:
    """Cache for the embedded mode (several processes, one machine, no Redis).

    One encrypted file per key, replaced atomically, guarded by an fcntl lock file.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        fernet: MultiFernet,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fernet = fernet
        self._clock = clock

    def _path(self, key: str) -> Path:
        return self._dir / f"{key}.session"

    def get(self, key: str) -> str | None:
        """The decrypted value, or None if missing, expired or unreadable."""
        try:
            blob = self._path(key).read_bytes()
            data = json.loads(self._fernet.decrypt(blob))
        except (FileNotFoundError, InvalidToken, ValueError):
            return None
        if data.get("expires_at", 0) <= self._clock():
            return None
        value = data.get("value")
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str, ttl: float) -> None:
        """Store value encrypted for ttl seconds (the expiry travels inside the ciphertext)."""
        payload = json.dumps({"value": value, "expires_at": self._clock() + ttl}).encode()
        atomic_write(self._path(key), self._fernet.encrypt(payload))

    def delete(self, key: str) -> None:
        """Remove key; no error if missing."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def lock(self, key: str) -> AbstractContextManager[object]:
        """An fcntl lock file per key."""
        return file_lock(self._dir / f"{key}.lock")


class SessionManager:
    """Hands out a valid session for one employee token, creating and renewing it as needed."""

    def __init__(
        self,
        *,
        base_url: str,
        consumer_token: str,
        employee_token: str,
        cache: SessionCache,
        http: requests.Session,
        timeout: tuple[float, float],
        clock: Callable[[], datetime] = utc_now,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._consumer_token = consumer_token
        self._employee_token = employee_token
        self.cache = cache
        self._http = http
        self._timeout = timeout
        self._clock = clock
        self._retry = retry or RetryPolicy()
        # The client's limiter (shared by every process using this key), when there is one.
        self._limiter = limiter
        self._sleep = sleep
        self.key = token_key(self._base, employee_token)
        # In-process copy, so a call skips the cache round trip; the cache is the truth on renewal.
        self._local: Session | None = None

    def _cached(self, *, fresh_only: bool = True) -> Session | None:
        raw = self.cache.get(self.key)
        if raw is None:
            return None
        try:
            session = Session.loads(raw)
        except (ValueError, KeyError):
            return None
        return session if not fresh_only or session.is_fresh(self._clock()) else None

    def current(self) -> Session:
        """A fresh session: the one in memory, else the cached one, else a new one."""
        local = self._local
        if local is not None and local.is_fresh(self._clock()):
            return local
        session = self._cached() or self._obtain(stale_token=None)
        self._local = session
        return session

    def renew(self, stale_token: str) -> Session:
        """Replace a session Tripletex rejected (401); concurrent callers share one renewal."""
        session = self._obtain(stale_token=stale_token)
        self._local = session
        return session

    def _obtain(self, *, stale_token: str | None) -> Session:
        """The cached session unless it is `stale_token`, else a new one; creation is retried.

        Raises the last creation error once the policy's attempts or time budget are used up, or
        at once when it is not worth retrying (a refused key)."""
        policy = self._retry
        attempt = 0
        spent = 0.0  # seconds of attempts and sleeps, against policy.total_budget
        while True:
            attempt += 1
            started = time.monotonic()
            with self.cache.lock(self.key):
                # Someone may have created it while we waited for the lock.
                session = self._cached()
                if session is not None and session.token != stale_token:
                    return session
                if session is not None:
                    self.cache.delete(self.key)
                try:
                    return self._create_and_store()
                except TripletexError as exc:
                    error = exc
            spent += time.monotonic() - started
            delay = policy.delay_after(error, attempt, is_read=True, known_reset=self._known_reset)
            if delay is None or not policy.allows(attempt, spent, delay):
                error.attempts = attempt
                logger.warning("Tripletex session creation failed: %s", error)
                raise error
            logger.info("Retrying Tripletex session creation in %.1f s after: %s", delay, error)
            self._sleep(delay)
            spent += delay

    def _known_reset(self) -> float | None:
        return self._limiter.reset_in(self.key) if self._limiter is not None else None

    def _record_budget(self, response: requests.Response) -> None:
        # Tell the shared limiter what this answer says of the key's budget (a 429 spends it), so
        # the other callers of this key hold back too. No wait *before* creating: the call that
        # needs the session has just waited for the budget, and a 429 here waits for its reset.
        if self._limiter is not None:
            with limiter_errors_ignored():
                self._limiter.after_response(self.key, response.status_code, response.headers)

    def peek(self) -> Session | None:
        """The cached session if any (fresh or not), without creating one."""
        return self._cached(fresh_only=False) or self._local

    def drop(self) -> Session | None:
        """Forget the session everywhere; return what was cached so the caller can revoke it."""
        session = self.peek()
        self.cache.delete(self.key)
        self._local = None
        return session

    def _create_and_store(self) -> Session:
        session = self.create()
        ttl = (session.renew_at - self._clock()).total_seconds()
        if ttl > 0:
            self.cache.set(self.key, session.dumps(), ttl)
        return session

    def _check_environment(self) -> None:
        host = urlsplit(self._base).hostname or ""
        tokens = {"consumer": self._consumer_token, "employee": self._employee_token}
        for name, token in tokens.items():
            is_test = token.startswith(TEST_TOKEN_PREFIX)
            if host in PRODUCTION_HOSTS and is_test:
                reason = f"a test-environment {name} token cannot be used against production"
            elif host in TEST_HOSTS and not is_test:
                reason = f"a production {name} token must not be sent to the test environment"
            else:
                continue
            raise TripletexAuthError(f"Refused before calling Tripletex: {reason} ({host}).")

    def create(self) -> Session:
        """A brand-new session, one attempt (tokens in the query string; the call has no auth).

        Raises TripletexUnavailable (retry) or TripletexAuthError (the key is refused)."""
        # Reference: PUT /token/session/:create
        self._check_environment()
        expiration = self._clock().astimezone(OSLO).date() + timedelta(days=SESSION_DAYS)
        params = {
            "consumerToken": self._consumer_token,
            "employeeToken": self._employee_token,
            "expirationDate": expiration.isoformat(),
        }
        try:
            response = self._http.put(
                self._base + CREATE_PATH, params=params, timeout=self._timeout
            )
        except requests.RequestException as exc:
            # The exception text holds the full URL with both tokens: keep only a redacted copy,
            # and drop the chain (`from None`) so no traceback can print it.
            message = f"Could not reach Tripletex to create a session: {redact(str(exc))}"
            raise TripletexUnavailable(message, method="PUT", path=CREATE_PATH) from None
        self._record_budget(response)
        if not 200 <= response.status_code < 300:
            raise self._creation_error(response)
        return self._parse_created(response, expiration)

    @staticmethod
    def _parse_created(response: requests.Response, requested: date) -> Session:
        # Never log this body: it echoes the consumer and employee token objects.
        try:
            value = json.loads(response.content)["value"]
            token = value["token"]
            expires = value.get("expirationDate")
        except (ValueError, KeyError, TypeError):
            raise TripletexResponseError(
                "Tripletex answered session creation without a token.",
                status=response.status_code,
                method="PUT",
                path=CREATE_PATH,
            ) from None
        if not isinstance(token, str) or not token:
            raise TripletexResponseError("Tripletex returned an empty session token.")
        return Session(
            token=token,
            expiration_date=date.fromisoformat(expires[:10]) if expires else requested,
        )

    @staticmethod
    def _creation_error(response: requests.Response) -> TripletexError:
        error = error_from_response(response, method="PUT", path=CREATE_PATH)
        fields = {vm.field for vm in error.validation_messages}
        if "arg:employeeToken" in fields:
            reason = (
                "Tripletex refused the firm's API key (employee token): it is wrong, revoked, "
                "expired or from the other Tripletex environment."
            )
        elif "arg:consumerToken" in fields:
            reason = (
                "Tripletex refused our consumer token: it is wrong or belongs to the other "
                "Tripletex environment (test vs production)."
            )
        elif error.status in (401, 403):
            reason = "Tripletex refused to create a session with this API key."
        else:
            if isinstance(error, TripletexOutcomeUnknown):
                # A session created twice is harmless, so an unknown outcome is just "unavailable".
                return TripletexUnavailable(
                    error.message,
                    status=error.status,
                    code=error.code,
                    request_id=error.request_id,
                    method="PUT",
                    path=CREATE_PATH,
                )
            return error
        return TripletexAuthError(
            reason,
            status=error.status,
            code=error.code,
            request_id=error.request_id,
            validation_messages=error.validation_messages,
            method="PUT",
            path=CREATE_PATH,
        )

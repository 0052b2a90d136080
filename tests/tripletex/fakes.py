"""Fake Tripletex for unit tests: `responses` with session creation pre-stubbed, and a fake clock.

The `tripletex_api` fixture (tests/conftest.py) yields a FakeTripletex.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from tripletex.client import RetryPolicy, TripletexClient
from tripletex.ratelimit import MemoryRateLimiter
from tripletex.session import MemorySessionCache

BASE = "https://tripletex.test/v2"
# Recognisable secrets, so tests can assert they never leak into logs or errors.
CONSUMER_TOKEN = "consumerSECRETc0ns7"
EMPLOYEE_TOKEN = "employeeSECRETempl9"
SESSION_PREFIX = "sessionSECRET"
CREATE_URL = f"{BASE}/token/session/:create"


def url(path: str) -> str:
    """Full fake URL of an API path, with `>` encoded the way the client sends it."""
    return BASE + path.replace(">", "%3E")


def query(call: Any) -> dict[str, str]:
    """The query parameters of a recorded call, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def basic_user(call: Any) -> str:
    """The Basic user name (company id) of a recorded call."""
    import base64

    header = call.request.headers["Authorization"]
    return base64.b64decode(header.split()[1]).decode().split(":", 1)[0]


def basic_password(call: Any) -> str:
    """The Basic password (session token) of a recorded call."""
    import base64

    header = call.request.headers["Authorization"]
    return base64.b64decode(header.split()[1]).decode().split(":", 1)[1]


@dataclass
class FakeTime:
    """A wall clock that only moves when someone sleeps; records every sleep."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeTripletex:
    """A responses mock plus helpers for Tripletex-shaped answers."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.sessions_created = 0
        self._create_faults: list[int | tuple[int, dict[str, str]] | Exception] = []
        mock.add_callback(responses.PUT, CREATE_URL, callback=self._create_session)

    def fail_session_creates(self, *answers: int | tuple[int, dict[str, str]] | Exception) -> None:
        """Answer the next session creations with `answers` in order, then create as usual.

        An answer is a status, (status, headers), or an exception the transport raises."""
        self._create_faults.extend(answers)

    def _create_session(self, request: Any) -> tuple[int, dict[str, str], str | Exception]:
        if self._create_faults:
            answer = self._create_faults.pop(0)
            if isinstance(answer, Exception):
                return 0, {}, answer  # responses raises it, as requests would
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            return status, headers, json.dumps(error_body(status, 1000 if status >= 500 else 0))
        self.sessions_created += 1
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        token = f"{SESSION_PREFIX}{self.sessions_created}"
        body = {"value": {"token": token, "expirationDate": params["expirationDate"]}}
        return 200, {}, json.dumps(body)

    @property
    def session_tokens(self) -> list[str]:
        """Every session token handed out so far."""
        return [f"{SESSION_PREFIX}{n}" for n in range(1, self.sessions_created + 1)]

    def add(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: str | bytes | Exception | None = None,
    ) -> None:
        """Answer the next call to method+path (answers for one URL are used in order)."""
        kwargs: dict[str, Any] = {"status": status, "headers": headers or {}}
        if body is not None:
            kwargs["body"] = body
        else:
            kwargs["json"] = json_body if json_body is not None else {}
        self.mock.add(method, url(path), **kwargs)

    def add_callback(self, method: str, path: str, callback: Callable[[Any], Any]) -> None:
        """Answer method+path with callback(request) -> (status, headers, body)."""
        self.mock.add_callback(method, url(path), callback=callback)

    def create_calls(self) -> list[Any]:
        """Recorded session creation calls, failed ones included."""
        return [c for c in self.mock.calls if ":create" in c.request.url]

    def api_calls(self, method: str | None = None) -> list[Any]:
        """Recorded calls other than session creation."""
        return [
            c
            for c in self.mock.calls
            if ":create" not in c.request.url and (method is None or c.request.method == method)
        ]


def error_body(status: int, code: int, message: str = "Feil", **extra: Any) -> dict[str, Any]:
    """An ApiError envelope."""
    return {"status": status, "code": code, "message": message, "requestId": "body-rid", **extra}


def make_client(
    fake_time: FakeTime | None = None, *, retry: RetryPolicy | None = None, **kwargs: Any
) -> TripletexClient:
    """A client against BASE with deterministic retries (no jitter) and a fake clock/sleep."""
    fake_time = fake_time or FakeTime()
    kwargs.setdefault("sessions", MemorySessionCache())
    kwargs.setdefault("limiter", MemoryRateLimiter(clock=fake_time.time, sleep=fake_time.sleep))
    return TripletexClient(
        base_url=BASE,
        consumer_token=CONSUMER_TOKEN,
        employee_token=EMPLOYEE_TOKEN,
        retry=retry or RetryPolicy(jitter=0.0),
        sleep=fake_time.sleep,
        **kwargs,
    )

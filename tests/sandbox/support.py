"""Helpers around a running Tripletex sandbox (the fixtures are in tests/conftest.py and
tests/sandbox/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import requests

from tripletex.sandbox import SandboxServer, demo

SandboxHttp = Callable[..., requests.Session]


def point_app_at(server: SandboxServer, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the app at `server`: in this process (settings) and in the worker processes a test
    starts, which read their settings from the environment they inherit."""
    settings.TRIPLETEX_BASE_URL = server.base_url
    settings.TRIPLETEX_CONSUMER_TOKEN = demo.CONSUMER_TOKEN
    monkeypatch.setenv("TRIPLETEX_BASE_URL", server.base_url)
    monkeypatch.setenv("TRIPLETEX_CONSUMER_TOKEN", demo.CONSUMER_TOKEN)


def create_session_token(server: SandboxServer, employee_token: str) -> str:
    """A new session token for an employee token (expires in a week)."""
    expiration = server.store.today() + timedelta(days=7)
    with requests.Session() as http:
        resp = http.put(
            f"{server.base_url}/token/session/:create",
            params={
                "consumerToken": demo.CONSUMER_TOKEN,
                "employeeToken": employee_token,
                "expirationDate": expiration.isoformat(),
            },
            timeout=10,
        )
    resp.raise_for_status()
    return str(resp.json()["value"]["token"])

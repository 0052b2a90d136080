"""Pytest fixtures that run the Tripletex sandbox on 127.0.0.1.

* `tripletex_sandbox`: a fresh sandbox (own temporary SQLite file) per test; use it when the
  test books vouchers or otherwise changes data.
* `tripletex_sandbox_shared`: one sandbox for the whole session, faults and rate-limit windows
  reset before each test; use it for read-only tests (it is much cheaper).
* `app_on_sandbox`: a fresh `tripletex_sandbox` that the app talks to, in this process (settings)
  and in the worker processes a test starts (environment).
* `sandbox_http`: a factory `sandbox_http(server, employee_token=…, company_id=0)` returning a
  `requests.Session` with a live session token as Basic auth; sessions are closed at teardown.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tripletex.sandbox import SandboxServer, Store, demo

SandboxHttp = Callable[..., requests.Session]


@pytest.fixture(scope="session")
def _sandbox_template(tmp_path_factory) -> Path:
    """A seeded database file, copied for each fresh sandbox (seeding costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("sandbox-template") / "template.sqlite3"
    Store(path).close()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture
def tripletex_sandbox(tmp_path, _sandbox_template: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox on an ephemeral port with its own database."""
    db = tmp_path / "sandbox.sqlite3"
    shutil.copyfile(_sandbox_template, db)
    server = SandboxServer(db, host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def app_on_sandbox(settings, monkeypatch, tripletex_sandbox: SandboxServer) -> SandboxServer:
    """A fresh sandbox with the app pointed at it; returns the sandbox."""
    settings.TRIPLETEX_BASE_URL = tripletex_sandbox.base_url
    settings.TRIPLETEX_CONSUMER_TOKEN = demo.CONSUMER_TOKEN
    # Worker subprocesses read their settings from the environment they inherit.
    monkeypatch.setenv("TRIPLETEX_BASE_URL", tripletex_sandbox.base_url)
    monkeypatch.setenv("TRIPLETEX_CONSUMER_TOKEN", demo.CONSUMER_TOKEN)
    return tripletex_sandbox


@pytest.fixture(scope="session")
def _sandbox_session_server(tmp_path_factory) -> Iterator[SandboxServer]:
    server = SandboxServer(
        tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3", host="127.0.0.1", port=0
    ).start()
    yield server
    server.stop()


@pytest.fixture
def tripletex_sandbox_shared(_sandbox_session_server: SandboxServer) -> SandboxServer:
    """The session-wide sandbox with default faults (do not book vouchers through it)."""
    _sandbox_session_server.reset_faults()
    return _sandbox_session_server


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


@pytest.fixture
def sandbox_http() -> Iterator[SandboxHttp]:
    """Factory for authenticated keep-alive sessions against a sandbox."""
    opened: list[requests.Session] = []

    def make(
        server: SandboxServer, employee_token: str = demo.HOLDING_TOKEN, company_id: int = 0
    ) -> requests.Session:
        http = requests.Session()
        http.auth = (str(company_id), create_session_token(server, employee_token))
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()

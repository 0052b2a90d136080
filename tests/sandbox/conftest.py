"""Fixtures for the sandbox's own tests (a fresh sandbox is `tripletex_sandbox`, tests/conftest.py).

* `tripletex_sandbox_shared`: one sandbox for the whole session, faults and rate-limit windows
  reset before each test; for read-only tests (much cheaper than a fresh one).
* `sandbox_http`: a factory `sandbox_http(server, employee_token=…, company_id=0)` returning a
  `requests.Session` with a live session token as Basic auth; sessions are closed at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.sandbox.support import SandboxHttp, create_session_token
from tripletex.sandbox import SandboxServer, demo


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

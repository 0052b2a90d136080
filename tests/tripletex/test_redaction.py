"""No token reaches a log line: our logs, urllib3's DEBUG URL lines and exception tracebacks.

Runs the client against a tiny real HTTP server on 127.0.0.1, because `responses` bypasses urllib3
and would hide what urllib3 logs.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.tripletex.fakes import CONSUMER_TOKEN, EMPLOYEE_TOKEN, SESSION_PREFIX, FakeTime
from tripletex.client import RetryPolicy, TripletexClient
from tripletex.errors import TripletexUnavailable
from tripletex.redact import RedactSecretsFilter, redact

SESSION_TOKEN = SESSION_PREFIX + "LOCAL42"
SECRETS = (CONSUMER_TOKEN, EMPLOYEE_TOKEN, SESSION_TOKEN)


class _Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: object = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-tlx-request-id", "local-rid")
        self.end_headers()
        self.wfile.write(raw)

    def do_PUT(self) -> None:  # noqa: N802 - http.server naming
        if self.path.startswith("/v2/token/session/:create"):
            self._send(200, {"value": {"token": SESSION_TOKEN, "expirationDate": "2999-01-01"}})
        else:
            self._send(404, {"status": 404})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/v2/token/session/%3EwhoAmI"):
            self._send(200, {"value": {"employeeId": 1, "companyId": 2}})
        else:
            self._send(500, {"status": 500, "code": 1000, "message": "boom"})

    def do_DELETE(self) -> None:  # noqa: N802
        self._send(204)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redacted_caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.handler.addFilter(RedactSecretsFilter())
    caplog.set_level(logging.DEBUG)
    # settings.LOGGING keeps urllib3 at WARNING; turn its URL lines on to prove they are scrubbed.
    caplog.set_level(logging.DEBUG, logger="urllib3")
    yield caplog
    caplog.handler.filters.clear()


def _client(base: str) -> TripletexClient:
    fake = FakeTime()
    return TripletexClient(
        base_url=base,
        consumer_token=CONSUMER_TOKEN,
        employee_token=EMPLOYEE_TOKEN,
        retry=RetryPolicy(max_attempts=2, jitter=0),
        sleep=fake.sleep,
        timeout=(2.0, 2.0),
    )


def test_tokens_never_reach_captured_logs(local_base, redacted_caplog):
    client = _client(local_base)
    client.who_am_i()
    with pytest.raises(TripletexUnavailable):
        client.voucher_get(5)
    client.session_delete()
    text = redacted_caplog.text
    # urllib3 did log the URLs, including the session-create query string and the DELETE path.
    assert "token/session/:create?" in text
    assert "DELETE /v2/token/session/" in text
    assert "local-rid" in text  # the failure was logged with its request id
    assert "[redacted]" in text
    for secret in SECRETS:
        assert secret not in text


def test_connection_errors_and_tracebacks_are_scrubbed(redacted_caplog):
    base = f"http://127.0.0.1:{_closed_port()}/v2"
    with pytest.raises(TripletexUnavailable) as info:
        _client(base).who_am_i()
    for secret in SECRETS[:2]:
        assert secret not in str(info.value)
    try:
        requests.put(
            base + "/token/session/:create",
            params={"consumerToken": CONSUMER_TOKEN, "employeeToken": EMPLOYEE_TOKEN},
            timeout=1,
        )
    except requests.ConnectionError:
        logging.getLogger("dynamik.test").exception("Session creation blew up")
    text = redacted_caplog.text
    assert "Session creation blew up" in text
    assert "Traceback" in text
    for secret in SECRETS[:2]:
        assert secret not in text


@pytest.mark.parametrize(
    "line",
    [
        f"GET /v2/token/session/:create?consumerToken={CONSUMER_TOKEN}&employeeToken={EMPLOYEE_TOKEN}",
        f'{{"token": "{SESSION_TOKEN}", "consumerToken": "{CONSUMER_TOKEN}"}}',
        f"DELETE /v2/token/session/{SESSION_TOKEN} HTTP/1.1",
        "Authorization: Basic MDpzZXNzaW9uU0VDUkVUTE9DQUw0Mg==",
    ],
)
def test_redact_patterns(line):
    cleaned = redact(line)
    assert "[redacted]" in cleaned
    for secret in (*SECRETS, "MDpzZXNzaW9uU0VDUkVUTE9DQUw0Mg=="):
        assert secret not in cleaned


def test_redact_keeps_harmless_paths():
    assert redact("GET /v2/token/session/%3EwhoAmI?fields=x") == (
        "GET /v2/token/session/%3EwhoAmI?fields=x"
    )

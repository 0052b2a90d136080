"""HTTP front of the Tripletex sandbox: routing, auth, envelopes, errors, rate limits, faults.

A stdlib `ThreadingHTTPServer` speaking HTTP/1.1 keep-alive serves `/v2/...` with Tripletex's
paths, envelopes (`{"value": …}` and list envelopes), status codes and `ApiError` bodies, and
sets `x-tlx-request-id` on every response. Auth is HTTP Basic: user name = company id (0 = the
token owner's company, or a client id for an accounting-office token), password = session
token. `SandboxServer` runs it in a background thread for tests, or in the foreground for the
management command. `/_sandbox/faults` and `/_sandbox/reset` exist only with `admin=True`.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .api import DOCS_LINK, ApiError, Context, encode_json
from .endpoints import OFFICE_ROOT_HANDLERS, route, session_create
from .entities import currency_entity, vat_type_entities, voucher_type_entities
from .faults import Faults
from .fields import FieldSelectionError, Projector, Ref, parse_fields
from .store import Store


class _RateLimiter:
    """Fixed-window call counter per employee token (office clients share their token's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, window: float) -> tuple[bool, int, float]:
        """Count one call; returns (allowed, remaining, seconds until reset)."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= window:
                start, count = now, 0
            allowed = count < limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
        return allowed, max(limit - count, 0), max(window - (now - start), 0.0)

    def clear(self) -> None:
        """Forget all windows."""
        with self._lock:
            self._windows.clear()


class SandboxServer:
    """The sandbox: `start()` serves in a thread, `serve_forever()` in the foreground."""

    def __init__(
        self,
        db_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        reset: bool = False,
        admin: bool = False,
        faults: Faults | None = None,
    ) -> None:
        self.store = Store(db_path, reset=reset)
        self.faults = faults or Faults()
        self.admin = admin
        self.rate_limiter = _RateLimiter()
        # Encoded balance sheets keyed by company, ledger version and query: the sync's hot path.
        self.response_cache: dict[tuple[Any, ...], bytes] = {}
        self._httpd = _HTTPServer((host, port), _RequestHandler)
        self._httpd.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """The bound host."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """API base, e.g. http://127.0.0.1:8765/v2."""
        return f"http://{self.host}:{self.port}/v2"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            # A short poll interval keeps stop() (and test teardown) fast.
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="tripletex-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the current thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()
            self.store.close()

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self.store.close()

    def reset_faults(self) -> None:
        """Default knobs and fresh rate-limit windows."""
        self.faults.reset()
        self.rate_limiter.clear()

    # -- request pipeline ---------------------------------------------------------------------

    def handle(self, ctx: Context) -> tuple[int, Any, dict[str, str]]:
        """Run one /v2 request; returns (status, JSON payload or None, extra headers)."""
        headers: dict[str, str] = {}
        try:
            forced = self.faults.take_fail_next()
            if forced is None:
                forced = self.faults.take_path_fault(ctx.method, ctx.path)
            if forced is not None:
                raise ApiError(forced, 1000 if forced >= 500 else 4000, "Injected failure.")
            if self.faults.latency_ms > 0:
                time.sleep(self.faults.latency_ms / 1000)
            handler, params = route(ctx.method, ctx.path)
            ctx.params = dict(params)
            if handler is not session_create:
                self._authenticate(ctx, headers, office_root=handler in OFFICE_ROOT_HANDLERS)
            if ctx.method == "GET" and self.faults.roll_error():
                raise ApiError(500, 1000, "Injected random server error.")
            ctx.tree = parse_fields(ctx.q_str("fields"))
            status, payload = handler(self, ctx)
            return status, payload, headers
        except FieldSelectionError as exc:
            return 400, self._error_body(ApiError(400, 11000, str(exc)), ctx), headers
        except ApiError as exc:
            headers.update(exc.headers)
            return exc.status, self._error_body(exc, ctx), headers
        except Exception as exc:  # a sandbox bug still answers like Tripletex: 500/1000
            traceback.print_exc()
            error = ApiError(500, 1000, "Uventet feil.", developer=repr(exc))
            return 500, self._error_body(error, ctx), headers

    def _error_body(self, exc: ApiError, ctx: Context) -> dict[str, Any]:
        return {
            "status": exc.status,
            "code": exc.code,
            "message": exc.message,
            "link": DOCS_LINK,
            "developerMessage": exc.developer,
            "validationMessages": [
                {"field": name, "message": text, "path": name, "rootId": 0}
                for name, text in exc.validation
            ],
            "requestId": ctx.request_id,
        }

    def _authenticate(self, ctx: Context, headers: dict[str, str], *, office_root: bool) -> None:
        user, password = _basic_credentials(ctx.authorization)
        info = self.store.session(password) if password else None
        if info is None:
            raise ApiError(401, 3000, "Du må logge inn for å få tilgang.")
        try:
            requested = int(user or "0")
        except ValueError:
            raise ApiError(401, 3000, "Ugyldig firma i brukernavnet.") from None
        if requested in (0, info.company_id):
            if info.is_office and not office_root:
                raise ApiError(403, 9000, "Du har ikke tilgang til denne funksjonen.")
            ctx.company_id = info.company_id
        elif requested in info.client_ids:
            ctx.company_id = requested
        else:
            raise ApiError(403, 9000, "Du har ikke tilgang til dette firmaet.")
        ctx.token = info
        allowed, remaining, reset = self.rate_limiter.hit(
            info.token, self.faults.rate_limit, self.faults.rate_window
        )
        headers["X-Rate-Limit-Limit"] = str(self.faults.rate_limit)
        headers["X-Rate-Limit-Remaining"] = str(remaining)
        if allowed or not self.faults.omit_reset_on_429:
            headers["X-Rate-Limit-Reset"] = str(int(reset + 0.999))
        if not allowed:
            raise ApiError(429, 0, "Too many requests.")
        ctx.projector = Projector(ctx.base_url, self.resolver(ctx.company_id))

    def resolver(self, company_id: int) -> Callable[[str, int], dict[str, Any] | None]:
        """Look up any entity kind by id within one company (for `fields` expansion)."""
        store = self.store

        def resolve(kind: str, ident: int) -> dict[str, Any] | None:
            if kind == "account":
                return store.account(company_id, ident)
            if kind == "posting":
                return store.posting(company_id, ident)
            if kind == "voucher":
                return store.voucher(company_id, ident)
            if kind == "document":
                return store.document(company_id, ident)
            if kind == "company":
                return store.company(ident)
            if kind == "employee":
                return store.employee(ident)
            if kind == "currency":
                return currency_entity(ident)
            lists: dict[str, Callable[[], list[dict[str, Any]]]] = {
                "vatType": vat_type_entities,
                "voucherType": voucher_type_entities,
                "department": lambda: store.departments(company_id),
                "project": lambda: store.projects(company_id),
                "accountingPeriod": lambda: store.periods(company_id),
            }
            if kind in lists:
                return next((e for e in lists[kind]() if e["id"] == ident), None)
            return None

        return resolve

    # -- rendering helpers ----------------------------------------------------------------------

    def single(self, ctx: Context, entity: dict[str, Any], kind: str) -> dict[str, Any]:
        """The {"value": …} envelope of one projected entity."""
        assert ctx.projector is not None
        return {"value": ctx.projector.project(entity, ctx.tree, kind)}

    def listing(
        self,
        ctx: Context,
        items: list[dict[str, Any]],
        kind: str,
        *,
        default_count: int = 1000,
        total: int | None = None,
        paged: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """List envelope: sorting, from/count paging (unless already `paged`), projection."""
        assert ctx.projector is not None
        start, count = ctx.paging(default_count)
        if not paged:
            items = _sorted(items, ctx.q_str("sorting"))
            total = len(items)
            items = items[start : start + count]
        values = [ctx.projector.project(item, ctx.tree, kind) for item in items]
        envelope = {
            "fullResultSize": total if total is not None else len(values),
            "from": start,
            "count": len(values),
            "versionDigest": f"sandbox-{self.store.version(ctx.company_id)}",
            "values": values,
        }
        envelope.update(extra or {})
        return envelope


def _sorted(items: list[dict[str, Any]], sorting: str | None) -> list[dict[str, Any]]:
    if not sorting:
        return items
    for key in reversed([s.strip() for s in sorting.split(",") if s.strip()]):
        descending = key.startswith("-")
        name = key.lstrip("-")
        if items and name not in items[0]:
            raise ApiError(422, 17000, f"Illegal sorting field: {name}")

        def sort_key(item: dict[str, Any], name: str = name) -> tuple[int, Any]:
            value = item.get(name)
            if isinstance(value, Ref):
                value = value.id
            return (value is None, value if value is not None else 0)

        items = sorted(items, key=sort_key, reverse=descending)
    return items


def _basic_credentials(header: str) -> tuple[str, str]:
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


# -- HTTP plumbing ------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: SandboxServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    # Clients see Tripletex's header, not Python's version banner.
    server_version = "tripletex-sandbox"
    sys_version = ""
    # Set by the stdlib's handle_one_request before parse_request; typeshed does not declare it.
    raw_requestline: bytes
    # The lean parse's headers by lower-case name; None when the stdlib parsed `self.headers`.
    _lean_headers: dict[str, str] | None = None

    def setup(self) -> None:
        super().setup()
        # One write per response plus no Nagle: keep-alive clients never wait on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """Parse the request line and headers; a lean path for plain HTTP/1.x requests.

        The stdlib parses headers with the email package, which cost ~40 % of a cached
        balance-sheet request; anything unusual still goes through the stdlib.
        """
        self._lean_headers = None  # keep-alive: this handler already parsed earlier requests
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return super().parse_request()
        self.command, self.path, self.request_version = words
        self.requestline = requestline
        headers: dict[str, str] = {}
        for _ in range(100):
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("iso-8859-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            self.send_error(431, "Too many headers")
            return False
        self._lean_headers = headers
        connection = headers.get("connection", "").lower()
        if words[2] == "HTTP/1.0":
            self.close_connection = connection != "keep-alive"
        else:
            self.close_connection = connection == "close"
        if headers.get("expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def header(self, name: str, default: str = "") -> str:
        """A request header's value (case-insensitive), whichever parser read the request."""
        if self._lean_headers is not None:
            return self._lean_headers.get(name.lower(), default)
        return self.headers.get(name, default)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging (the benchmark would measure the terminal)."""

    def do_GET(self) -> None:
        """Dispatch a GET."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Dispatch a POST."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Dispatch a PUT."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Dispatch a DELETE."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        sandbox = self.server.sandbox
        request_id = str(uuid.uuid4())
        length = int(self.header("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if path.startswith("/_sandbox/") and sandbox.admin:
            status, payload = _admin(sandbox, method, path, body)
            self._reply(status, payload, request_id, {})
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        ctx = Context(
            method,
            path,
            query,
            body,
            request_id,
            authorization=self.header("Authorization"),
            content_type=self.header("Content-Type"),
            base_url=f"http://{self.header('Host') or sandbox.host}/v2",
        )
        headers: dict[str, str]
        if not path.startswith("/v2/"):
            status, payload, headers = (
                404,
                sandbox._error_body(ApiError(404, 6000, f"Fant ikke {path}."), ctx),
                {},
            )
        else:
            ctx.path = path[3:]
            status, payload, headers = sandbox.handle(ctx)
        if ctx.drop_reply:
            # Fault: the voucher (or the attachment) is stored, but the client never hears.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(status, payload, request_id, headers)

    def _reply(self, status: int, payload: Any, request_id: str, headers: dict[str, str]) -> None:
        if isinstance(payload, bytes):
            data = payload
        else:
            data = b"" if payload is None else encode_json(payload)
        reason = self.responses.get(status, ("",))[0]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            "Server: tripletex-sandbox",
            f"Date: {self.date_time_string()}",
            f"x-tlx-request-id: {request_id}",
            f"Content-Length: {len(data)}",
        ]
        if payload is not None:
            lines.append("Content-Type: application/json; charset=utf-8")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + data)


def _admin(sandbox: SandboxServer, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """The --admin endpoints: GET/PUT/POST/DELETE /_sandbox/faults, POST /_sandbox/reset."""
    if path == "/_sandbox/faults":
        if method in ("PUT", "POST", "PATCH"):
            try:
                sandbox.faults.update(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return 400, {"status": 400, "message": str(exc)}
        elif method == "DELETE":
            sandbox.reset_faults()
        return 200, sandbox.faults.as_dict()
    if path == "/_sandbox/reset" and method == "POST":
        sandbox.store.reset()
        sandbox.reset_faults()
        return 200, {"status": "reset"}
    return 404, {"status": 404, "message": f"unknown admin path {path}"}

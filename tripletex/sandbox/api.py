"""Shared request/response pieces of the sandbox: ApiError, the request context, JSON.

`ApiError` becomes Tripletex's error body; `Context` is one parsed request with typed query
accessors; `encode_json` writes Decimals as exact JSON numbers. `Server` is what a handler needs
from the server, so `endpoints` never imports `server` (which imports `endpoints` for routing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from .faults import Faults
from .fields import Projector, Tree
from .store import Store, TokenInfo

DOCS_LINK = "https://tripletex.no/v2-docs/"
VALIDATION_FAILED = "Validering feilet."
_DECIMAL_MARK = re.compile(r'"\\u0000D(-?[0-9.]+)"')


class ApiError(Exception):
    """An error answered with Tripletex's ApiError body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        validation: list[tuple[str, str]] | None = None,
        developer: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.validation = validation or []
        self.developer = developer or message
        self.headers = headers or {}


def validation_error(messages: list[tuple[str, str]]) -> ApiError:
    """422/18000 with (field, message) validation messages."""
    return ApiError(422, 18000, VALIDATION_FAILED, messages)


def encode_json(payload: Any) -> bytes:
    """JSON bytes with Decimals written as exact numbers (never via float)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return "\x00D" + format(value, "f")
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=default)
    if "\\u0000D" in text:
        text = _DECIMAL_MARK.sub(r"\1", text)
    return text.encode("utf-8")


@dataclass
class Context:
    """One parsed request."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    request_id: str
    authorization: str = ""
    content_type: str = ""
    base_url: str = ""
    params: dict[str, str] = field(default_factory=dict)
    token: TokenInfo | None = None
    company_id: int = 0
    projector: Projector | None = None
    tree: Tree | None = None
    drop_reply: bool = False

    def q_str(self, name: str) -> str | None:
        """A query parameter, None when absent or blank."""
        value = self.query.get(name)
        return value if value not in (None, "") else None

    def q_int(self, name: str, default: int | None = None) -> int | None:
        """An integer query parameter; raises 422 when malformed."""
        value = self.q_str(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise validation_error([(name, f"Ugyldig tall: {value}")]) from None

    def paging(self, default_count: int = 1000) -> tuple[int, int]:
        """(from, count) with Tripletex's defaults; negative values are a 422."""
        start = self.q_int("from", 0)
        count = self.q_int("count", default_count)
        start = 0 if start is None else start
        count = default_count if count is None else count
        if start < 0 or count < 0:
            raise validation_error([("from" if start < 0 else "count", "Må være 0 eller mer.")])
        return start, count

    def q_ids(self, name: str) -> list[int] | None:
        """A comma-separated id list parameter."""
        value = self.q_str(name)
        if value is None:
            return None
        try:
            return [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise validation_error([(name, f"Ugyldig liste: {value}")]) from None

    def q_bool(self, name: str, default: bool | None = None) -> bool | None:
        """A boolean query parameter."""
        value = self.q_str(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise validation_error([(name, f"Ugyldig verdi: {value}")])
        return value.lower() == "true"

    def q_date(self, name: str, *, required: bool = False) -> date | None:
        """A YYYY-MM-DD query parameter; raises 422 when missing (if required) or malformed."""
        value = self.q_str(name)
        if value is None:
            if required:
                raise validation_error([(name, "Kan ikke være null.")])
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise validation_error([(name, f"Ugyldig dato: {value}")]) from None


class Server(Protocol):
    """What an endpoint handler uses of the server (`server.SandboxServer` provides it)."""

    store: Store
    faults: Faults
    # Encoded balance sheets keyed by company, ledger version and query.
    response_cache: dict[tuple[Any, ...], bytes]

    def resolver(self, company_id: int) -> Callable[[str, int], dict[str, Any] | None]:
        """Look up any entity kind by id within one company (for `fields` expansion)."""
        ...

    def single(self, ctx: Context, entity: dict[str, Any], kind: str) -> dict[str, Any]:
        """The {"value": …} envelope of one projected entity."""
        ...

    def listing(
        self,
        ctx: Context,
        items: list[dict[str, Any]],
        kind: str,
        *,
        default_count: int = ...,
        total: int | None = ...,
        paged: bool = ...,
        extra: dict[str, Any] | None = ...,
    ) -> dict[str, Any]:
        """List envelope: sorting, from/count paging (unless already `paged`), projection."""
        ...


Handler = Callable[[Server, Context], tuple[int, Any]]

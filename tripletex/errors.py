"""Typed errors for every way a Tripletex call can fail, and the one status-to-class mapping.

Callers branch on the class, `status`, `code` and `validation_messages[].field`; never on
`message`, which Tripletex localises (the same company switched from Norwegian to English
messages overnight).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

# Methods whose repetition cannot change anything in Tripletex; everything else is a write.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REQUEST_ID_HEADER = "x-tlx-request-id"


@dataclass(frozen=True)
class ValidationMessage:
    """One entry of an ApiError's validationMessages: the field Tripletex blames, and why."""

    field: str
    message: str


class TripletexError(Exception):
    """Any failed Tripletex call; carries what support and callers need, never a token."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        request_id: str | None = None,
        validation_messages: tuple[ValidationMessage, ...] = (),
        method: str | None = None,
        path: str | None = None,
        developer_message: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.validation_messages = tuple(validation_messages)
        self.method = method
        self.path = path
        self.developer_message = developer_message
        # How many times the request was sent before we gave up (retries included).
        self.attempts = attempts

    @property
    def messages(self) -> tuple[str, ...]:
        """Validation messages as 'field: message' lines, for showing to a finance user."""
        return tuple(
            f"{vm.field}: {vm.message}" if vm.field else vm.message
            for vm in self.validation_messages
        )

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method and self.path else "Tripletex call"
        details = [f"HTTP {self.status}" if self.status is not None else None]
        details.append(f"code {self.code}" if self.code is not None else None)
        details.append(f"request id {self.request_id or 'unknown'}")
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        text = f"{where} failed{tries}: {self.message}"
        if self.validation_messages:
            text += " (" + "; ".join(self.messages) + ")"
        return f"{text} [{', '.join(d for d in details if d)}]"


class TripletexUnavailable(TripletexError):
    """Transient: timeout, connection error, 5xx or 429. Safe for a caller to retry later."""


class TripletexRateLimited(TripletexUnavailable):
    """429: the rate-limit window is used up; `retry_after` is the wait in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TripletexOutcomeUnknown(TripletexUnavailable):
    """A write may or may not have been applied: look it up before ever sending it again."""


class TripletexAuthError(TripletexError):
    """The credential is broken: 401 after one session renewal, or session creation refused."""


class TripletexForbidden(TripletexError):
    """403: authenticated but not allowed (entitlement, module, company access). Never retried."""


class TripletexNotFound(TripletexError):
    """404: wrong id, wrong company context, or a deleted object."""


class TripletexConflict(TripletexError):
    """409: stale version (8000), object exists/duplicate (7000/14000) or locked (10000)."""


class TripletexValidationError(TripletexError):
    """400/422: Tripletex rejected the request as invalid; permanent, see validation_messages."""


class TripletexResponseError(TripletexError):
    """A 2xx answer we cannot use: malformed JSON or an unexpected shape."""


class InvalidVoucherError(ValueError):
    """A voucher payload we refuse to send because Tripletex would reject it anyway."""


class VoucherNotBalancedError(InvalidVoucherError):
    """The postings do not sum to exactly 0, or there are fewer than two of them."""


# Status -> class for the statuses whose meaning does not depend on the method.
_STATUS_CLASSES: dict[int, type[TripletexError]] = {
    400: TripletexValidationError,
    401: TripletexAuthError,
    403: TripletexForbidden,
    404: TripletexNotFound,
    409: TripletexConflict,
    422: TripletexValidationError,
}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _envelope(response: requests.Response) -> dict[str, Any]:
    """The ApiError body as a dict; {} when empty, HTML from a proxy, or not an object."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _validation_messages(body: dict[str, Any]) -> tuple[ValidationMessage, ...]:
    raw = body.get("validationMessages") or []
    if not isinstance(raw, list):
        return ()
    return tuple(
        ValidationMessage(
            field=str(item.get("field") or ""), message=str(item.get("message") or "")
        )
        for item in raw
        if isinstance(item, dict)
    )


def error_from_response(response: requests.Response, *, method: str, path: str) -> TripletexError:
    """Build the typed error for a non-2xx response; `path` must already be free of tokens."""
    body = _envelope(response)
    status = response.status_code
    method = method.upper()
    kwargs: dict[str, Any] = {
        "status": status,
        "code": _int_or_none(body.get("code")),
        "request_id": response.headers.get(REQUEST_ID_HEADER) or body.get("requestId") or None,
        "validation_messages": _validation_messages(body),
        "method": method,
        "path": path,
        "developer_message": body.get("developerMessage") or None,
    }
    message = str(body.get("message") or response.reason or "no message")
    if status == 429:
        # Tripletex's own header first; Retry-After in case a proxy in front of it adds one.
        retry_after = _float_or_none(response.headers.get("X-Rate-Limit-Reset"))
        if retry_after is None:
            retry_after = _float_or_none(response.headers.get("Retry-After"))
        return TripletexRateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        # A write answered 5xx may still have been saved (seen live with vouchers).
        if method in IDEMPOTENT_METHODS:
            return TripletexUnavailable(message, **kwargs)
        return TripletexOutcomeUnknown(message, **kwargs)
    return _STATUS_CLASSES.get(status, TripletexError)(message, **kwargs)

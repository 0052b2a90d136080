"""Fault knobs of the sandbox: latency, random 500s, rate limits, dropped replies, corruption.

One mutable `Faults` object per server. Tests flip attributes directly (`server.faults`), the
CLI sets them at start, and `/_sandbox/faults` (only with --admin) reads and updates them as
JSON. Counters (`fail_next`, `fail_path_statuses`, `drop_reply_after_voucher_store`,
`drop_reply_after_attachment_store`, `limit_voucher_writes`, `hold_voucher_writes`) are consumed
under a lock so concurrent requests never take the same fault twice.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

DEFAULT_RATE_LIMIT = 100_000
DEFAULT_RATE_WINDOW = 60.0


@dataclass
class Faults:
    """Mutable fault settings; defaults mean a well-behaved server."""

    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_window: float = DEFAULT_RATE_WINDOW
    omit_reset_on_429: bool = False
    drop_reply_after_voucher_store: int = 0
    # Attachment uploads (POST /ledger/voucher/{id}/attachment), counted down per upload: the
    # file is appended to the voucher, then the connection drops before any answer, as when a
    # reply is lost on the way (the client cannot tell whether the upload happened).
    drop_reply_after_attachment_store: int = 0
    # Voucher writes (POST /ledger/voucher, PUT :reverse), counted down per write: answer 429
    # with an X-Rate-Limit-Reset of `limit_voucher_writes_reset` s before anything is stored,
    # or store only after `hold_voucher_writes_seconds`, as a slow Tripletex does while the
    # client has long given up on the request.
    limit_voucher_writes: int = 0
    limit_voucher_writes_reset: int = 1
    hold_voucher_writes: int = 0
    hold_voucher_writes_seconds: float = 2.0
    fail_next: int = 0
    fail_next_status: int = 500
    # The next requests to `fail_path` ("POST /ledger/voucher"; a bare path matches any method)
    # answer with these statuses, one per request in order, before anything else runs; a 0 lets
    # its request through. A 429 here has no X-Rate-Limit-Reset (limit_voucher_writes has one).
    fail_path: str = ""
    fail_path_statuses: tuple[int, ...] = ()
    # Lookups that answer without vouchers that exist: `>externalVoucherNumber` (README §11a: it
    # may not find vouchers made by POST /ledger/voucher at all) and the date list
    # GET /ledger/voucher (a search that has not caught up with a fresh voucher yet).
    blind_external_lookup: bool = False
    blind_voucher_search: bool = False
    # Statuses the next session creations (PUT /token/session/:create) answer with, one per call
    # in order, before the tokens are even looked at; a 429 carries an X-Rate-Limit-Reset of
    # `fail_session_create_reset` s (unless omit_reset_on_429). E.g. (429, 500): two refusals.
    fail_session_create: tuple[int, ...] = ()
    fail_session_create_reset: int = 1
    # A key that may not see salary: /ledger/posting leaves out every posting of a salary voucher
    # ("Lønnsbilag"), while /balanceSheet still counts them (README §8.3, §3 "Authorisation
    # filtering": 200 with rows missing, not an error).
    hide_salary_postings: bool = False
    unbalance_month: str | None = None
    unbalance_company_id: int | None = None
    unbalance_account_number: int = 1920
    unbalance_amount: Decimal = Decimal("100.00")
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _random: random.Random = field(
        default_factory=lambda: random.Random(4102), repr=False, compare=False
    )

    def reset(self) -> None:
        """Put every knob back to its default."""
        for f in fields(self):
            if not f.name.startswith("_"):
                setattr(self, f.name, f.default)

    def as_dict(self) -> dict[str, Any]:
        """Knob values as JSON-friendly primitives."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from a JSON object; raises ValueError for an unknown knob."""
        names = {f.name: f for f in fields(self) if not f.name.startswith("_")}
        if isinstance(values.get("fail_next"), dict):
            spec = values.pop("fail_next")
            values["fail_next"] = int(spec.get("count", 1))
            values["fail_next_status"] = int(spec.get("status", 500))
        for key, value in values.items():
            if key not in names:
                raise ValueError(f"unknown fault knob {key!r}")
            default = names[key].default
            if value is None or default is None:
                setattr(self, key, value)
            elif isinstance(default, bool):
                setattr(self, key, bool(value))
            elif isinstance(default, Decimal):
                setattr(self, key, Decimal(str(value)))
            elif isinstance(default, tuple):
                setattr(self, key, tuple(int(item) for item in value))
            elif isinstance(default, int | float | str):
                setattr(self, key, type(default)(value))
            else:  # `fields()` allows a knob without a default; every knob here has one
                raise TypeError(f"fault knob {key!r} has no plain default")

    def take_session_create_fault(self) -> int | None:
        """The forced status for this session creation, if a `fail_session_create` one is left."""
        with self._lock:
            if not self.fail_session_create:
                return None
            status, *rest = self.fail_session_create
            self.fail_session_create = tuple(rest)
            return status

    def take_path_fault(self, method: str, path: str) -> int | None:
        """The forced status for this request, if it goes to `fail_path` and a status is left."""
        with self._lock:
            if not self.fail_path_statuses or self.fail_path not in (path, f"{method} {path}"):
                return None
            status, *rest = self.fail_path_statuses
            self.fail_path_statuses = tuple(rest)
            return status or None

    def take_fail_next(self) -> int | None:
        """The forced status for this request, if a `fail_next` fault is pending."""
        with self._lock:
            if self.fail_next <= 0:
                return None
            self.fail_next -= 1
            return self.fail_next_status

    def take_drop_reply(self) -> bool:
        """True if this voucher store should be answered by a dropped connection."""
        return self._take("drop_reply_after_voucher_store")

    def take_drop_attachment_reply(self) -> bool:
        """True if this attachment upload should be answered by a dropped connection."""
        return self._take("drop_reply_after_attachment_store")

    def take_limit_voucher_write(self) -> bool:
        """True if this voucher write should be refused with a 429."""
        return self._take("limit_voucher_writes")

    def take_hold_voucher_write(self) -> bool:
        """True if this voucher write should be stored only after a pause."""
        return self._take("hold_voucher_writes")

    def _take(self, counter: str) -> bool:
        with self._lock:
            if getattr(self, counter) <= 0:
                return False
            setattr(self, counter, getattr(self, counter) - 1)
            return True

    def roll_error(self) -> bool:
        """True if a read should fail with a random 500 (probability `error_rate`)."""
        if self.error_rate <= 0:
            return False
        with self._lock:
            return self._random.random() < self.error_rate

"""Bots on the public key-request page, without a third-party service.

Each rendering of the form carries a token signed with Django's signing framework
(`django.core.signing.dumps`, salted, tamper-proof under SECRET_KEY) holding a random nonce and
the time it was issued. A submission is refused when the token is missing or tampered with, older
than INTAKE_FORM_MAX_AGE_SECONDS, younger than INTAKE_FORM_MIN_SECONDS (no person fills in the
form that fast), or used before (its nonce is remembered in the cache until it would have expired
anyway), and when the honeypot field, hidden from people, has a value. Every refusal says the same
thing to the sender, so a bot learns nothing from it.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

SALT = "companies.intake.form-token"
HONEYPOT_FIELD = "website"


class BotCheckFailed(Exception):
    """The submission does not look like a person's; `reason` is for logs and tests only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return _(
            "The form had expired or was sent in an unusual way. Nothing was saved; please fill "
            "it in again and send it."
        )


def form_token_issue(*, now: float | None = None) -> str:
    """A fresh token for one rendering of the form."""
    issued = int(time.time() if now is None else now)
    return signing.dumps({"n": secrets.token_urlsafe(16), "t": issued}, salt=SALT, compress=True)


def form_token_check(token: str, *, now: float | None = None) -> None:
    """Accept the token once, within its time window. Raises BotCheckFailed."""
    now = time.time() if now is None else now
    try:
        payload = signing.loads(token or "", salt=SALT)
        nonce, issued = str(payload["n"]), int(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BotCheckFailed("bad-token") from None
    age = now - issued
    if age > settings.INTAKE_FORM_MAX_AGE_SECONDS:
        raise BotCheckFailed("expired")
    if age < settings.INTAKE_FORM_MIN_SECONDS:
        raise BotCheckFailed("too-fast")
    if not cache.add(f"intake-form-token:{nonce}", 1, timeout=settings.INTAKE_FORM_MAX_AGE_SECONDS):
        raise BotCheckFailed("replayed")


def honeypot_check(value: str) -> None:
    """People never see the field; anything in it was put there by a program."""
    if value:
        raise BotCheckFailed("honeypot")

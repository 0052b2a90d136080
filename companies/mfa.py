"""The second factor: an authenticator app (TOTP) and one-time recovery codes, on django-otp.

Who must: staff, anyone with the finance or admin role in any company, and everyone in a company
whose administrators require it. Anyone else (accountants) may turn it on, and then must use it.

The devices are django-otp devices of our own (companies/twofactor/models.py): `Authenticator`
for the app, its key encrypted with FIELD_ENCRYPTION_KEYS, and `RecoveryCodes`, each code stored
only as a keyed hash and deleted when used. django-otp marks a session verified
(`django_otp.login` stores the device in the session; `OTPMiddleware` gives
`request.user.otp_device`). It fits our own login views, which
allauth's MFA does not: that works only inside allauth's account login flow. Every code tried also
goes through the login throttle (companies/throttle.py), on top of django-otp's own growing delay per
device after a wrong code (`ThrottlingMixin`).

A signed-in, unverified session reaches nothing but the pages of the second step
(`MfaRequiredMiddleware`): the code page when the user has an authenticator, the enrolment page
when they must have one and do not yet.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any, Literal, cast
from urllib.parse import urlencode

import segno
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.models import Device

from companies.audit import audit_record
from companies.models import Company, Membership, Role, User
from companies.twofactor.models import Authenticator, RecoveryCodes

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"

Step = Literal["verify", "enrol"]

# Pages an unverified session may open: the second step itself, leaving, and the language switch.
OPEN_URL_NAMES = frozenset({"mfa_verify", "mfa_enrol", "logout", "set_language", "healthz"})


class MfaError(Exception):
    """A second-factor change that is not allowed (e.g. turning it off when it is required)."""


def is_verified(user: Any) -> bool:
    """True when this session was verified with one of the user's devices (OTPMiddleware)."""
    return getattr(user, "otp_device", None) is not None


# Who must use a second factor: staff always; in a company, finance and admin members, and
# everyone where the company requires it. `mfa_required` and `mfa_pending_step` both ask this.
MFA_MEMBERSHIPS = Q(role__in=[Role.FINANCE, Role.ADMIN]) | Q(company__require_mfa=True)


def _staff(user: Any) -> bool:
    return bool(user.is_staff or user.is_superuser)


def mfa_required(*, user: User) -> bool:
    """True for staff, finance and admin members of any company, and members of a company that
    requires a second factor for everyone."""
    return _staff(user) or Membership.objects.filter(MFA_MEMBERSHIPS, user=user).exists()


def mfa_enrolled(*, user: User) -> bool:
    """True when the user has a confirmed authenticator."""
    return Authenticator.objects.filter(user=user, confirmed=True).exists()


def mfa_pending_step(user: Any) -> Step | None:
    """What a signed-in session must do before anything else: enter a code, enrol, or nothing.

    One query, remembered on the request's user object (the middleware and the page's context
    both ask); a verified session asks nothing."""
    if not user.is_authenticated or is_verified(user):
        return None
    if hasattr(user, "_mfa_pending_step"):
        return cast(Step | None, user._mfa_pending_step)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            enrolled=Exists(Authenticator.objects.filter(user=OuterRef("pk"), confirmed=True)),
            strong=Exists(Membership.objects.filter(MFA_MEMBERSHIPS, user=OuterRef("pk"))),
        )
        .values("enrolled", "strong")
        .first()
    )
    step: Step | None = None
    if row is not None and row["enrolled"]:
        step = "verify"
    elif _staff(user) or (row is not None and row["strong"]):
        step = "enrol"
    user._mfa_pending_step = step
    return step


def mfa_step_url(step: Step, next_url: str) -> str:
    """The second step's page, coming back to `next_url` afterwards."""
    return reverse(f"mfa_{step}") + "?" + urlencode({"next": next_url})


def mfa_enrolment_device(*, user: User) -> Authenticator:
    """The authenticator being set up: made once, so a reload shows the same key until confirmed."""
    device = Authenticator.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = Authenticator.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def totp_manual_key(device: Authenticator) -> str:
    """The secret as authenticator apps take it typed in: base32 in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def totp_qr_data_uri(device: Authenticator) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (allowed by our CSP's img-src)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2))


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


@transaction.atomic
def mfa_enrolment_confirm(*, user: User, device: Authenticator, code: str) -> list[str] | None:
    """Confirm the authenticator with a code from it: the new recovery codes, or None if wrong.

    A confirmed authenticator replaces any earlier one (a new phone)."""
    if device.user_id != user.pk or device.confirmed:
        raise MfaError("This authenticator is not being set up for you.")
    if not device.verify_token(_normalise(code)):
        return None
    Authenticator.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user=user)
    audit_record(company=None, actor=user, action="mfa.enrolled", detail=user.email)
    return codes


def _recovery_code() -> str:
    # As django-otp's StaticToken.random_token: 40 random bits in eight base32 letters and digits.
    return base64.b32encode(os.urandom(5)).decode().lower()


def _recovery_codes_replace(*, user: User) -> list[str]:
    RecoveryCodes.objects.filter(user=user).delete()
    device = RecoveryCodes.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    device.codes_set(codes)
    return codes


@transaction.atomic
def mfa_recovery_codes_renew(*, user: User) -> list[str]:
    """New recovery codes for an enrolled user (the old ones stop working)."""
    if not mfa_enrolled(user=user):
        raise MfaError("Set up an authenticator first.")
    codes = _recovery_codes_replace(user=user)
    audit_record(company=None, actor=user, action="mfa.recovery_codes_renewed", detail=user.email)
    return codes


def mfa_recovery_codes_left(*, user: User) -> int:
    """How many unused recovery codes the user has."""
    return RecoveryCodes.objects.filter(user=user, confirmed=True).aggregate(n=Count("codes"))["n"]


def mfa_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts `code` (six digits: the authenticator; else a recovery code, which
    is then used up), or None."""
    code = _normalise(code)
    if not code:
        return None
    kind: type[Authenticator | RecoveryCodes]
    kind = Authenticator if code.isdigit() and len(code) == 6 else RecoveryCodes
    with transaction.atomic():
        # Locked, as django-otp's devices_for_user(for_verify=True): a code works only once even
        # when two requests bring it at the same moment.
        devices = kind.objects.filter(user=user, confirmed=True).select_for_update()
        for device in devices:
            if device.verify_token(code):
                break
        else:
            return None
    if isinstance(device, RecoveryCodes):
        audit_record(company=None, actor=user, action="mfa.recovery_code_used", detail=user.email)
    return device


def _devices_delete(user: User) -> None:
    Authenticator.objects.filter(user=user).delete()
    RecoveryCodes.objects.filter(user=user).delete()


@transaction.atomic
def mfa_reset(*, user: User, by: User | None) -> None:
    """Remove the user's authenticator and recovery codes (a lost device); they enrol again at
    their next login. Recorded in the audit log."""
    _devices_delete(user)
    audit_record(company=None, actor=by, action="mfa.reset", detail=user.email)


def mfa_disable(*, user: User) -> None:
    """Turn the second factor off for a user who is not required to have it."""
    if mfa_required(user=user):
        raise MfaError("Your role requires two-step login.")
    with transaction.atomic():
        _devices_delete(user)
        audit_record(company=None, actor=user, action="mfa.disabled", detail=user.email)


def company_mfa_policy_set(*, company: Company, required: bool, by: User) -> None:
    """Require (or stop requiring) a second factor of everyone in the company."""
    if company.require_mfa == required:
        return
    company.require_mfa = required
    company.save(update_fields=["require_mfa"])
    action = "company.mfa_required" if required else "company.mfa_optional"
    audit_record(company=company, actor=by, action=action)


class MfaRequiredMiddleware:
    """Keeps a signed-in session that still owes its second step on that step's pages.

    After AuthenticationMiddleware and OTPMiddleware; it acts in process_view, once the URL is
    resolved, so it can tell the second step's own pages by name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_URL_NAMES:
            return None
        step = mfa_pending_step(request.user)
        if step is None:
            return None
        return HttpResponseRedirect(mfa_step_url(step, request.get_full_path()))

"""A connection request's life: verified and stored encrypted, then approved or rejected by staff.

Nothing is stored until Tripletex has accepted the key for every organisation number (the same
verification as staff onboarding); the key is encrypted before anything else happens to it and
exists in plain text only in memory, for the verification and, on approval, for the onboarding
service. The requester gets an e-mail when the request arrives, when it is approved and when it is
rejected (with the reason); no e-mail, page, log line or audit entry carries the key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from companies import crypto
from companies.audit import audit_record
from companies.models import Company, KeyRequest, OfficeKey, TripletexConnection, User
from companies.onboarding.saving import connection_key_store, firm_onboard
from companies.onboarding.verification import (
    ClientChoiceNeeded,
    OnboardingError,
    key_verify,
    org_number_taken,
)
from companies.services import MemberError, NewMember, member_invite
from companies.throttle import LoginThrottle

logger = logging.getLogger(__name__)


class KeyRequestError(Exception):
    """The request cannot be decided this way; the message is for staff."""


def intake_throttle() -> LoginThrottle:
    """companies/throttle.py's per-address rule with the intake's own figures and counts."""
    return LoginThrottle(
        cache=cache,
        account_attempts=settings.INTAKE_THROTTLE_ATTEMPTS,
        address_attempts=settings.INTAKE_THROTTLE_ATTEMPTS,
        seconds=settings.INTAKE_THROTTLE_SECONDS,
        namespace="intake",
    )


@dataclass(frozen=True)
class RequestedFirm:
    """One organisation number of a request as Tripletex confirmed it."""

    org_number: str
    name: str
    client_company_id: int | None = None
    existing: bool = False
    warnings: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "org_number": self.org_number,
            "name": self.name,
            "client_company_id": self.client_company_id,
            "existing": self.existing,
            "warnings": list(self.warnings),
        }


@sensitive_variables("token")
def _verify_all(*, key_type: str, token: str, org_numbers: Sequence[str]) -> list[RequestedFirm]:
    firms = []
    for org_number in org_numbers:
        try:
            verified = key_verify(org_number=org_number, key_type=key_type, token=token)
        except ClientChoiceNeeded:
            raise OnboardingError(
                _(
                    "Several clients of the office key have organisation number %(org)s, so we "
                    "cannot tell which one is meant. Send the request without it, and name the "
                    "client in the message to us."
                )
                % {"org": org_number},
                code="choose_client",
            ) from None
        # Told only now, to someone whose key Tripletex accepted for this number.
        firms.append(
            RequestedFirm(
                org_number=org_number,
                name=verified.company_name,
                client_company_id=verified.client_company_id,
                existing=org_number_taken(org_number=org_number) is not None,
                warnings=verified.warnings,
            )
        )
    return firms


@sensitive_variables("token")
def key_request_submit(
    *,
    contact_name: str,
    contact_email: str,
    key_type: str,
    token: str,
    org_numbers: Sequence[str],
    members: Sequence[NewMember],
    accounting_system: str,
    office_name: str = "",
    note: str = "",
) -> KeyRequest:
    """Verify the key for every organisation number, then store the request with the key
    encrypted and tell the requester it arrived. Raises OnboardingError (nothing stored)."""
    encrypted = crypto.encrypt(token)
    firms = _verify_all(key_type=key_type, token=token, org_numbers=org_numbers)
    with transaction.atomic():
        request = KeyRequest.objects.create(
            contact_name=contact_name,
            contact_email=contact_email.strip().lower(),
            office_name=office_name,
            accounting_system=accounting_system,
            key_type=key_type,
            token_encrypted=encrypted,
            firms=[firm.as_json() for firm in firms],
            members=[{"email": m.email, "role": m.role} for m in members],
            note=note,
        )
        audit_record(
            company=None,
            actor=None,
            action="key_request.received",
            detail=f"#{request.pk} {request.org_numbers_display} ({request.contact_email})",
        )
        transaction.on_commit(partial(key_request_email, key_request=request, step="received"))
    logger.info("Connection request %s received for %s firm(s)", request.pk, len(firms))
    return request


def _locked_pending(key_request: KeyRequest) -> KeyRequest:
    locked = KeyRequest.objects.select_for_update().get(pk=key_request.pk)
    if locked.status != KeyRequest.Status.PENDING:
        raise KeyRequestError(_("This request has been decided already."))
    return locked


def _decided(locked: KeyRequest, *, status: str, by: User | None, reason: str = "") -> None:
    """Record the decision and delete the key: a firm's connection holds it from now on."""
    locked.status = status
    locked.reason = reason
    locked.decided_by = by if by is not None and by.pk else None
    locked.decided_at = timezone.now()
    locked.token_encrypted = ""
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at", "token_encrypted"])


def _invite_new_people(company: Company, members: Sequence[NewMember], by: User | None) -> None:
    for member in members:
        try:
            member_invite(company=company, email=member.email, role=member.role, by=by)
        except MemberError:
            continue  # a member or invited already


@sensitive_variables("token")
def _connect_existing(
    *,
    company: Company,
    locked: KeyRequest,
    firm: dict,
    token: str,
    office_key: OfficeKey | None,
    members: Sequence[NewMember],
    by: User | None,
) -> TripletexConnection:
    verified = key_verify(
        org_number=company.org_number,
        key_type=locked.key_type,
        token="" if office_key else token,
        office_key=office_key,
        client_company_id=firm.get("client_company_id"),
    )
    connection = connection_key_store(
        company=company,
        verified=verified,
        key_type=locked.key_type,
        token="" if office_key else token,
        office_key=office_key,
        office_name=locked.office_name,
        by=by,
    )
    _invite_new_people(company, members, by)
    return connection


@sensitive_variables("token")
@transaction.atomic
def key_request_approve(*, key_request: KeyRequest, by: User | None) -> list[Company]:
    """Create (or, for a firm already here, reconnect) every firm of the request through the
    onboarding service, which verifies the key again and invites the people; all or nothing.
    Raises KeyRequestError, or OnboardingError when Tripletex no longer accepts the key."""
    locked = _locked_pending(key_request)
    try:
        token = crypto.decrypt(locked.token_encrypted)
    except crypto.KeyDecryptError:
        raise KeyRequestError(
            _("The request's key cannot be decrypted any more; reject the request.")
        ) from None
    members = [NewMember(email=m["email"], role=m["role"]) for m in locked.members]
    office_key: OfficeKey | None = None
    companies: list[Company] = []
    for firm in locked.firms:
        company = org_number_taken(org_number=firm["org_number"])
        if company is None:
            result = firm_onboard(
                org_number=firm["org_number"],
                name="",
                members=members,
                key_type=locked.key_type,
                token="" if office_key else token,
                office_key=office_key,
                office_name=locked.office_name,
                client_company_id=firm.get("client_company_id"),
                by=by,
            )
            company, connection = result.company, result.connection
        else:
            connection = _connect_existing(
                company=company,
                locked=locked,
                firm=firm,
                token=token,
                office_key=office_key,
                members=members,
                by=by,
            )
        if locked.key_type == TripletexConnection.KeyType.OFFICE:
            office_key = connection.office_key  # one office key for all the request's clients
        companies.append(company)
    _decided(locked, status=KeyRequest.Status.APPROVED, by=by)
    audit_record(
        company=None,
        actor=by,
        action="key_request.approved",
        detail=f"#{locked.pk} {locked.org_numbers_display}",
    )
    transaction.on_commit(partial(key_request_email, key_request=locked, step="approved"))
    return companies


@transaction.atomic
def key_request_reject(*, key_request: KeyRequest, reason: str, by: User | None) -> None:
    """Reject the request with a reason the requester reads in the e-mail; the key is deleted."""
    reason = reason.strip()
    if not reason:
        raise KeyRequestError(_("Say why the request is rejected: the requester reads it."))
    locked = _locked_pending(key_request)
    _decided(locked, status=KeyRequest.Status.REJECTED, by=by, reason=reason)
    audit_record(
        company=None,
        actor=by,
        action="key_request.rejected",
        detail=f"#{locked.pk} {locked.org_numbers_display}: {reason}",
    )
    transaction.on_commit(partial(key_request_email, key_request=locked, step="rejected"))


def key_request_email(*, key_request: KeyRequest, step: str) -> None:
    """Tell the requester (in bokmål) that the request arrived, was approved or was rejected."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {"request": key_request, "firms": key_request.firms}
        subject = render_to_string(f"companies/email/key_request_{step}_subject.txt", context)
        body = render_to_string(f"companies/email/key_request_{step}.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()), body=body, to=[key_request.contact_email]
    ).send()
    logger.info("Connection request %s: %s e-mail sent", key_request.pk, step)

"""Onboarding's writes: create the firm, its Tripletex connection and its members, all or nothing.

Each entry point verifies first (companies.onboarding.verification) and saves only what Tripletex
accepted; a failure raises OnboardingError and leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from kombu.exceptions import OperationalError

from companies.audit import audit_record
from companies.credentials import (
    connection_mark,
    connection_set_office_key,
    connection_set_own_key,
    office_key_set,
)
from companies.models import Company, Invitation, OfficeKey, TripletexConnection, User
from companies.onboarding.verification import (
    Coverage,
    OnboardingError,
    Verified,
    coverage_probe,
    key_verify,
    office_clients_list,
    office_key_token,
    org_number_clean,
    org_number_taken,
)
from companies.services import NewMember, company_create, members_add
from tripletex.factory import make_client
from tripletex.schemas import ClientCompany

logger = logging.getLogger(__name__)

# The ledger's task that proposes a firm's GL accounts from its chart (ledger/transactions/tasks.py
# registers it under this name).
GL_ACCOUNTS_PROPOSE_TASK = "ledger.transactions_tasks.gl_accounts_propose_task"


@dataclass
class OnboardResult:
    """What firm_onboard did, for the confirmation message and the command's output."""

    company: Company
    connection: TripletexConnection
    # Everyone listed is invited; nobody is a member before accepting (companies/invitations.py).
    invitations: list[Invitation] = field(default_factory=list)


def connection_verified(*, company: Company, warnings: Sequence[str]) -> None:
    """Mark the company's connection connected, keeping the probe's warnings for staff, and have
    the firm's GL accounts proposed from its chart once this commits."""
    connection_mark(company=company, status=TripletexConnection.Status.CONNECTED)
    TripletexConnection.objects.filter(company=company).update(coverage_problems=list(warnings))
    transaction.on_commit(lambda: _gl_accounts_propose(company.pk))


def _gl_accounts_propose(company_id: int) -> None:
    """Enqueue the ledger's proposal of each GL role from the firm's own chart, by the task's stable
    name (companies never imports ledger). A broker that is down loses nothing: the GL settings page
    proposes again whenever it knows the chart."""
    try:
        current_app.tasks[GL_ACCOUNTS_PROPOSE_TASK].delay(company_id=company_id)
    except (KeyError, OperationalError):
        logger.warning("Onboarding: could not enqueue the GL account proposal of %s", company_id)


def office_key_verified(*, office_key: OfficeKey, verified: Verified) -> None:
    """Store what Tripletex said about the office behind a verified office key."""
    office_key.org_number = verified.office_org_number[:9]
    office_key.tripletex_company_id = verified.office_company_id
    office_key.verified_at = timezone.now()
    office_key.save(update_fields=["org_number", "tripletex_company_id", "verified_at"])


@sensitive_variables("token")
def firm_onboard(
    *,
    org_number: str,
    name: str,
    members: Sequence[NewMember],
    key_type: str,
    token: str = "",
    office_key: OfficeKey | None = None,
    office_name: str = "",
    client_company_id: int | None = None,
    by: User | None,
) -> OnboardResult:
    """Verify the key, then create the firm, its connection and members. Raises OnboardingError."""
    if org_number_taken(org_number=org_number):
        raise OnboardingError(
            _("A company with organisation number %(org)s already exists.") % {"org": org_number},
            code="duplicate",
        )
    verified = key_verify(
        org_number=org_number,
        key_type=key_type,
        token=token,
        office_key=office_key,
        client_company_id=client_company_id,
    )
    try:
        return _firm_save(
            verified=verified,
            name=name or verified.company_name,
            members=members,
            key_type=key_type,
            token=token,
            office_key=office_key,
            office_name=office_name,
            by=by,
        )
    except IntegrityError:
        raise OnboardingError(
            _("A company with organisation number %(org)s already exists.") % {"org": org_number},
            code="duplicate",
        ) from None


@sensitive_variables("token")
@transaction.atomic
def _firm_save(
    *,
    verified: Verified,
    name: str,
    members: Sequence[NewMember],
    key_type: str,
    token: str,
    office_key: OfficeKey | None,
    office_name: str,
    by: User | None,
) -> OnboardResult:
    company = company_create(org_number=verified.org_number, name=name[:200])
    connection_key_store(
        company=company,
        verified=verified,
        key_type=key_type,
        token=token,
        office_key=office_key,
        office_name=office_name,
        by=by,
    )
    invitations = members_add(company=company, members=members, by=by)
    audit_record(
        company=company,
        actor=by,
        action="company.onboarded",
        detail=_("Onboarded with %(kind)s; %(n)s user(s)")
        % {"kind": TripletexConnection.KeyType(key_type).label, "n": len(members)},
    )
    connection = TripletexConnection.objects.get(company=company)
    return OnboardResult(company=company, connection=connection, invitations=invitations)


@transaction.atomic
def _client_firm_save(
    *, office_key: OfficeKey, client: ClientCompany, coverage: Coverage, by: User | None
) -> Company:
    company = company_create(org_number=client.organization_number, name=client.name[:200])
    connection_set_office_key(
        company=company, office_key=office_key, client_company_id=client.id, by=by
    )
    if coverage.blocking:
        connection_mark(
            company=company,
            status=TripletexConnection.Status.NOT_VERIFIED,
            reason=" ".join(coverage.blocking),
        )
    else:
        connection_verified(company=company, warnings=coverage.warnings)
    audit_record(
        company=company,
        actor=by,
        action="company.onboarded",
        detail=_("Added from the office key of %(office)s") % {"office": office_key.name},
    )
    return company


def office_clients_add(
    *, office_key: OfficeKey, client_ids: Sequence[int], by: User | None
) -> tuple[list[Company], list[str]]:
    """Create a firm for each chosen client of the office key; returns (created, skipped reasons)."""
    token = office_key_token(office_key)
    _office, clients = office_clients_list(token=token)
    by_id = {c.id: c for c in clients}
    created: list[Company] = []
    skipped: list[str] = []
    for client_id in client_ids:
        client = by_id.get(int(client_id))
        if client is None:
            skipped.append(_("Client %(id)s is no longer reachable.") % {"id": client_id})
            continue
        try:
            org_number = org_number_clean(client.organization_number)
        except ValidationError:
            skipped.append(
                _("%(name)s has no valid organisation number in Tripletex.") % {"name": client.name}
            )
            continue
        if org_number_taken(org_number=org_number):
            skipped.append(_("%(name)s already exists.") % {"name": client.name})
            continue
        coverage = coverage_probe(client=make_client(employee_token=token, company_id=client.id))
        created.append(
            _client_firm_save(office_key=office_key, client=client, coverage=coverage, by=by)
        )
    return created, skipped


@sensitive_variables("token")
@transaction.atomic
def connection_key_store(
    *,
    company: Company,
    verified: Verified,
    key_type: str,
    token: str = "",
    office_key: OfficeKey | None = None,
    office_name: str = "",
    by: User | None,
) -> TripletexConnection:
    """Store a key that key_verify() accepted for an existing firm and mark it connected."""
    if key_type == TripletexConnection.KeyType.OWN:
        connection_set_own_key(company=company, token=token, by=by)
    else:
        if office_key is None:
            office_key = office_key_set(
                office_key=None,
                name=office_name or verified.office_name,
                token=token,
                by=by,
            )
            office_key_verified(office_key=office_key, verified=verified)
        connection_set_office_key(
            company=company,
            office_key=office_key,
            client_company_id=verified.client_company_id,
            by=by,
        )
    connection_verified(company=company, warnings=verified.warnings)
    return TripletexConnection.objects.get(company=company)

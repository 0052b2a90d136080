"""Read-only queries about companies and memberships."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from companies.models import Company, Invitation, Membership, TripletexConnection, User
from companies.twofactor.models import Authenticator
from tripletex.schemas import ClientCompany


def companies_for_user(*, user: User) -> QuerySet[Company]:
    """The companies the user is a member of, by name."""
    return Company.objects.filter(memberships__user=user).order_by("name")


def membership_get(*, user: User, company_slug: str) -> Membership | None:
    """The user's membership in the company with that slug, or None (unknown slug or not a member)."""
    return (
        Membership.objects.select_related("company")
        .filter(user=user, company__slug=company_slug)
        .first()
    )


def members_of(*, company: Company) -> QuerySet[Membership]:
    """The company's memberships with their users, by e-mail; `has_mfa` says whether the user has
    set up an authenticator."""
    has_mfa = Exists(Authenticator.objects.filter(user=OuterRef("user"), confirmed=True))
    rows = Membership.objects.filter(company=company).select_related("user")
    return rows.annotate(has_mfa=has_mfa).order_by("user__email")


def invitations_pending(*, company: Company) -> QuerySet[Invitation]:
    """The company's invitations waiting for an answer (expired ones too), by e-mail: only what
    the firm typed itself (address, role) and when it was sent."""
    return Invitation.objects.filter(company=company, status=Invitation.Status.PENDING).order_by(
        "email"
    )


@dataclass(frozen=True)
class OfficeClientRow:
    """One client an office key reaches, and whether it can be added as a new firm."""

    client: ClientCompany
    org_number_valid: bool
    existing: Company | None

    @property
    def can_add(self) -> bool:
        return self.org_number_valid and self.existing is None


def office_client_rows(*, clients: Sequence[ClientCompany]) -> list[OfficeClientRow]:
    """The office's clients with the firm that already has each organisation number, if any."""
    from stdnum.no import orgnr

    existing = {
        c.org_number: c
        for c in Company.objects.filter(org_number__in=[c.organization_number for c in clients])
    }
    return [
        OfficeClientRow(
            client=client,
            org_number_valid=bool(orgnr.is_valid(client.organization_number)),
            existing=existing.get(client.organization_number),
        )
        for client in clients
    ]


def connection_for(*, company: Company) -> TripletexConnection | None:
    """The company's Tripletex connection with its office key and who set the key, or None."""
    return (
        TripletexConnection.objects.select_related("office_key", "token_set_by")
        .filter(company=company)
        .first()
    )

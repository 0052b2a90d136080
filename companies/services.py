"""Writes about companies and their people."""

from django.db import transaction

from companies.models import Company, Membership, Role, User


@transaction.atomic
def company_create(*, org_number: str, name: str) -> Company:
    """Create a company with a unique URL name."""
    return Company.objects.create(
        org_number=org_number, name=name, slug=Company.slug_for(name, org_number)
    )


def membership_set(*, company: Company, user: User, role: Role | str) -> Membership:
    """Give the user this role in the company (adds the membership or changes its role)."""
    membership, _ = Membership.objects.update_or_create(
        company=company, user=user, defaults={"role": Role(role)}
    )
    return membership


def heartbeat_record(*, name: str) -> None:
    """Store now as the last sign of life of `name`."""
    from django.utils import timezone

    from companies.models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})

"""Read-only queries about companies and memberships."""

from django.db.models import QuerySet

from companies.models import Company, Membership, User


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

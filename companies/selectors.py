"""Read-only queries about companies and memberships."""

from django.db.models import QuerySet

from companies.models import Company, Membership, User


def companies_for_user(*, user: User) -> QuerySet[Company]:
    """The companies the user is a member of, by name."""
    return Company.objects.filter(memberships__user=user).order_by("name")


def companies_overview(*, user: User) -> list[Company]:
    """The user's companies with the user's role on each (as `.role`), by name."""
    memberships = Membership.objects.filter(user=user).select_related("company")
    rows = []
    for membership in memberships.order_by("company__name"):
        company = membership.company
        company.role = membership.role  # type: ignore[attr-defined]
        rows.append(company)
    return rows


def membership_get(*, user: User, company_slug: str) -> Membership | None:
    """The user's membership in the company with that slug, or None (unknown slug or not a member)."""
    return (
        Membership.objects.select_related("company")
        .filter(user=user, company__slug=company_slug)
        .first()
    )


def members_of(*, company: Company) -> QuerySet[Membership]:
    """The company's memberships with their users, by e-mail."""
    return Membership.objects.filter(company=company).select_related("user").order_by("user__email")

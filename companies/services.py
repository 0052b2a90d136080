"""Writes about companies and their people."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.audit import audit_record
from companies.invitations import invitation_create
from companies.models import Company, Heartbeat, Invitation, Membership, Role, User


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


@dataclass(frozen=True)
class NewMember:
    """One person to invite to a firm: an e-mail and a role (a line of the onboarding form's list)."""

    email: str
    role: str


def members_add(
    *, company: Company, members: Sequence[NewMember], by: User | None
) -> list[Invitation]:
    """Invite each e-mail with its role (the e-mails go out after commit); nobody gets access
    before accepting, whether or not the address already has an account."""
    return [
        invitation_create(company=company, email=member.email, role=member.role, by=by)
        for member in members
    ]


def heartbeat_record(*, name: str) -> None:
    """Store now as the last sign of life of `name`."""
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


# ---- a firm's administrators manage its people --------------------------------------------------


class MemberError(ValueError):
    """A change to a company's members that is refused; the message is for the user."""


def _lock_for_change(company: Company, membership: Membership) -> tuple[Membership, int]:
    """The member's row and how many other administrators the company has, with every
    administrator's row locked until the transaction ends.

    Locking only the member's own row let two administrators each step down while the other still
    looked like one (PostgreSQL's READ COMMITTED: each read the other's row as last committed).
    Here every change takes the company's admin rows first, in primary-key order so that two
    changes never deadlock: the second waits for the first one's commit, and PostgreSQL then
    re-evaluates `role = 'admin'` on the updated row ("the WHERE clause is re-evaluated to see if
    the updated version of the row still matches", PostgreSQL docs, Transaction Isolation, Read
    Committed), so the administrator just demoted or removed is no longer counted. SQLite takes
    one writer at a time and needs no row locks (Django ignores select_for_update there)."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(company=company, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = Membership.objects.select_for_update().get(pk=membership.pk, company=company)
    return locked, sum(1 for pk in admins if pk != locked.pk)


@transaction.atomic
def member_invite(*, company: Company, email: str, role: Role | str, by: User | None) -> Invitation:
    """Invite a person by e-mail: the same answer and the same work for every address that is not
    already a member or invited (the firm sees those two in its own list anyway)."""
    email = email.strip().lower()
    if Membership.objects.filter(company=company, user__email__iexact=email).exists():
        raise MemberError(
            _("%(email)s is already a user of this company; change the role in the list instead.")
            % {"email": email}
        )
    pending = Invitation.objects.filter(
        company=company, email=email, status=Invitation.Status.PENDING
    )
    already = MemberError(
        _("%(email)s is invited already; send the invitation again from the list.")
        % {"email": email}
    )
    if pending.exists():
        raise already
    try:
        return invitation_create(company=company, email=email, role=role, by=by)
    except IntegrityError:  # the same address invited at the same moment
        raise already from None


@transaction.atomic
def member_role_change(
    *, company: Company, membership: Membership, role: Role | str, by: User | None
) -> Membership:
    """Change a member's role; the company always keeps an administrator."""
    locked, other_admins = _lock_for_change(company, membership)
    role = Role(role)
    if locked.role == role:
        return locked
    if locked.role == Role.ADMIN and not other_admins:
        raise MemberError(_("The company must keep at least one administrator."))
    locked.role = role
    locked.save(update_fields=["role"])
    audit_record(
        company=company,
        actor=by,
        action="membership.role_changed",
        detail=f"{locked.user.email}: {role.label}",
    )
    return locked


@transaction.atomic
def member_remove(*, company: Company, membership: Membership, by: User | None) -> None:
    """Take a person's access to the company away (their account stays for other firms)."""
    locked, other_admins = _lock_for_change(company, membership)
    if locked.role == Role.ADMIN and not other_admins:
        raise MemberError(_("The company must keep at least one administrator."))
    if by is not None and locked.user_id == by.pk:
        raise MemberError(_("You cannot remove yourself; ask another administrator."))
    audit_record(company=company, actor=by, action="membership.removed", detail=locked.user.email)
    locked.delete()

"""Invitations: a person is asked to join a company with a role, and gets access only by accepting.

An invitation is always an invitation. Inviting an address does the same work and gives the
inviter the same answer whether or not the address already has an account: no account is made
and nobody is added until the person opens the link and accepts (a new person chooses a password
there; someone with an account logs in and accepts). Until then the firm sees only the e-mail
address it typed, the role and when it was sent.

The link carries a random token (`secrets.token_urlsafe`, 256 bits); only its SHA-256 is stored.
It works while the invitation is pending and for PASSWORD_RESET_TIMEOUT seconds after it was last
sent (INVITATION_TIMEOUT_SECONDS in the environment). Sending it again replaces the token, and
withdrawing it (the firm removes the pending invitee) or answering it ends it: the old link then
shows "used, withdrawn or expired".
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import partial

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from companies.audit import audit_record
from companies.models import Company, Invitation, Membership, Role, User

logger = logging.getLogger(__name__)


class InvitationError(ValueError):
    """The invitation cannot be used this way; the message is for the person."""


def token_hash(token: str) -> str:
    """What is stored of an invitation link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_is_open(invitation: Invitation) -> bool:
    """True while the invitation waits for an answer and its link has not expired."""
    return invitation.status == Invitation.Status.PENDING and not invitation.is_expired


def invitation_by_hash(hashed: str) -> Invitation | None:
    """The open invitation whose token has this hash, or None."""
    invitation = (
        Invitation.objects.select_related("company", "invited_by")
        .filter(token_hash=hashed, status=Invitation.Status.PENDING)
        .first()
    )
    return invitation if invitation is not None and invitation_is_open(invitation) else None


def invitation_account(invitation: Invitation) -> User | None:
    """The account the invited address already logs in with (one with a password), or None."""
    return (
        User.objects.filter(email__iexact=invitation.email, is_active=True)
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .first()
    )


def invitation_url(token: str) -> str:
    """The absolute link in the e-mail."""
    return f"{settings.SITE_URL}{reverse('invitation_open', kwargs={'token': token})}"


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


@sensitive_variables("token")
def invitation_email_send(*, invitation: Invitation, token: str) -> None:
    """Send the invitation e-mail (in bokmål) with its link; the same e-mail for every address."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "email": invitation.email,
            "company": invitation.company,
            "role": Role(invitation.role).label,
            "invited_by": invitation.invited_by,
            "url": invitation_url(token),
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        subject = render_to_string("companies/email/invitation_subject.txt", context)
        text = render_to_string("companies/email/invitation.txt", context)
        html = render_to_string("companies/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[invitation.email]
    )
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Invitation %s sent for company %s", invitation.pk, invitation.company_id)


@transaction.atomic
def invitation_create(
    *, company: Company, email: str, role: Role | str, by: User | None
) -> Invitation:
    """A pending invitation, e-mailed once the transaction commits.

    It never looks the address up among the accounts: known and unknown addresses cost the same."""
    role = Role(role)
    token, hashed = _new_token()
    invitation = Invitation.objects.create(
        company=company,
        email=email.strip().lower(),
        role=role,
        token_hash=hashed,
        invited_by=by if by is not None and by.pk else None,
        sent_at=timezone.now(),
    )
    audit_record(
        company=company,
        actor=by,
        action="invitation.sent",
        detail=f"{invitation.email}: {role.label}",
    )
    transaction.on_commit(partial(invitation_email_send, invitation=invitation, token=token))
    return invitation


def _locked(invitation: Invitation, company: Company | None = None) -> Invitation:
    rows = Invitation.objects.select_for_update().select_related("company")
    if company is not None:
        rows = rows.filter(company=company)
    locked = rows.filter(pk=invitation.pk).first()
    if locked is None or locked.status != Invitation.Status.PENDING:
        raise InvitationError(_("This invitation has been answered or withdrawn."))
    return locked


@transaction.atomic
def invitation_resend(*, company: Company, invitation: Invitation, by: User | None) -> Invitation:
    """Send a pending invitation again with a new link (the old one stops working)."""
    locked = _locked(invitation, company)
    token, locked.token_hash = _new_token()
    locked.sent_at = timezone.now()
    locked.save(update_fields=["token_hash", "sent_at"])
    audit_record(company=company, actor=by, action="invitation.resent", detail=locked.email)
    transaction.on_commit(partial(invitation_email_send, invitation=locked, token=token))
    return locked


@transaction.atomic
def invitation_revoke(*, company: Company, invitation: Invitation, by: User | None) -> None:
    """Withdraw a pending invitation: its link stops working at once."""
    locked = _locked(invitation, company)
    locked.status = Invitation.Status.REVOKED
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answered_at"])
    audit_record(company=company, actor=by, action="invitation.revoked", detail=locked.email)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person, logged in as the invited address, accepts: from now on a member.

    Someone who is a member already (given access some other way meanwhile) keeps their role."""
    locked = _locked(invitation)
    if not invitation_is_open(locked):
        raise InvitationError(_("This invitation has expired. Ask for a new one."))
    if user.email.lower() != locked.email:
        raise InvitationError(
            _("This invitation is for %(email)s. Log in with that address to accept it.")
            % {"email": locked.email}
        )
    membership, created = Membership.objects.get_or_create(
        company=locked.company, user=user, defaults={"role": locked.role}
    )
    locked.status = Invitation.Status.ACCEPTED
    locked.answered_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["status", "answered_at", "accepted_by"])
    audit_record(
        company=locked.company, actor=user, action="invitation.accepted", detail=user.email
    )
    if created:
        audit_record(
            company=locked.company,
            actor=user,
            action="membership.added",
            detail=f"{user.email}: {Role(locked.role).label}",
        )
    return membership


@sensitive_variables("password")
@transaction.atomic
def invitation_accept_with_password(*, invitation: Invitation, password: str) -> User:
    """A new person accepts by choosing a password: their account is made (or, for an account
    that never had a password, given one) and they become a member. The password was validated
    by the form (AUTH_PASSWORD_VALIDATORS)."""
    user = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if user is not None and user.has_usable_password():
        raise InvitationError(
            _("%(email)s already has an account: log in to accept the invitation.")
            % {"email": invitation.email}
        )
    if user is None:
        user = User.objects.create_user(email=invitation.email, password=password)
    else:
        user.set_password(password)
        user.save(update_fields=["password"])
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> None:
    """The invited person says no; the firm sees the invitation as declined."""
    locked = _locked(invitation)
    if user.email.lower() != locked.email:
        raise InvitationError(_("This invitation is for %(email)s.") % {"email": locked.email})
    locked.status = Invitation.Status.DECLINED
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answered_at"])
    audit_record(
        company=locked.company, actor=user, action="invitation.declined", detail=user.email
    )

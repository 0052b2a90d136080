"""Invitation e-mails: a one-time link to set a password for a newly created account.

The link carries Django's password-reset token, which is bound to the password hash and last login:
once the password is set the link stops working, and it expires after PASSWORD_RESET_TIMEOUT.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from companies.models import Company, User

logger = logging.getLogger(__name__)


def invitation_url(*, user: User) -> str:
    """The absolute one-time link at which the user sets a password."""
    path = reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.SITE_URL}{path}"


def invitation_send(*, user: User, company: Company, by: User | None = None) -> None:
    """Send the invitation e-mail (in bokmål) with the set-password link."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "company": company,
            "invited_by": by,
            "url": invitation_url(user=user),
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        subject = render_to_string("companies/email/invitation_subject.txt", context)
        text = render_to_string("companies/email/invitation.txt", context)
        html = render_to_string("companies/email/invitation.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("Invitation sent to user %s for company %s", user.pk, company.pk)

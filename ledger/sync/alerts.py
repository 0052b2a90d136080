"""Telling people that a sync failed: the plain-language reason a run shows, and the e-mail to a
company's administrators when its key is broken or its syncs keep failing.

The e-mail goes once: the schedule remembers it (`alerted_at`) until a sync succeeds, which
clears it (`sync_alert_clear`), so a firm whose syncs fail every night hears about it one time.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company, Membership, Role, TripletexConnection
from ledger.models import SyncSchedule
from ledger.sync.schedules import sync_schedule_get
from ledger.sync.selectors import failures_in_a_row
from tripletex.errors import (
    TripletexError,
    TripletexForbidden,
    TripletexRateLimited,
    TripletexUnavailable,
)

logger = logging.getLogger(__name__)

# This many failed runs in a row e-mail the company's admins (once, until a run succeeds).
ALERT_AFTER_FAILURES = 3


# ---- what a failed run says ---------------------------------------------------------------------


def with_request_id(exc: TripletexError, text: str) -> str:
    """`text` with Tripletex's request id of the failed call, which support asks for."""
    if exc.request_id:
        return _("%(text)s (Tripletex request id: %(id)s)") % {"text": text, "id": exc.request_id}
    return text


def transient_text(exc: TripletexUnavailable) -> str:
    """Why Tripletex could not be reached (it may work later)."""
    if isinstance(exc, TripletexRateLimited):
        return _("Tripletex kept refusing calls because the key's rate limit was used up.")
    return _("Tripletex did not answer (%(detail)s).") % {"detail": exc.message}


def error_text(exc: TripletexError) -> str:
    """What Tripletex refused (it will not work by trying again)."""
    if isinstance(exc, TripletexForbidden):
        return _("The key lacks access to part of the accounts in Tripletex: %(detail)s") % {
            "detail": exc.message
        }
    return _("Tripletex answered with an error: %(detail)s") % {"detail": exc.message}


# ---- the administrators' e-mail -----------------------------------------------------------------


def sync_alert_maybe(*, company: Company, message: str) -> None:
    """E-mail the company's admins once when the key is broken or syncs keep failing."""
    connection = TripletexConnection.objects.filter(company=company).first()
    broken = connection is not None and connection.status == TripletexConnection.Status.BROKEN
    if not broken and failures_in_a_row(company=company) < ALERT_AFTER_FAILURES:
        return
    schedule = sync_schedule_get(company=company)
    with transaction.atomic():
        locked = SyncSchedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.alerted_at is not None:
            return  # already told; not again until a sync succeeds
        locked.alerted_at, locked.alert_reason = timezone.now(), message
        locked.save(update_fields=["alerted_at", "alert_reason"])
    admins = list(
        Membership.objects.filter(company=company, role=Role.ADMIN).values_list(
            "user__email", flat=True
        )
    )
    if not admins:
        return
    subject = _("Figures for %(company)s can no longer be synced from Tripletex") % {
        "company": company.name
    }
    body = _(
        "Dynamik could not sync the figures of %(company)s from Tripletex.\n\n%(reason)s\n\n"
        "The figures shown are those of the last successful sync. You will not get this e-mail "
        "again until a sync has succeeded."
    ) % {"company": company.name, "reason": message}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, admins)
    except OSError:
        logger.exception("Could not e-mail the admins of company %s", company.pk)


def sync_alert_clear(*, company: Company) -> None:
    """Forget the company's alert after a sync succeeded, so the next failures e-mail again."""
    SyncSchedule.objects.filter(company=company, alerted_at__isnull=False).update(
        alerted_at=None, alert_reason=""
    )

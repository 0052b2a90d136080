"""Reversing a booked voucher (PUT :reverse), under the same settle rule as booking itself, and
recording a reversal whoever made it (us, or a person in Tripletex)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.credentials import tripletex_client_for
from companies.models import Company, User
from ledger.booking.messages import plain_messages
from ledger.booking.protocol import BookingStateError, ClaimLost, settle_deadline, settle_seconds
from ledger.holdings.services import dependents_message, lots_dependents, lots_release
from ledger.models import BookingAttempt, Reversal, Transaction
from tripletex.client import TripletexClient
from tripletex.errors import (
    TripletexForbidden,
    TripletexOutcomeUnknown,
    TripletexValidationError,
)
from tripletex.schemas import Voucher

logger = logging.getLogger(__name__)

Status = Transaction.Status
Outcome = BookingAttempt.Outcome


def booking_reverse(*, company: Company, txn: Transaction, on: date, by: User | None) -> Reversal:
    """Reverse the booked voucher on date `on` (PUT :reverse); the row can then be edited and
    booked anew under a new external number. Raises BookingStateError / TripletexError.

    The PUT follows the booking's settle rule: each send is stamped on the row right before it
    leaves (compare-and-set, so two clicks cannot both send), and after a send whose answer never
    came the original voucher is looked at first; nothing is sent again before the settle
    deadline."""
    with transaction.atomic():
        locked = Transaction.objects.select_for_update().get(company=company, pk=txn.pk)
        if locked.status != Status.BOOKED or not locked.tripletex_voucher_id:
            raise BookingStateError(_("Only a booked transaction can be reversed."))
        if locked.is_awaiting_approval:
            raise BookingStateError(
                _(
                    "The voucher still waits for approval in Tripletex, so there is nothing to "
                    "reverse yet. Delete it in Tripletex instead, or reverse it once approved."
                )
            )
        if dependents := lots_dependents(company=company, txn=locked):
            # Reversing a purchase whose units a sale took would leave that sale's cost unbought.
            raise BookingStateError(dependents_message(dependents))
        voucher_id = locked.tripletex_voucher_id
    client = tripletex_client_for(company)
    if locked.reverse_sent_at is not None:
        found = _reversal_in_tripletex(client, voucher_id)
        if found is not None:
            with transaction.atomic():
                return record_reversal(company, locked, found, on=found.date or on, by=by)
        if timezone.now() < _reverse_deadline(client, locked.reverse_sent_at):
            raise _unsettled(client, locked.reverse_sent_at)
    try:
        reversal = client.voucher_reverse(voucher_id, date=on, on_send=_reverse_stamper(locked))
    except ClaimLost:
        raise BookingStateError(
            _("A reversal of this voucher is already under way. Reload the page in a minute.")
        ) from None
    except TripletexOutcomeUnknown as exc:
        # Never sent twice: ask the original voucher whether it now points to a reversal.
        found = _reversal_in_tripletex(client, voucher_id)
        if found is None:
            sent = Transaction.objects.values_list("reverse_sent_at", flat=True).get(pk=locked.pk)
            raise _unsettled(client, sent or timezone.now()) from exc
        reversal = found
    except TripletexValidationError as exc:
        raise BookingStateError(" ".join(plain_messages(exc, locked))) from exc
    except TripletexForbidden as exc:
        raise BookingStateError(
            _(
                "Tripletex refused: the company's API key lacks permission to reverse vouchers. "
                'In Tripletex, give the key\'s user the "Advanced Voucher" (Avansert bilag) '
                "access and reverse again, or reverse the voucher in Tripletex yourself."
            )
        ) from exc
    with transaction.atomic():
        return record_reversal(company, locked, reversal, on=on, by=by)


def _reverse_stamper(locked: Transaction) -> Callable[[], None]:
    """The send callback of a PUT :reverse: stamp `reverse_sent_at` if nobody else has since."""
    expected = locked.reverse_sent_at

    def stamp() -> None:
        nonlocal expected
        now = timezone.now()
        if not Transaction.objects.filter(
            pk=locked.pk, status=Status.BOOKED, reverse_sent_at=expected
        ).update(reverse_sent_at=now):
            raise ClaimLost
        expected = now

    return stamp


def _reversal_in_tripletex(client: TripletexClient, voucher_id: int) -> Voucher | None:
    """The reversing voucher if the voucher was reversed in Tripletex (by us or a person)."""
    original = client.voucher_get(voucher_id)
    if original.reverse_voucher_id is None:
        return None
    return client.voucher_get(original.reverse_voucher_id)


def _reverse_deadline(client: TripletexClient, sent: datetime) -> datetime:
    """Until when a reversal sent at `sent` may still land in Tripletex (the booking's rule)."""
    return settle_deadline(sent, timeout=client.timeout, settle=settle_seconds())


def _unsettled(client: TripletexClient, sent: datetime) -> BookingStateError:
    """The refusal to raise while a reversal sent at `sent` may still land in Tripletex."""
    at = timezone.localtime(max(_reverse_deadline(client, sent), timezone.now())).strftime(
        "%H:%M:%S"
    )
    return BookingStateError(
        _(
            "Tripletex did not confirm the reversal, and it may still arrive. Nothing is sent "
            "again before %(time)s: then press Check in Tripletex, or reverse again."
        )
        % {"time": at}
    )


def record_reversal(
    company: Company, locked: Transaction, reversal: Voucher, *, on: date, by: User | None
) -> Reversal:
    """The Reversal, its log line and the row's REVERSED status (inside the caller's atomic)."""
    # Both callers hold a booked row with its voucher id (checked under the row lock).
    assert locked.tripletex_voucher_id is not None
    record = Reversal.objects.create(
        company=company,
        transaction=locked,
        booking_round=locked.booking_round,
        external_voucher_number=locked.external_voucher_number,
        original_voucher_id=locked.tripletex_voucher_id,
        original_number=locked.voucher_number,
        original_year=locked.voucher_year,
        reversal_voucher_id=reversal.id,
        reversal_number=reversal.number,
        reversal_year=reversal.year,
        reversal_date=on,
        reversed_by=by if by and by.pk else None,
    )
    BookingAttempt.objects.create(
        company=company,
        transaction=locked,
        attempt=locked.attempts,
        action="reverse",
        external_voucher_number=locked.external_voucher_number,
        outcome=Outcome.REVERSED,
        finished_at=timezone.now(),
        voucher_id=reversal.id,
    )
    if Transaction.objects.filter(pk=locked.pk, status=Status.BOOKED).update(
        status=Status.REVERSED, cost_basis=None, messages=[], reverse_sent_at=None
    ):
        # The reversal voucher gives back what the booked one posted: so do its lots.
        lots_release(company=company, txn=locked, never_booked=False)
    return record

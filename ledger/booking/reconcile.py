"""Keeping booked rows in line with Tripletex.

People also work in Tripletex itself: they approve the vouchers we sent for approval, reverse or
delete vouchers. Reconciling looks booked rows' vouchers up and records what happened: a voucher
approved since gets its number, a reversal is recorded (the row can be changed and booked anew),
and a deleted voucher leaves the row "needs attention", to be booked again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company, User
from companies.tenancy import company_for_task
from ledger.booking.protocol import BookingStateError
from ledger.booking.reversal import record_reversal
from ledger.models import AWAITING_APPROVAL, BookingAttempt, Transaction
from tripletex.client import TripletexClient
from tripletex.errors import (
    TripletexError,
    TripletexNotFound,
)
from tripletex.schemas import Voucher

logger = logging.getLogger(__name__)

Status = Transaction.Status
Outcome = BookingAttempt.Outcome


RECONCILE_DAYS = 60  # the nightly sweep looks at rows booked this recently


def bookings_to_reconcile(*, awaiting_only: bool) -> dict[int, list[int]]:
    """{company id: transaction ids}: rows whose voucher waits for approval, and unless
    `awaiting_only` also every row booked in the last RECONCILE_DAYS days."""
    rows = AWAITING_APPROVAL
    if not awaiting_only:
        since = timezone.now() - timedelta(days=RECONCILE_DAYS)
        rows |= Q(status=Status.BOOKED, booked_at__gte=since)
    with scopes_disabled():
        found = Transaction.objects.filter(rows, tripletex_voucher_id__isnull=False).values_list(
            "company_id", "pk"
        )
        by_company: dict[int, list[int]] = {}
        for company_id, pk in found:
            by_company.setdefault(company_id, []).append(pk)
        return by_company


def bookings_reconcile(
    *, company: Company, transaction_ids: list[int], client: TripletexClient | None = None
) -> dict[str, int]:
    """Reconcile the given booked rows with Tripletex; counts per outcome (approved, waiting,
    reversed, deleted, unchanged). The vouchers of the rows' dates are listed once (and those
    waiting for approval, when a row does); only a voucher missing from both is asked for alone."""
    counts: dict[str, int] = {}
    rows = list(
        Transaction.objects.filter(
            company=company,
            pk__in=transaction_ids,
            status=Status.BOOKED,
            tripletex_voucher_id__isnull=False,
        )
    )
    if not rows:
        return counts
    client = client or tripletex_client_for(company)
    span = {
        "date_from": min(t.trade_date for t in rows),
        "date_to": max(t.trade_date for t in rows) + timedelta(days=1),
    }
    known = {v.id: v for v in client.vouchers_between(**span)}
    if any(t.is_awaiting_approval for t in rows):
        known.update({v.id: v for v in client.vouchers_non_posted(**span)})
    for txn in rows:
        voucher_id = txn.tripletex_voucher_id
        assert voucher_id is not None  # the query above takes rows with a voucher only
        outcome = _reconcile_one(company, txn, voucher_id, known.get(voucher_id), client, by=None)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def booking_check(*, company: Company, txn: Transaction, by: User | None) -> str:
    """Reconcile one booked row now ("Check in Tripletex"); its outcome. Raises BookingStateError."""
    txn = Transaction.objects.get(company=company, pk=txn.pk)
    if txn.status != Status.BOOKED or not txn.tripletex_voucher_id:
        raise BookingStateError(_("Only a booked transaction can be checked in Tripletex."))
    client = tripletex_client_for(company)
    return _reconcile_one(company, txn, txn.tripletex_voucher_id, None, client, by=by)


def _reconcile_one(
    company: Company,
    txn: Transaction,
    voucher_id: int,
    voucher: Voucher | None,
    client: TripletexClient,
    *,
    by: User | None,
) -> str:
    """What Tripletex has for the row's voucher `voucher_id` (`voucher` when already listed),
    recorded."""
    if voucher is None:
        try:
            voucher = client.voucher_get(voucher_id)
        except TripletexNotFound:
            _mark_deleted_in_tripletex(company, txn)
            return "deleted"
    if voucher.reverse_voucher_id is not None:
        reversal = client.voucher_get(voucher.reverse_voucher_id)
        with transaction.atomic():
            locked = Transaction.objects.select_for_update().get(company=company, pk=txn.pk)
            if locked.status != Status.BOOKED or locked.tripletex_voucher_id != voucher.id:
                return "unchanged"
            on = reversal.date or timezone.localdate()
            record_reversal(company, locked, reversal, on=on, by=by)
        logger.info("Voucher %s of transaction %s was reversed in Tripletex", voucher.id, txn.pk)
        return "reversed"
    if txn.voucher_number is None:
        if voucher.number is None:
            return "waiting"
        Transaction.objects.filter(pk=txn.pk, status=Status.BOOKED).update(
            voucher_number=voucher.number, voucher_year=voucher.year or txn.voucher_year
        )
        logger.info(
            "Voucher %s of transaction %s approved as %s", voucher.id, txn.pk, voucher.number
        )
        return "approved"
    return "unchanged"


def _mark_deleted_in_tripletex(company: Company, txn: Transaction) -> None:
    """The row's voucher no longer exists in Tripletex: nothing is booked, the row can be again."""
    deleted = Transaction.objects.filter(
        company=company,
        pk=txn.pk,
        status=Status.BOOKED,
        tripletex_voucher_id=txn.tripletex_voucher_id,
    ).update(
        status=Status.FAILED,
        tripletex_voucher_id=None,
        voucher_number=None,
        voucher_temp_number=None,
        voucher_year=None,
        booked_at=None,
        messages=[
            _(
                "The voucher was deleted in Tripletex, so nothing is booked. Change the "
                "transaction if needed and book it again."
            )
        ],
    )
    if deleted:
        logger.info(
            "Voucher %s of transaction %s was deleted in Tripletex",
            txn.tripletex_voucher_id,
            txn.pk,
        )


def bookings_reconcile_all(*, awaiting_only: bool) -> dict[str, int]:
    """Reconcile every company's rows (totals per outcome); a company whose Tripletex cannot be
    asked now waits for the next round."""
    totals: dict[str, int] = {}
    for company_id, transaction_ids in bookings_to_reconcile(awaiting_only=awaiting_only).items():
        company = company_for_task(company_id)
        with scope(company=company):
            try:
                counts = bookings_reconcile(company=company, transaction_ids=transaction_ids)
            except (ConnectionUnavailable, TripletexError) as exc:
                logger.warning(
                    "Bookings of company %s not reconciled: %s", company_id, type(exc).__name__
                )
                counts = {"unchecked": len(transaction_ids)}
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals

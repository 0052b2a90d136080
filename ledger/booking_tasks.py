"""Celery tasks that book transactions into Tripletex.

Tasks take ids, are enqueued on commit by ledger.booking.booking_queue and are safe to run twice
(the conditional claim lets one run in). Transient trouble comes back as BookingRetry: the row
is queued again and the task retries with backoff and jitter, at most 8 times and never more
than 10 minutes apart; after that the row is "needs attention".
"""

import random

from celery import shared_task
from django_scopes import scope

from companies.tenancy import company_for_task

__all__ = [
    "bookings_reconcile_task",
    "bookings_refresh_approved_task",
    "bookings_resolve_stuck_task",
    "transaction_book_task",
    "transactions_book_batch_task",
]

MAX_RETRIES = 8
MAX_COUNTDOWN = 600


def _backoff(retries: int, at_least: float) -> float:
    delay = max(at_least, min(MAX_COUNTDOWN, 10 * 2**retries))
    return min(MAX_COUNTDOWN, delay * (1 + random.random() * 0.25))


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def transaction_book_task(self, *, company_id: int, transaction_id: int) -> str:
    """Book one queued transaction; returns booked / already-booked / rejected / not-queued / …"""
    from django.utils.translation import gettext as _

    from ledger.booking import BookingRetry, booking_mark_failed, booking_run

    company = company_for_task(company_id)
    with scope(company=company):
        try:
            return booking_run(company=company, transaction_id=transaction_id)
        except BookingRetry as exc:
            if self.request.retries >= self.max_retries:
                booking_mark_failed(
                    company=company,
                    transaction_id=transaction_id,
                    reason=_("Tripletex did not answer after several tries. Book again to retry.")
                    + f" ({exc})",
                )
                return "failed"
            raise self.retry(countdown=_backoff(self.request.retries, exc.countdown)) from None


@shared_task(acks_late=True)
def transactions_book_batch_task(*, company_id: int, transaction_ids: list[int]) -> dict[str, int]:
    """Book many queued transactions in order with one Tripletex client ("book all ready").

    Each row is claimed on its own, so a row another worker has is skipped; a row that must
    wait (transient trouble, unclear outcome) continues in its own retrying task."""
    from companies.credentials import ConnectionUnavailable, tripletex_client_for
    from ledger.booking import BookingRetry, booking_run

    company = company_for_task(company_id)
    outcomes: dict[str, int] = {}
    with scope(company=company):
        try:
            client = tripletex_client_for(company)
        except ConnectionUnavailable:
            client = None  # each row then ends as "needs attention" with the reason
        for transaction_id in transaction_ids:
            try:
                outcome = booking_run(company=company, transaction_id=transaction_id, client=client)
            except BookingRetry as exc:
                transaction_book_task.apply_async(
                    kwargs={"company_id": company_id, "transaction_id": transaction_id},
                    countdown=_backoff(0, exc.countdown),
                )
                outcome = "retry"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(acks_late=True)
def bookings_resolve_stuck_task(*, prompt: bool = False) -> list[str]:
    """Beat: finish rows stuck in "booking" (worker died) and re-enqueue queued rows whose task
    was lost; lookup first, so this never makes a second voucher. `prompt` (sent by a worker
    each time it connects to the broker, dynamik/celery.py) re-enqueues every due queued row."""
    from ledger.booking import BookingRetry, booking_resolve, bookings_stuck

    outcomes = []
    for company_id, transaction_id, status in bookings_stuck(prompt=prompt):
        company = company_for_task(company_id)
        with scope(company=company):
            if status == "queued":
                transaction_book_task.delay(company_id=company_id, transaction_id=transaction_id)
                outcomes.append("requeued")
                continue
            try:
                outcomes.append(booking_resolve(company=company, transaction_id=transaction_id))
            except BookingRetry:
                transaction_book_task.apply_async(
                    kwargs={"company_id": company_id, "transaction_id": transaction_id},
                    countdown=30,
                )
                outcomes.append("retry")
    return outcomes


@shared_task(acks_late=True)
def bookings_refresh_approved_task() -> dict[str, int]:
    """Beat, every 10 minutes: record the numbers of vouchers approved in Tripletex since they
    were sent for approval (and notice those deleted there)."""
    return _reconcile(awaiting_only=True)


@shared_task(acks_late=True)
def bookings_reconcile_task() -> dict[str, int]:
    """Beat, nightly: reconcile every row booked in the last 60 days with Tripletex, so a voucher
    reversed or deleted in Tripletex itself shows here without anyone pressing Check."""
    return _reconcile(awaiting_only=False)


def _reconcile(*, awaiting_only: bool) -> dict[str, int]:
    """Reconcile each company's rows; a company whose Tripletex cannot be asked now waits."""
    import logging

    from companies.credentials import ConnectionUnavailable
    from ledger.booking import bookings_reconcile, bookings_to_reconcile
    from tripletex.errors import TripletexError

    totals: dict[str, int] = {}
    for company_id, transaction_ids in bookings_to_reconcile(awaiting_only=awaiting_only).items():
        company = company_for_task(company_id)
        with scope(company=company):
            try:
                counts = bookings_reconcile(company=company, transaction_ids=transaction_ids)
            except (ConnectionUnavailable, TripletexError) as exc:
                logging.getLogger(__name__).warning(
                    "Bookings of company %s not reconciled: %s", company_id, type(exc).__name__
                )
                counts = {"unchecked": len(transaction_ids)}
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals

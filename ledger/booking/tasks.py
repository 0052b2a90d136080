"""Celery tasks that book transactions into Tripletex: each calls one booking service.

Tasks take ids, are enqueued on commit through ledger/queue.py and are safe to run twice (the
conditional claim lets one run in). Transient trouble comes back as BookingRetry: the row is
queued again and the task retries with backoff and jitter, at most MAX_RETRIES times and never
more than MAX_COUNTDOWN seconds apart; after that the row is "needs attention". Every task has
an explicit, stable name (the module it first lived in), so a queued task or the beat schedule
never loses its task when modules move.
"""

from celery import shared_task
from celery.app.task import Task
from django.utils.translation import gettext as _
from django_scopes import scope

from companies.tenancy import company_for_task
from ledger.booking.protocol import (
    MAX_RETRIES,
    BookingRetry,
    booking_mark_failed,
    booking_run,
    bookings_book_batch,
    bookings_resolve_all_stuck,
    retry_countdown,
)
from ledger.booking.reconcile import bookings_reconcile_all

__all__ = [
    "bookings_reconcile_task",
    "bookings_refresh_approved_task",
    "bookings_resolve_stuck_task",
    "transaction_book_task",
    "transactions_book_batch_task",
]


@shared_task(
    name="ledger.booking_tasks.transaction_book_task",
    bind=True,
    acks_late=True,
    max_retries=MAX_RETRIES,
)
def transaction_book_task(self: Task, *, company_id: int, transaction_id: int) -> str:
    """Book one queued transaction; returns booked / already-booked / rejected / not-queued / …"""
    company = company_for_task(company_id)
    with scope(company=company):
        try:
            return booking_run(company=company, transaction_id=transaction_id)
        except BookingRetry as exc:
            # max_retries=None is Celery's "retry forever": then retries are never used up.
            limit = self.max_retries
            if limit is not None and self.request.retries >= limit:
                booking_mark_failed(
                    company=company,
                    transaction_id=transaction_id,
                    reason=_("Tripletex did not answer after several tries. Book again to retry.")
                    + f" ({exc})",
                )
                return "failed"
            raise self.retry(
                countdown=retry_countdown(self.request.retries, exc.countdown)
            ) from None


@shared_task(name="ledger.booking_tasks.transactions_book_batch_task", acks_late=True)
def transactions_book_batch_task(*, company_id: int, transaction_ids: list[int]) -> dict[str, int]:
    """Book many queued transactions in order with one Tripletex client ("book all ready")."""
    company = company_for_task(company_id)
    with scope(company=company):
        return bookings_book_batch(company=company, transaction_ids=transaction_ids)


@shared_task(name="ledger.booking_tasks.bookings_resolve_stuck_task", acks_late=True)
def bookings_resolve_stuck_task(*, prompt: bool = False) -> list[str]:
    """Beat: finish rows stuck in "booking" and re-enqueue queued rows whose task was lost.
    `prompt` (sent by a worker each time it connects to the broker, dynamik/celery.py)
    re-enqueues every due queued row."""
    return bookings_resolve_all_stuck(prompt=prompt)


@shared_task(name="ledger.booking_tasks.bookings_refresh_approved_task", acks_late=True)
def bookings_refresh_approved_task() -> dict[str, int]:
    """Beat, every 10 minutes: record the numbers of vouchers approved in Tripletex since they
    were sent for approval (and notice those deleted there)."""
    return bookings_reconcile_all(awaiting_only=True)


@shared_task(name="ledger.booking_tasks.bookings_reconcile_task", acks_late=True)
def bookings_reconcile_task() -> dict[str, int]:
    """Beat, nightly: reconcile every row booked in the last 60 days with Tripletex, so a voucher
    reversed or deleted in Tripletex itself shows here without anyone pressing Check."""
    return bookings_reconcile_all(awaiting_only=False)

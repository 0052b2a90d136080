"""Celery tasks that upload contract notes to their vouchers: each calls one upload service.

Enqueued by name through ledger/queue.py after commit, safe to run twice (one note of a
transaction is claimed at a time). A note that must wait comes back as UploadRetry: the task
retries with the booking's backoff (tripletex/retry.py through `retry_countdown`), at most
MAX_RETRIES times, never more than ten minutes apart; then the notes need a person.
"""

from celery import shared_task
from celery.app.task import Task
from django.utils.translation import gettext as _
from django_scopes import scope

from companies.tenancy import company_for_task
from ledger import queue
from ledger.booking.protocol import MAX_RETRIES, retry_countdown
from ledger.contract_notes.upload import (
    UploadRetry,
    contract_notes_mark_failed,
    contract_notes_stuck,
    contract_notes_upload,
)

__all__ = ["contract_notes_resolve_task", "contract_notes_upload_task"]


@shared_task(
    name="ledger.contract_note_tasks.contract_notes_upload_task",
    bind=True,
    acks_late=True,
    max_retries=MAX_RETRIES,
)
def contract_notes_upload_task(
    self: Task, *, company_id: int, transaction_id: int
) -> dict[str, int] | str:
    """Upload a booked transaction's pending contract notes; counts per outcome, or "failed"."""
    company = company_for_task(company_id)
    with scope(company=company):
        try:
            return contract_notes_upload(company=company, transaction_id=transaction_id)
        except UploadRetry as exc:
            limit = self.max_retries
            if limit is not None and self.request.retries >= limit:
                contract_notes_mark_failed(
                    company=company,
                    transaction_id=transaction_id,
                    reason=_("Tripletex did not answer after several tries. Try again.")
                    + f" ({exc})",
                )
                return "failed"
            raise self.retry(
                countdown=retry_countdown(self.request.retries, exc.countdown)
            ) from None


@shared_task(name="ledger.contract_note_tasks.contract_notes_resolve_task", acks_late=True)
def contract_notes_resolve_task() -> int:
    """Beat: send again the uploads left unfinished (a worker died, a task was lost); how many
    transactions were sent."""
    stuck = contract_notes_stuck()
    for company_id, transaction_id in stuck:
        queue.enqueue(
            queue.UPLOAD_CONTRACT_NOTES, company_id=company_id, transaction_id=transaction_id
        )
    return len(stuck)

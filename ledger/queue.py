"""The one seam through which services enqueue Celery tasks.

Tasks import their services at the top; a service that imported its task module back would make
an import cycle. So a service enqueues by the task's explicit, stable `name=` (every task has
one, so moving a module never orphans a queued task or the beat schedule), looked up in the app's
registry: eager mode in tests, routing and retries behave as with the task object itself.

Queues: `CELERY_TASK_ROUTES` (dynamik/settings.py) sends each task by name to the interactive or
the batch queue. The sync task serves both an accountant's "Sync now" and the nightly sync of
every firm, so its caller names the queue (`sync_queue`): a click never waits behind the night.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings

from ledger.models import SyncRun

BOOK_TRANSACTION = "ledger.booking_tasks.transaction_book_task"
BOOK_BATCH = "ledger.booking_tasks.transactions_book_batch_task"
RESOLVE_STUCK_BOOKINGS = "ledger.booking_tasks.bookings_resolve_stuck_task"
SYNC_RUN = "ledger.sync_tasks.balances_sync_task"
BUDGETS_SYNC = "ledger.budget_tasks.budgets_sync_task"
PACK_GENERATE = "ledger.pack_tasks.report_pack_generate_task"
UPLOAD_CONTRACT_NOTES = "ledger.contract_note_tasks.contract_notes_upload_task"

# Runs a person is waiting for; the schedule's go to the batch queue (the command line runs its
# syncs in its own process and enqueues nothing).
INTERACTIVE_TRIGGERS = frozenset({SyncRun.Trigger.MANUAL.value})


def sync_queue(trigger: str) -> str:
    """The queue a sync run requested by `trigger` (a SyncRun.Trigger) is sent to."""
    if trigger in INTERACTIVE_TRIGGERS:
        return str(settings.CELERY_QUEUE)
    return str(settings.CELERY_BATCH_QUEUE)


def enqueue(
    name: str, *, queue: str | None = None, countdown: float | None = None, **kwargs: Any
) -> None:
    """Send the task called `name` with keyword arguments (call inside transaction.on_commit);
    `queue` overrides the task's route, `countdown` delays it (seconds, at most 10 minutes)."""
    task = current_app.tasks[name]
    if queue is None and countdown is None:
        task.delay(**kwargs)
        return
    options: dict[str, Any] = {}
    if queue is not None:
        options["queue"] = queue
    if countdown is not None:
        options["countdown"] = countdown
    task.apply_async(kwargs=kwargs, **options)

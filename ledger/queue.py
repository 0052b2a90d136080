"""The one seam through which services enqueue Celery tasks.

Tasks import their services at the top; a service that imported its task module back would make
an import cycle. So a service enqueues by the task's explicit, stable `name=` (every task has
one, so moving a module never orphans a queued task or the beat schedule), looked up in the app's
registry: eager mode in tests, routing and retries behave as with the task object itself.
"""

from __future__ import annotations

from typing import Any

from celery import current_app

BOOK_TRANSACTION = "ledger.booking_tasks.transaction_book_task"
BOOK_BATCH = "ledger.booking_tasks.transactions_book_batch_task"
RESOLVE_STUCK_BOOKINGS = "ledger.booking_tasks.bookings_resolve_stuck_task"
SYNC_RUN = "ledger.sync_tasks.balances_sync_task"


def enqueue(name: str, *, countdown: float | None = None, **kwargs: Any) -> None:
    """Send the task called `name` with keyword arguments (call inside transaction.on_commit)."""
    task = current_app.tasks[name]
    if countdown is None:
        task.delay(**kwargs)
    else:
        task.apply_async(kwargs=kwargs, countdown=countdown)

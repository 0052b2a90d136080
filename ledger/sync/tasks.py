"""Celery tasks that sync figures from Tripletex: one run per task, the beat dispatcher, the re-check.

Beat (dynamik/settings.py) runs `sync_due_dispatch_task` every few minutes: it queues each
company's nightly sync at its own time (spread over the night) and the intraday refresh of the
current month. `sync_recheck_mark_due_task` runs weekly and makes each company's next nightly sync
re-pull its closed months too (a reopened period).
"""

from celery import shared_task
from celery.app.task import Task
from django.conf import settings
from django_scopes import scopes_disabled

from ledger.models import SyncRun
from ledger.sync.schedules import sync_recheck_mark_due
from ledger.sync.services import (
    SyncRetryLater,
    balances_sync,
    balances_sync_give_up,
    retry_countdown,
    sync_due_dispatch,
)

__all__ = ["balances_sync_task", "sync_due_dispatch_task", "sync_recheck_mark_due_task"]

MAX_RETRIES = 4
# Below the broker's visibility timeout with services.MAX_RETRY_COUNTDOWN added (dynamik/settings.py).
SOFT_TIME_LIMIT: int = settings.SYNC_SOFT_TIME_LIMIT
TIME_LIMIT: int = settings.SYNC_TIME_LIMIT


@shared_task(
    name="ledger.sync_tasks.balances_sync_task",
    bind=True,
    ignore_result=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def balances_sync_task(self: Task, run_id: int) -> str:
    """Run one queued sync; returns its status ("running" when another delivery has it, "missing")."""

    with scopes_disabled():
        run = SyncRun.objects.select_related("company").filter(pk=run_id).first()
    if run is None:
        return "missing"
    try:
        finished = balances_sync(company=run.company, run=run)
    except SyncRetryLater as exc:
        if self.request.retries >= MAX_RETRIES:
            tries = self.request.retries + 1
            return balances_sync_give_up(run=exc.run, error=exc.error, tries=tries).status
        raise self.retry(countdown=retry_countdown(self.request.retries)) from None
    return finished.status


@shared_task(
    name="ledger.sync_tasks.sync_due_dispatch_task",
    ignore_result=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def sync_due_dispatch_task() -> str:
    """Queue the nightly syncs and intraday refreshes that are due; returns a short summary."""
    counts = sync_due_dispatch()
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


@shared_task(
    name="ledger.sync_tasks.sync_recheck_mark_due_task",
    ignore_result=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def sync_recheck_mark_due_task() -> str:
    """Make every company's next nightly sync re-check its closed months."""
    return f"marked={sync_recheck_mark_due()}"

"""Celery finds tasks in <app>.tasks: the booking and sync tasks live in their own modules."""

from ledger.booking_tasks import *  # noqa: F403
from ledger.sync_tasks import *  # noqa: F403

"""Celery finds tasks in <app>.tasks: the booking and sync tasks live in their own modules."""

from ledger.booking.tasks import *  # noqa: F403
from ledger.sync.tasks import *  # noqa: F403

"""Celery finds tasks in <app>.tasks: the booking, budget, sync and transactions tasks live in their
own modules."""

from ledger.booking.tasks import *  # noqa: F403
from ledger.budgets.tasks import *  # noqa: F403
from ledger.contract_notes.tasks import *  # noqa: F403
from ledger.sync.tasks import *  # noqa: F403
from ledger.transactions.tasks import *  # noqa: F403

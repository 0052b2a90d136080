"""Celery finds tasks in <app>.tasks: each capability keeps its tasks in its own module, imported
here so that every process registers them (ledger/apps.py)."""

from ledger.booking.tasks import *  # noqa: F403
from ledger.budgets.tasks import *  # noqa: F403
from ledger.contract_notes.tasks import *  # noqa: F403
from ledger.packs.tasks import *  # noqa: F403
from ledger.sync.tasks import *  # noqa: F403
from ledger.transactions.tasks import *  # noqa: F403

"""Staff admin for ledger data: each capability registers its models in its own module."""

from ledger.sync import admin as sync_admin  # noqa: F401
from ledger.transactions import admin as transactions_admin  # noqa: F401

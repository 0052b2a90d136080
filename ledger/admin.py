"""Staff admin for ledger data: each feature registers its models in its own module."""

from ledger import admin_sync, admin_transactions  # noqa: F401

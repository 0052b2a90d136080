"""Sync pages (mounted by ledger/urls.py)."""

urlpatterns: list = []

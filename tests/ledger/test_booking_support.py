"""Fixtures and helpers for the transaction and booking tests (imported by their modules)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_set_own_key
from ledger.models import Transaction
from ledger.transactions.services import transaction_create
from tripletex.client import TripletexClient
from tripletex.sandbox import SandboxServer, demo

HOLDING_ID = demo.HOLDING.company_id


def purchase_data(**overrides: Any) -> dict[str, Any]:
    """A valid purchase of 100 Equinor shares, today."""
    data = {
        "kind": "purchase",
        "trade_date": timezone.localdate(),
        "instrument_name": "Equinor ASA",
        "isin": "NO0010096985",
        "quantity": Decimal("100"),
        "price": Decimal("250.00"),
        "amount": Decimal("25000.00"),
        "fees": Decimal("49.00"),
        "currency": "NOK",
        "settle_via": "bank",
    }
    data.update(overrides)
    return data


def record(company, **overrides: Any) -> Transaction:
    """A transaction recorded through the service, inside the company's scope."""
    with scope(company=company):
        return transaction_create(company=company, data=purchase_data(**overrides), by=None)


def vouchers_with(server: SandboxServer, external_number: str) -> list[dict]:
    """The sandbox's vouchers carrying our external number (the ground truth)."""
    _total, _postings, items = server.store.vouchers(
        HOLDING_ID, external_number=external_number, offset=0, limit=100
    )
    return items


def reload(txn: Transaction) -> Transaction:
    with scopes_disabled():
        return Transaction.objects.get(pk=txn.pk)


@pytest.fixture
def local_cache(settings):
    """A private in-memory cache (the chart cache must not leak between tests)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"booking-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def sandbox_acme(acme, app_on_sandbox, settings, local_cache, monkeypatch):
    """Acme connected to a fresh sandbox's holding company; no settle wait unless a test sets one.

    The settle deadline is the last send + the client's connect and read timeouts + the settle
    margin. Here the margin is 0 and booking counts the in-flight time as 0 (the client's real
    HTTP timeouts are unchanged), so a retry may follow at once; tests/ledger/test_booking_slow.py
    runs the real deadline."""
    settings.TRIPLETEX_READ_TIMEOUT = 10
    settings.BOOKING_SETTLE_SECONDS = 0
    settings.BOOKING_STUCK_SECONDS = 600
    monkeypatch.setattr(TripletexClient, "timeout", property(lambda self: (0.0, 0.0)))
    connection_set_own_key(company=acme, token=demo.HOLDING_TOKEN, by=None)
    return acme

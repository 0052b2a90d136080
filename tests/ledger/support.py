"""Helpers for the ledger tests: transactions recorded through the service, the sandbox's vouchers,
a company connected to the sandbox. The fixtures are in tests/ledger/conftest.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_mark, connection_set_own_key
from companies.models import Company, TripletexConnection
from ledger.models import Transaction
from ledger.transactions.services import transaction_create
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


def connect(company: Company, token: str = demo.HOLDING_TOKEN) -> Company:
    """Give the company its own key and mark it connected."""
    connection_set_own_key(company=company, token=token, by=None)
    connection_mark(company=company, status=TripletexConnection.Status.CONNECTED)
    return company

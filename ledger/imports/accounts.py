"""Broker accounts: create, list, remove (services and selectors of the broker accounts page)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count

from companies.models import Company
from ledger.models import BrokerAccount


def broker_account_create(*, company: Company, form_data: dict[str, Any]) -> BrokerAccount:
    """Save a new broker account (the form checked the number and the cash account)."""
    return BrokerAccount.objects.create(
        company=company,
        broker=form_data["broker"],
        number=form_data["number"],
        name=form_data.get("name", ""),
        cash_account=form_data["cash_account"],
        currency=form_data.get("currency") or "NOK",
    )


def broker_accounts_list(*, company: Company) -> list[BrokerAccount]:
    """The firm's broker accounts with how many transactions use each (`used`)."""
    return list(
        BrokerAccount.objects.filter(company=company)
        .annotate(used=Count("transactions"))
        .order_by("broker", "number")
    )


@transaction.atomic
def broker_account_delete(*, company: Company, account: BrokerAccount) -> bool:
    """Remove the account unless a transaction uses it; True when removed."""
    locked = BrokerAccount.objects.select_for_update().get(company=company, pk=account.pk)
    if locked.transactions.exists():
        return False
    locked.delete()
    return True

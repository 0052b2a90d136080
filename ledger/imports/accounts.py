"""Broker accounts: create, list, remove (services and selectors of the broker accounts page), and
how a transaction's page names the account its money went through."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.models import BrokerAccount, Transaction
from ledger.transactions.vouchers import gl_settings_get


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
    """The firm's broker accounts with how many transactions use each (`used`: those whose
    money moves through it, and currency exchanges into it)."""
    into = (
        Transaction.objects.filter(company=company, to_broker_account=OuterRef("pk"))
        .values("to_broker_account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        BrokerAccount.objects.filter(company=company)
        .annotate(
            used=Count("transactions")
            + Coalesce(Subquery(into, output_field=IntegerField()), Value(0))
        )
        .order_by("broker", "number", "currency")
    )


@transaction.atomic
def broker_account_delete(*, company: Company, account: BrokerAccount) -> bool:
    """Remove the account unless a transaction uses it; True when removed."""
    locked = BrokerAccount.objects.select_for_update().get(company=company, pk=account.pk)
    exchanged_into = Transaction.objects.filter(company=company, to_broker_account=locked)
    if locked.transactions.exists() or exchanged_into.exists():
        return False
    locked.delete()
    return True


def paid_through_text(*, company: Company, txn: Transaction) -> str:
    """What a transaction's page says its money went through: the broker account, with its GL
    cash account, for a row that posts against one (vouchers.payment_account); for a deposit or
    withdrawal both ends; else the bank account or the instrument loan."""
    account = txn.broker_account if txn.broker_account_id is not None else None
    if account is None or txn.settle_via == Transaction.SettleVia.LOAN:
        return str(txn.get_settle_via_display())
    values = {"account": account.label, "number": account.cash_account}
    into = txn.to_broker_account if txn.to_broker_account_id is not None else None
    if txn.kind == Transaction.Kind.CURRENCY_EXCHANGE and into is not None:
        values |= {"into": into.label, "into_number": into.cash_account}
        return (
            _("From %(account)s, GL account %(number)s, to %(into)s, GL account %(into_number)s")
            % values
        )
    if txn.kind in (Transaction.Kind.CASH_DEPOSIT, Transaction.Kind.CASH_WITHDRAWAL):
        values["bank"] = gl_settings_get(company=company).bank
        if txn.kind == Transaction.Kind.CASH_DEPOSIT:
            return _("From the bank account (%(bank)s) to %(account)s, GL account %(number)s") % (
                values
            )
        return _("From %(account)s, GL account %(number)s, to the bank account (%(bank)s)") % values
    return _("%(account)s, GL account %(number)s") % values

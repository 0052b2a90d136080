"""Demo transactions and a group for the demo companies, so `make run` shows the ledger's features.

Run after `seed_demo` (the Makefile's `run` does). Idempotent: a company that already has
transactions gets none, and the group is made once. What it makes, for Fjellvik Holding AS:
purchases of Equinor and DNB shares, a later partial sale of Equinor, a dividend and a fee — all
ready to book (the finance user books them with "Book to Tripletex"; the holdings page fills as
they are queued and booked) — and a group of Fjellvik Holding with Fjellvik Drift for the group
view (its elimination mapping left for the accountant to confirm). The rows go through the same
service as the form, so every check applies; a firm never synced saves them with the checks'
warning, and the worker checks the period and chart live before posting. Demo data only.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from companies.models import Company
from ledger.models import CompanyGroup, Transaction
from ledger.transactions.services import TransactionInvalid, transaction_create
from tripletex.sandbox import demo


def _rows(today: datetime.date) -> list[dict[str, Any]]:
    """Five rows over the last weeks, oldest first (FIFO needs the purchases before the sale)."""

    def day(weeks_ago: int) -> datetime.date:
        return today - datetime.timedelta(weeks=weeks_ago)

    equinor = {"instrument_name": "Equinor ASA", "isin": "NO0010096985"}
    dnb = {"instrument_name": "DNB Bank ASA", "isin": "NO0010161896"}
    common = {"currency": "NOK", "settle_via": "bank"}
    return [
        {"kind": "purchase", "trade_date": day(6), **equinor, "quantity": Decimal("400"),
         "price": Decimal("262.50"), "amount": Decimal("105000.00"), "fees": Decimal("99.00"),
         **common},
        {"kind": "purchase", "trade_date": day(5), **dnb, "quantity": Decimal("250"),
         "price": Decimal("214.20"), "amount": Decimal("53550.00"), "fees": Decimal("79.00"),
         **common},
        {"kind": "sale", "trade_date": day(3), **equinor, "quantity": Decimal("150"),
         "price": Decimal("271.00"), "amount": Decimal("40650.00"), "fees": Decimal("49.00"),
         **common},
        {"kind": "dividend", "trade_date": day(2), **dnb, "amount": Decimal("4000.00"),
         **common},
        {"kind": "fee", "trade_date": day(1), "description": "Depotgebyr",
         "amount": Decimal("250.00"), **common},
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Create demo transactions and a demo group for the demo companies (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        holding = Company.objects.filter(org_number=demo.HOLDING.org_number).first()
        operating = Company.objects.filter(org_number=demo.OPERATING.org_number).first()
        if holding is None:
            self.stderr.write("Run seed_demo first: the demo companies are missing.")
            return
        with transaction.atomic(), scope(company=holding):
            made = self._transactions(holding)
        with transaction.atomic(), scope(company=holding):
            grouped = self._group(holding, operating)
        self.stdout.write(
            f"Demo ledger: {made} transaction(s) ready to book for {holding.name}"
            + (f"; group {grouped}" if grouped else "")
        )

    def _transactions(self, company: Company) -> int:
        if Transaction.objects.filter(company=company).exists():
            return 0
        made = 0
        for data in _rows(timezone.localdate()):
            try:
                transaction_create(company=company, data=data, by=None)
            except TransactionInvalid as invalid:
                # A check refused a demo row (say, a period closed in the sandbox): say so, go on.
                self.stderr.write(
                    f"Demo row {data['kind']} {data['trade_date']} left out: {invalid}"
                )
                continue
            made += 1
        return made

    def _group(self, holding: Company, operating: Company | None) -> str:
        if operating is None or CompanyGroup.objects.filter(company=holding).exists():
            return ""
        group = CompanyGroup.objects.create(company=holding, name=f"{holding.name} konsern")
        group.members.add(operating)
        return group.name

"""Holdings as a stored ledger: the lots the firm's securities transactions opened, and what each
sale, fund switch or repayment of capital took from them.

A lot is written when the purchase (or the fund switch into a fund) that opens it is queued for
booking; a `LotUse` when the sale, switch or repayment that draws on lots is queued. From then on
they are fixed: what a booked voucher credited the securities account is what its uses say. They
are removed only when their transaction leaves the booking pipeline: refused before Tripletex,
rejected by Tripletex, or reversed (ledger/holdings/services.py says exactly when). So the rows
of this module always describe the rows that are queued, being booked, booked, or that need
attention after a booking attempt (their voucher may exist), never drafts, ready, rejected,
reversed or deleted ones.
"""

from __future__ import annotations

from django.db import models

from companies.models import Company
from ledger.models.fields import MONEY, QUANTITY
from ledger.models.managers import CompanyScopedManager
from ledger.models.transactions import Transaction


class Lot(models.Model):
    """Units of one instrument acquired together: by a purchase, or the fund a switch went into.

    `quantity` and `cost` are what was acquired (cost in NOK, fees included); what is still held
    is that less the uses of the lot."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    opened_by = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lots")
    instrument_key = models.CharField(max_length=200)
    instrument_name = models.CharField(max_length=200, blank=True)
    isin = models.CharField(max_length=12, blank=True)
    acquired = models.DateField()
    quantity = models.DecimalField(**QUANTITY)
    cost = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["acquired", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["opened_by"], name="ledger_lot_one_per_transaction"),
        ]
        indexes = [models.Index(fields=["company", "instrument_key"], name="ledger_lot_instrument")]

    def __str__(self) -> str:
        return f"{self.instrument_key} {self.acquired} {self.quantity} @ {self.cost}"


class LotUse(models.Model):
    """What one sale, fund switch or repayment of capital took from one lot.

    A sale or switch takes units and their cost; a repayment takes cost only (quantity 0): it
    lowers the cost of what is held."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.RESTRICT, related_name="uses")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lot_uses")
    quantity = models.DecimalField(**QUANTITY)
    cost = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["lot__acquired", "lot_id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "transaction"], name="ledger_lotuse_once"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_id} takes {self.quantity} ({self.cost}) of lot {self.lot_id}"

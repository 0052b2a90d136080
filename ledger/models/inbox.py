"""The import inbox: a broker file's rows kept *to check* before any becomes a transaction.

An uploaded file becomes an ImportBatch with one InboxRow per new row of the file (the rows the
firm already has, by the broker's id or the contract-note number, are only counted). The rows are
stored, so nothing is lost when the person leaves the page and comes back: each keeps what the
format made of the file (`data`: the fields transaction_create takes, amounts in NOK), what the
person changed (`edited`), whether it is left out (`excluded`) and what the last check of the
whole batch said about it (`problems`, and the FIFO cost of a sale, `cost`). Accepting the batch
turns every row not left out into a ready transaction, all or nothing (ledger/imports/inbox.py).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.fields import MONEY
from ledger.models.managers import CompanyScopedManager

# The fields of `InboxRow.data` that are dates or decimals (JSON keeps them as text).
DATE_FIELDS = ("trade_date", "settlement_date")
DECIMAL_FIELDS = (
    "quantity",
    "price",
    "amount",
    "fees",
    "amount_currency",
    "to_quantity",
    "to_amount_currency",
)


def data_to_json(data: dict[str, Any]) -> dict[str, Any]:
    """Transaction data with dates as ISO text and decimals as plain text (exact)."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, datetime.date):
            out[name] = value.isoformat()
        elif isinstance(value, Decimal):
            out[name] = format(value, "f")
        else:
            out[name] = value
    return out


def data_from_json(stored: dict[str, Any]) -> dict[str, Any]:
    """The stored data as transaction_create takes it (dates and Decimals again)."""
    out = dict(stored)
    for name in DATE_FIELDS:
        if out.get(name):
            out[name] = datetime.date.fromisoformat(out[name])
    for name in DECIMAL_FIELDS:
        if out.get(name) not in (None, ""):
            out[name] = Decimal(out[name])
    return out


class ImportBatch(models.Model):
    """One uploaded file in the inbox, and what its import found."""

    class Status(models.TextChoices):
        OPEN = "open", _("To check")
        ACCEPTED = "accepted", _("Accepted")
        DISCARDED = "discarded", _("Discarded")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="import_batches")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    format_key = models.CharField(max_length=20)
    format_label = models.CharField(max_length=200)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    # What the file held besides its new rows: counted, listed, never silently dropped.
    already = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    # [[broker's type, our type, rows, new], ...]
    types = models.JSONField(default=list, blank=True)
    unknown_types = models.JSONField(default=dict, blank=True)
    manual_types = models.JSONField(default=dict, blank=True)
    # [[line, text], ...]: the format's warnings other than the Saldo check.
    warnings = models.JSONField(default=list, blank=True)
    # The Saldo check's gaps, each with the file's rows around it (ledger/imports/inbox.py).
    saldo_gaps = models.JSONField(default=list, blank=True)
    # What the last check of the whole batch could not check (no chart or periods read yet).
    check_note = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # The language the rows' `problems` were written in by the last check ('' for a batch checked
    # before this was kept): a person reading in another language gets them checked again in
    # theirs (ledger/imports/inbox.py `problems_for_reader`).
    checked_language = models.CharField(max_length=10, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return f"{self.format_label} {self.file_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class InboxRow(models.Model):
    """One new row of a file in the inbox: what it would be saved as, and where it stands."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    # The line in the file (the header is line 1) and the order rows are saved in.
    line = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    source_type = models.CharField(max_length=80)
    # A Transaction.Kind, or ledger.imports.base.FEE_REFUND (saved as a journal entry).
    kind = models.CharField(max_length=20)
    data = models.JSONField()
    account_number = models.CharField(max_length=40, blank=True)
    broker_account = models.ForeignKey(
        "ledger.BrokerAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    broker_ref = models.CharField(max_length=80, blank=True)
    broker_ref_other = models.CharField(max_length=80, blank=True)
    contract_note_number = models.CharField(max_length=40, blank=True)
    instrument_ref = models.CharField(max_length=80, blank=True)
    fx_rate = models.DecimalField(null=True, blank=True, max_digits=20, decimal_places=8)
    tax_withheld = models.DecimalField(default=Decimal("0.00"), **MONEY)
    excluded = models.BooleanField(default=False)
    edited = models.BooleanField(default=False)
    # The last check of the batch: why this row cannot be accepted ([] when it can), and the FIFO
    # cost of what a sale disposes of (for its voucher preview).
    problems = models.JSONField(default=list, blank=True)
    cost = models.DecimalField(null=True, blank=True, **MONEY)
    transaction = models.ForeignKey(
        "ledger.Transaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["batch", "position"]
        indexes = [
            models.Index(fields=["batch", "position"]),
            models.Index(fields=["company", "broker_ref"]),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line}"

    @property
    def values(self) -> dict[str, Any]:
        """`data` as transaction_create takes it."""
        return data_from_json(self.data)

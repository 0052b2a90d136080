"""Contract notes (sluttsedler): the broker's PDF (or image) of a trade, kept per company and
uploaded to the trade's Tripletex voucher exactly once.

The file lives in CONTRACT_NOTES_ROOT under the company's own folder, named by a random id (the
person's file name is kept only as a column): no URL reaches it, only the company's download
page (ledger/contract_notes/views.py), behind the tenancy middleware and a company filter.

Uploading appends pages to the voucher's attachment in Tripletex, so it is not idempotent: the
row records the intent (`sent_at`, stamped right before each send) and what the voucher's
attachment looked like before the first send (`baseline`); after an unclear answer the voucher is
looked at again and compared with it (ledger/contract_notes/upload.py).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.managers import CompanyScopedManager


class ContractNoteStorage(FileSystemStorage):
    """CONTRACT_NOTES_ROOT, read when used (tests point it elsewhere); no URL at all."""

    @property
    def base_location(self) -> str:
        return str(settings.CONTRACT_NOTES_ROOT)

    @property
    def location(self) -> str:
        return str(Path(settings.CONTRACT_NOTES_ROOT).resolve())

    @property
    def base_url(self) -> None:  # type: ignore[override]
        # FileSystemStorage.url() refuses a storage without a base URL: these files are served
        # only through the company's download page.
        return None


_STORAGE = ContractNoteStorage()


def contract_note_storage() -> ContractNoteStorage:
    """The contract notes' storage (a callable, so migrations name it rather than copy it)."""
    return _STORAGE


def contract_note_path(instance: ContractNote, filename: str) -> str:
    """<company id>/<the name given by the service> (never the person's file name)."""
    return f"{instance.company_id}/{filename}"


class ContractNote(models.Model):
    """A contract note's file, the transaction it belongs to (none until matched or assigned) and
    where its upload to that transaction's voucher stands."""

    class State(models.TextChoices):
        # Waiting for the transaction (unassigned) or for its voucher (not booked yet), or queued
        # for upload once it is.
        PENDING = "pending", _("Not attached yet")
        SENDING = "sending", _("Attaching")
        UPLOADED = "uploaded", _("Attached")
        FAILED = "failed", _("Attaching failed")

    class Match(models.TextChoices):
        PAGE = "page", _("Attached on the transaction's page")
        NUMBER = "number", _("Contract note number")
        DETAILS = "details", _("Date, instrument and amount")
        HAND = "hand", _("Assigned by hand")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contract_notes")
    transaction = models.ForeignKey(
        "ledger.Transaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contract_notes",
    )
    file = models.FileField(storage=contract_note_storage, upload_to=contract_note_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Found from the content (magic bytes), never taken from the browser.
    content_type = models.CharField(max_length=40)
    # Read from the PDF's text or the file name; what a transaction's Sluttseddelnummer matches.
    contract_note_number = models.CharField(_("contract note number"), max_length=40, blank=True)
    matched_by = models.CharField(max_length=10, choices=Match.choices, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # The voucher the upload goes (went) to; the transaction's voucher changes after a reversal.
    voucher_id = models.BigIntegerField(null=True, blank=True)
    # The voucher's attachment before our first send ({id, version, size, …} or None), and what
    # Tripletex showed once ours was on it: the evidence.
    baseline = models.JSONField(null=True, blank=True)
    document = models.JSONField(null=True, blank=True)
    claim_token = models.CharField(max_length=40, blank=True)
    lease_at = models.DateTimeField(null=True, blank=True)
    # Stamped right before each HTTP send of the upload (the intent): until its settle deadline
    # nothing is sent again, and after it the voucher is looked at before anything is.
    sent_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    messages = models.JSONField(default=list, blank=True)
    request_ids = models.JSONField(default=list, blank=True)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # One file once per company: the same PDF dropped again is recognised, not stored twice.
            models.UniqueConstraint(
                fields=["company", "sha256"], name="ledger_contract_note_one_per_file"
            ),
        ]
        indexes = [models.Index(fields=["company", "transaction"])]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def may_be_removed(self) -> bool:
        """Never sent to Tripletex: removing it here loses nothing there."""
        return self.sent_at is None and self.state != self.State.SENDING

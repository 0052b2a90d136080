"""What the report packs (ledger/packs/) and the group view (ledger/groups/) store: report packs
(the PDF itself, per company), the accountant's comments per section and month, batches of packs
for an office, and groups with their elimination mapping.

A report pack's PDF is kept in the database (`ReportPack.pdf`), on the company's row: it is
reached only through the company's pages (the tenancy middleware, then a company filter), never
through a media URL that another company could guess, and it is backed up with the figures it
shows. A pack is some 50–150 kB.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company, OfficeKey
from ledger.models.managers import CompanyScopedManager


class Section(models.TextChoices):
    """The parts of a report pack an accountant can comment on, in the pack's order."""

    SUMMARY = "summary", _("Summary")
    KEY_FIGURES = "key_figures", _("Key figures")
    PNL = "pnl", _("Profit and loss")
    BALANCE = "balance", _("Balance sheet")
    HOLDINGS = "holdings", _("Holdings")


COMMENT_MAX_LENGTH = 4000


class ReportComment(models.Model):
    """The accountant's comment on one section of a firm's report pack for a month."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="report_comments")
    month = models.DateField(help_text="First day of the month the pack runs through.")
    section = models.CharField(max_length=20, choices=Section.choices)
    text = models.TextField(max_length=COMMENT_MAX_LENGTH)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "month", "section"], name="ledger_one_report_comment_per_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m} {self.section}"


class ReportBatch(models.Model):
    """Report packs for every firm of an accounting office that its creator can open, for a month.

    Not a tenant row: it spans firms. Only its creator sees it; each pack in it is the firm's own
    row, downloadable only under that firm."""

    month = models.DateField()
    office = models.ForeignKey(
        OfficeKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.label} {self.month:%Y-%m}"


class ReportPack(models.Model):
    """One generated (or queued) report pack PDF of a firm for a month."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="report_packs")
    month = models.DateField(help_text="First day of the month the pack runs through.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    batch = models.ForeignKey(
        ReportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="packs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CompanyScopedManager()

    class Meta:
        indexes = [models.Index(fields=["company", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def filename(self) -> str:
        """The download's name: rapportpakke-<org number>-<yyyy>-<mm>.pdf."""
        return f"rapportpakke-{self.company.org_number}-{self.month:%Y-%m}.pdf"


class CompanyGroup(models.Model):
    """A holding company (`company`, the parent) and the subsidiaries consolidated with it."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="group")
    name = models.CharField(_("group name"), max_length=200)
    members = models.ManyToManyField(Company, related_name="group_memberships", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The elimination mapping counts only once a person has confirmed it (and again after changes).
    mapping_confirmed_at = models.DateTimeField(null=True, blank=True)
    mapping_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CompanyScopedManager()

    def __str__(self) -> str:
        return self.name


class EliminationPair(models.Model):
    """Two accounts of two firms of a group whose intercompany amounts cancel in the group figures.

    Side A is the debit side (an investment, a receivable, a cost) and side B the credit side
    (equity, a payable, an income): the pair takes away the amount both still have, never more
    than either (`ledger.groups.consolidation`)."""

    class Kind(models.TextChoices):
        INVESTMENT = "investment", _("Investment in subsidiary against its equity")
        BALANCE = "balance", _("Intercompany receivable against payable")
        CONTRIBUTION = "contribution", _("Group contribution")
        DIVIDEND = "dividend", _("Intra-group dividend")
        OTHER = "other", _("Other intercompany item")

    group = models.ForeignKey(CompanyGroup, on_delete=models.CASCADE, related_name="pairs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    firm_a = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    account_a = models.PositiveIntegerField()
    firm_b = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    account_b = models.PositiveIntegerField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.firm_a_id}:{self.account_a} ↔ {self.firm_b_id}:{self.account_b}"

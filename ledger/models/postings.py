"""Postings synced from Tripletex, and how each fiscal year of a company was synced.

A company's postings are stored locally (keyed by Tripletex's posting id) for the years the sync
pulls from `/ledger/posting`: the monthly balances of those years are derived from them, the
drill-down reads them without calling Tripletex, and the P&L filters them by department and
project. They are replaced period by period, atomically (`ledger.sync.posting_replace`).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.fields import MONEY
from ledger.models.managers import CompanyScopedManager


class Posting(models.Model):
    """One posting (a line of a voucher) as Tripletex has it: debit positive, credit negative."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="postings")
    tripletex_id = models.BigIntegerField()
    date = models.DateField()
    account_number = models.IntegerField()
    amount = models.DecimalField(**MONEY)
    description = models.TextField(blank=True)
    # Tripletex ids of the dimensions (Department/Project.tripletex_id), None when not set.
    department_id = models.BigIntegerField(null=True, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    voucher_id = models.BigIntegerField(null=True, blank=True)
    voucher_number = models.IntegerField(null=True, blank=True)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tripletex_id"], name="ledger_posting_one_per_id"
            ),
        ]
        indexes = [
            models.Index(fields=["company", "account_number", "date"]),
            models.Index(fields=["company", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.date}: {self.amount}"


class PostingMonth(models.Model):
    """A month whose postings are stored (all of them, as Tripletex showed them to our key) and
    when they were pulled: what the drill-down shows "as of"."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="posting_months")
    month = models.DateField(help_text="First day of the month; the period is [month, next month).")
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "month"], name="ledger_postingmonth_one_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m}"


class FiscalYearSync(models.Model):
    """How the sync last pulled one fiscal year of a company, and why.

    `postings`: from one `/ledger/posting` pull checked against one yearly `/balanceSheet` (its
    monthly balances derived locally); `months`: one `/balanceSheet` per month, for a year too
    large for the posting pull or whose postings did not add up to Tripletex's totals."""

    class Strategy(models.TextChoices):
        POSTINGS = "postings", _("Postings")
        MONTHS = "months", _("Monthly balances")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="fiscal_year_syncs")
    start = models.DateField(help_text="First day of the fiscal year.")
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    postings = models.PositiveIntegerField(default=0, help_text="Postings pulled for the year.")
    reason = models.TextField(blank=True)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "start"], name="ledger_fiscalyearsync_one_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.start:%Y-%m} {self.strategy}"

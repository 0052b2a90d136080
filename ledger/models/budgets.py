"""Budgets per company, account and month: pulled from Tripletex's `/resultbudget` with the sync,
or uploaded from the XLSX template when the firm keeps no budget in Tripletex.

A row is one account's budget for one month, at company level (no department, no project) or for
one department or one project (Tripletex's `resultBudgetType` DEPARTMENT or PROJECT; the ids are
Tripletex's, as on `Posting`). Amounts carry the ledger's signs (debit positive, credit negative:
income negative, costs positive), the same as `AccountBalance` and `Posting`, so a budget is
compared with the actual figure without flipping anything.

A fiscal year's budget comes from one place: when Tripletex has one for the year, the sync stores
it and it replaces an uploaded one; when Tripletex has none, an uploaded budget stays.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.fields import MONEY
from ledger.models.managers import CompanyScopedManager


class Budget(models.Model):
    """One account's budget for one month, at company level or for a department or a project."""

    class Source(models.TextChoices):
        TRIPLETEX = "tripletex", _("Tripletex")
        UPLOAD = "upload", _("Uploaded file")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="budgets")
    account_number = models.IntegerField()
    month = models.DateField(help_text="First day of the month; the period is [month, next month).")
    # Tripletex ids (Department/Project.tripletex_id); both None at company level.
    department_id = models.BigIntegerField(null=True, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    source = models.CharField(max_length=20, choices=Source.choices)
    updated_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(department_id__isnull=True) | Q(project_id__isnull=True),
                name="ledger_budget_one_dimension",
            ),
            models.UniqueConstraint(
                fields=["company", "account_number", "month"],
                condition=Q(department_id__isnull=True, project_id__isnull=True),
                name="ledger_budget_one_per_company_month",
            ),
            models.UniqueConstraint(
                fields=["company", "account_number", "month", "department_id"],
                condition=Q(department_id__isnull=False),
                name="ledger_budget_one_per_department_month",
            ),
            models.UniqueConstraint(
                fields=["company", "account_number", "month", "project_id"],
                condition=Q(project_id__isnull=False),
                name="ledger_budget_one_per_project_month",
            ),
        ]
        indexes = [models.Index(fields=["company", "month"])]

    def __str__(self) -> str:
        return f"{self.account_number} {self.month:%Y-%m}: {self.amount}"


class BudgetYear(models.Model):
    """Where one fiscal year's budget of a company comes from, and when it was last checked.

    The sync writes one for each fiscal year it asks Tripletex about (`checked_at`, and `problem`
    when the call failed); an upload writes one with its file name and uploader. `source` NONE: the
    sync asked and Tripletex had no budget, and nothing was uploaded."""

    class Source(models.TextChoices):
        TRIPLETEX = "tripletex", _("Tripletex")
        UPLOAD = "upload", _("Uploaded file")
        NONE = "none", _("No budget")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="budget_years")
    start = models.DateField(help_text="First month of the fiscal year.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.NONE)
    rows = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        "companies.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=255, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "start"], name="ledger_budgetyear_one_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.start:%Y-%m}: {self.source}"


class BudgetTotal(models.Model):
    """One month's company-level budget of the net-result accounts (3000–8799) of a company, summed.

    The office dashboard reads these few rows instead of summing every budget row of 200 firms
    (`ledger.dashboard`). Written in the same transaction as the budget rows, by the sync from
    Tripletex and by the upload (`ledger.budgets.totals.budget_totals_refresh`): `rows` counts the
    budget rows summed, so a month with a budget that sums to zero is told from one without."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="budget_totals")
    month = models.DateField(help_text="First day of the month; the period is [month, next month).")
    net_result = models.DecimalField(**MONEY)
    rows = models.PositiveIntegerField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "month"], name="ledger_budgettotal_one_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m}: {self.net_result}"

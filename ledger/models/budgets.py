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

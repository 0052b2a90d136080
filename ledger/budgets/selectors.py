"""What the figures pages, the report pack and the office dashboard read of a firm's budget.

Signs are the ledger's, as the P&L stores its amounts (Tripletex's: debit positive, credit negative,
so income is negative and costs positive); a page flips a budget for display exactly as it flips
the actual figure beside it. A month belongs to a period [date_from, date_to) when its first day
does (budgets are monthly; the figures' periods are whole months).

Levels: with neither `department_id` nor `project_id` the company-level budget is read; with one of
them (Tripletex's id, as on `Posting`), that department's or project's budget. Tripletex keeps a
budget for one dimension at a time (`resultBudgetType`), so asking for a department and a project
together finds nothing. Accounts without a budget are absent from the answers (not zero).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet, Sum

from companies.models import Company
from ledger.models import Budget


def _budget_rows(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None,
    project_id: int | None,
) -> QuerySet[Budget]:
    rows = Budget.objects.filter(company=company, month__gte=date_from, month__lt=date_to)
    if department_id is not None and project_id is not None:
        return rows.none()
    if department_id is not None:
        return rows.filter(department_id=department_id)
    if project_id is not None:
        return rows.filter(project_id=project_id)
    return rows.filter(department_id__isnull=True, project_id__isnull=True)


def budget_by_account(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None = None,
    project_id: int | None = None,
) -> dict[int, Decimal]:
    """Account number → the budget of the months in [date_from, date_to) (one query)."""
    rows = _budget_rows(
        company=company,
        date_from=date_from,
        date_to=date_to,
        department_id=department_id,
        project_id=project_id,
    )
    sums = rows.values("account_number").annotate(total=Sum("amount")).order_by("account_number")
    return {row["account_number"]: row["total"] for row in sums}


def budget_by_account_month(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    department_id: int | None = None,
    project_id: int | None = None,
) -> dict[int, dict[datetime.date, Decimal]]:
    """Account number → {first day of month → budget} for the months in [date_from, date_to)."""
    rows = _budget_rows(
        company=company,
        date_from=date_from,
        date_to=date_to,
        department_id=department_id,
        project_id=project_id,
    ).order_by("account_number", "month")
    by_account: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    for number, month, amount in rows.values_list("account_number", "month", "amount"):
        by_account[number][month] = amount
    return dict(by_account)


def has_budget(*, company: Company) -> bool:
    """True when the firm has a budget of any level for any month (one query)."""
    return Budget.objects.filter(company=company).exists()

"""The per-month totals of a company's budget that the office dashboard reads (`BudgetTotal`).

Every path that writes company-level budget rows (the sync from Tripletex, `ledger.budgets.sync`,
and the XLSX upload, `ledger.budgets.upload`) calls `budget_totals_refresh` for the months it
replaced, inside its own transaction, so the totals never disagree with the rows: they are summed
from the stored rows after the write, and a month's total is replaced, never added to.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Sum

from companies.models import Company
from ledger.accounts import NET_RESULT
from ledger.models import Budget, BudgetTotal


def budget_totals_refresh(*, company: Company, start: datetime.date, end: datetime.date) -> int:
    """Make the BudgetTotal rows of the months in [start, end) the sums of the company-level
    budget rows of the net-result accounts stored for them (two queries); returns the months."""
    sums = (
        Budget.objects.filter(
            company=company,
            month__gte=start,
            month__lt=end,
            department_id=None,
            project_id=None,
            **NET_RESULT.lookups(),
        )
        .values("month")
        .annotate(total=Sum("amount"), rows=Count("id"))
        .order_by("month")
    )
    totals = [
        BudgetTotal(company=company, month=s["month"], net_result=s["total"], rows=s["rows"])
        for s in sums
    ]
    BudgetTotal.objects.filter(company=company, month__gte=start, month__lt=end).delete()
    BudgetTotal.objects.bulk_create(totals)
    return len(totals)

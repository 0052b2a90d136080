"""Pulling a firm's budgets from Tripletex's `/resultbudget` (README of shared/tripletex, §8.5).

After each full sync run (nightly, "Sync now", the weekly re-check) the sync enqueues
`budgets_sync_task`, which asks Tripletex, for each fiscal year the sync keeps current, for the
company-level budget (`GET /resultbudget/company?year=…`) and for every department's and project's
(`GET /resultbudget?includeAllDepartmentResultBudgets=true&includeAllProjectResultBudgets=true`):
two calls per year, four per firm. It runs as its own task so that the run's call counts and a
failure of the budget calls never change how the figures' sync ends; a failed call is written on
the year (`BudgetYear.problem`, shown on the budget page) and the next sync asks again.

`year` is passed explicitly (Tripletex defaults to the current year) as the calendar year the
fiscal year starts in; rows are kept by their accounting period's start month when it lies in that
fiscal year. The includeAll… flags cover active departments and projects only (§8.5), so a budget
of a department made inactive is not pulled.

One source per fiscal year: when Tripletex has a budget for the year (any level) it replaces what
is stored for the year, an uploaded budget included (Tripletex is where the books are kept); when it
has none, the rows it gave before are removed and an uploaded budget stays untouched.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company
from ledger.budgets.totals import budget_totals_refresh
from ledger.models import Budget, BudgetYear
from ledger.periods import FiscalYear, today_local
from ledger.sync.alerts import error_text, with_request_id
from ledger.sync.selectors import synced_fiscal_years
from tripletex.client import TripletexClient
from tripletex.errors import TripletexError
from tripletex.schemas import ResultBudget

logger = logging.getLogger(__name__)

# (account number, month, department id, project id)
BudgetKey = tuple[int, datetime.date, int | None, int | None]


def budgets_sync(
    *,
    company: Company,
    client: TripletexClient | None = None,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Pull the budgets of the fiscal years the sync keeps current; returns {year label: rows}
    (-1 for a year whose calls failed; the reason is on its BudgetYear)."""
    with scope(company=company):
        years = synced_fiscal_years(company=company, today=today or today_local())
        try:
            client = client or tripletex_client_for(company)
        except ConnectionUnavailable as exc:
            for fiscal_year in years:
                _year_problem(company, fiscal_year, str(exc))
            return {fy.label: -1 for fy in years}
        return {fy.label: budgets_year_pull(company, client, fy) for fy in years}


def budgets_year_pull(company: Company, client: TripletexClient, fiscal_year: FiscalYear) -> int:
    """Pull and store one fiscal year's budgets (2 calls); returns the rows stored, -1 on failure."""
    try:
        rows = client.result_budgets_company(year=fiscal_year.year)
        rows += client.result_budgets_dimensions(year=fiscal_year.year)
    except TripletexError as exc:
        logger.warning("Budgets of company %s, %s: %s", company.pk, fiscal_year.label, exc)
        _year_problem(company, fiscal_year, with_request_id(exc, error_text(exc)))
        return -1
    amounts = budget_amounts(rows, fiscal_year)
    return budgets_year_replace(company, fiscal_year, amounts)


def budget_amounts(rows: list[ResultBudget], fiscal_year: FiscalYear) -> dict[BudgetKey, Decimal]:
    """Tripletex's rows as amounts per account, month and level, the year's months only
    (rows of the same key are summed; employee and product budgets are not kept)."""
    amounts: dict[BudgetKey, Decimal] = defaultdict(Decimal)
    for row in rows:
        month = row.period_start.replace(day=1)
        if not fiscal_year.contains(month):
            continue
        if row.budget_type == "DEPARTMENT" and row.department_id is not None:
            key: BudgetKey = (row.account_number, month, row.department_id, None)
        elif row.budget_type == "PROJECT" and row.project_id is not None:
            key = (row.account_number, month, None, row.project_id)
        elif row.budget_type == "COMPANY":
            key = (row.account_number, month, None, None)
        else:
            continue
        amounts[key] += row.amount
    return dict(amounts)


@transaction.atomic
def budgets_year_replace(
    company: Company, fiscal_year: FiscalYear, amounts: dict[BudgetKey, Decimal]
) -> int:
    """Store Tripletex's budget of one fiscal year by the one-source rule; returns its rows."""
    now = timezone.now()
    year, _created = BudgetYear.objects.select_for_update().get_or_create(
        company=company, start=fiscal_year.start
    )
    in_year = Budget.objects.filter(
        company=company, month__gte=fiscal_year.start, month__lt=fiscal_year.end
    )
    year.checked_at, year.problem = now, ""
    if not amounts:
        in_year.filter(source=Budget.Source.TRIPLETEX).delete()
        if year.source == BudgetYear.Source.TRIPLETEX:
            year.source, year.rows, year.updated_at = BudgetYear.Source.NONE, 0, now
        year.save()
        budget_totals_refresh(company=company, start=fiscal_year.start, end=fiscal_year.end)
        return 0
    in_year.delete()
    Budget.objects.bulk_create(
        Budget(
            company=company,
            account_number=number,
            month=month,
            department_id=department_id,
            project_id=project_id,
            amount=amount,
            source=Budget.Source.TRIPLETEX,
            updated_at=now,
        )
        for (number, month, department_id, project_id), amount in sorted(
            amounts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0, kv[0][3] or 0)
        )
    )
    year.source, year.rows, year.updated_at = BudgetYear.Source.TRIPLETEX, len(amounts), now
    year.uploaded_by, year.file_name = None, ""
    year.save()
    budget_totals_refresh(company=company, start=fiscal_year.start, end=fiscal_year.end)
    return len(amounts)


def _year_problem(company: Company, fiscal_year: FiscalYear, message: str) -> None:
    year, _created = BudgetYear.objects.get_or_create(company=company, start=fiscal_year.start)
    year.checked_at = timezone.now()
    year.problem = _("The budget could not be read from Tripletex: %(reason)s") % {
        "reason": message
    }
    year.save(update_fields=["checked_at", "problem"])

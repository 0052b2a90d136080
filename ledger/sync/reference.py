"""The reference data a sync pulls before the balances: the chart of accounts, departments,
projects and accounting periods of a company, upserted by their Tripletex ids.

Rows that disappear from Tripletex are kept (old balances and transactions refer to their
numbers) and shown inactive.
"""

import datetime
from typing import Any

from django.utils import timezone

from companies.models import Company
from ledger.models import AccountingPeriod, Department, LedgerAccount, Project
from ledger.periods import FiscalYear, months_in
from ledger.sync.month_replace import BATCH
from tripletex.client import TripletexClient

# The postings strategy refreshes the chart, departments and projects once they are this old (and
# whenever a posting names one it does not know).
REFERENCE_MAX_AGE = datetime.timedelta(hours=24)


def reference_data_due(company: Company) -> bool:
    """True when the company's chart was never pulled or was pulled REFERENCE_MAX_AGE ago."""
    latest = (
        LedgerAccount.objects.filter(company=company)
        .order_by("-synced_at")
        .values_list("synced_at", flat=True)
        .first()
    )
    return latest is None or latest <= timezone.now() - REFERENCE_MAX_AGE


def reference_data_pull(company: Company, client: TripletexClient) -> None:
    """Upsert the chart of accounts, departments and projects (4 calls with the periods)."""
    now = timezone.now()
    accounts = client.accounts()
    _upsert(
        LedgerAccount,
        [
            LedgerAccount(
                company=company,
                tripletex_id=a.id,
                number=a.number,
                name=a.name[:255],
                account_type=(a.type or "")[:40],
                is_active=not a.is_inactive,
                synced_at=now,
            )
            for a in accounts
        ],
        unique=["company", "tripletex_id"],
        update=["number", "name", "account_type", "is_active", "synced_at"],
    )
    departments = client.departments()
    _upsert(
        Department,
        [
            Department(
                company=company,
                tripletex_id=d.id,
                number=(d.number or "")[:40],
                name=(d.name or "")[:255],
                is_active=not d.is_inactive,
                synced_at=now,
            )
            for d in departments
        ],
        unique=["company", "tripletex_id"],
        update=["number", "name", "is_active", "synced_at"],
    )
    projects = client.projects()
    _upsert(
        Project,
        [
            Project(
                company=company,
                tripletex_id=p.id,
                number=(p.number or "")[:40],
                name=(p.name or "")[:255],
                is_closed=bool(p.is_closed),
                synced_at=now,
            )
            for p in projects
        ],
        unique=["company", "tripletex_id"],
        update=["number", "name", "is_closed", "synced_at"],
    )
    # Gone from Tripletex: keep the row (old balances refer to the number) but show it inactive.
    LedgerAccount.objects.filter(company=company).exclude(
        tripletex_id__in=[a.id for a in accounts]
    ).update(is_active=False)
    Department.objects.filter(company=company).exclude(
        tripletex_id__in=[d.id for d in departments]
    ).update(is_active=False)


def periods_pull(
    company: Company, client: TripletexClient, fiscal_years: list[FiscalYear]
) -> dict[datetime.date, bool]:
    """Upsert the accounting periods of `fiscal_years`; returns {month: is_closed} (1 call)."""
    now = timezone.now()
    periods = client.accounting_periods(
        start_from=min(fy.start for fy in fiscal_years),
        start_to=max(fy.end for fy in fiscal_years),
    )
    _upsert(
        AccountingPeriod,
        [
            AccountingPeriod(
                company=company,
                tripletex_id=p.id,
                start=p.start,
                end=p.end,
                is_closed=p.is_closed,
                synced_at=now,
            )
            for p in periods
        ],
        unique=["company", "start"],
        update=["tripletex_id", "end", "is_closed", "synced_at"],
    )
    closed: dict[datetime.date, bool] = {}
    for p in periods:
        # A period may span several months (bi-monthly VAT terms): every month in it shares its flag.
        for month in months_in(p.start, p.end):
            closed[month] = closed.get(month, True) and p.is_closed
    return closed


def _upsert(model: Any, objs: list[Any], *, unique: list[str], update: list[str]) -> None:
    """Insert `objs`, updating the `update` fields of rows that already exist by `unique`."""
    if objs:
        model.objects.bulk_create(
            objs,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=unique,
            update_fields=update,
        )

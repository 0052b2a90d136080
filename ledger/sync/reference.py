"""The reference data a sync pulls before the balances: the chart of accounts, departments,
projects and accounting periods of a company, upserted by their Tripletex ids.

Rows that disappear from Tripletex are kept (old balances and transactions refer to their
numbers) and shown inactive.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from companies.models import Company
from ledger.models import AccountingPeriod, Department, LedgerAccount, Project
from ledger.periods import FiscalYear, months_in
from ledger.sync.month_replace import BATCH
from tripletex.client import TripletexClient
from tripletex.schemas import Posting

# The postings strategy refreshes the chart, departments and projects once they are this old, and
# whenever a posting names one it does not know (`references_refresh`).
REFERENCE_MAX_AGE = datetime.timedelta(hours=24)


def reference_data_pull(company: Company, client: TripletexClient) -> None:
    """Upsert the chart of accounts, departments and projects (4 calls with the periods)."""
    accounts_pull(company, client)
    departments_pull(company, client)
    projects_pull(company, client)


def references_refresh(
    company: Company, client: TripletexClient, postings: Iterable[Posting], *, daily: bool
) -> int:
    """Pull each of the chart, departments and projects that a posting names one unknown of, or
    (when `daily`) that is REFERENCE_MAX_AGE old; returns how many were pulled.

    Departments and projects are pulled by age only once the company has some: the figures need
    them only to name what postings carry, and a holding company often has none (booking looks
    them up in Tripletex itself). The chart is pulled by age always, since monthly balances name
    accounts too."""
    named: dict[type[Any], set[int]] = {LedgerAccount: set(), Department: set(), Project: set()}
    for p in postings:
        for model, ident in (
            (LedgerAccount, p.account_id),
            (Department, p.department_id),
            (Project, p.project_id),
        ):
            if ident is not None:
                named[model].add(ident)
    stale_before = timezone.now() - REFERENCE_MAX_AGE
    pulled = 0
    for model, pull in (
        (LedgerAccount, accounts_pull),
        (Department, departments_pull),
        (Project, projects_pull),
    ):
        held = dict(model.objects.filter(company=company).values_list("tripletex_id", "synced_at"))
        is_stale = not held or max(held.values()) <= stale_before
        by_age = daily and is_stale and (model is LedgerAccount or bool(held))
        if named[model] - held.keys() or by_age:
            pull(company, client)
            pulled += 1
    return pulled


def accounts_pull(company: Company, client: TripletexClient) -> None:
    """Upsert the chart of accounts (1 call); accounts gone from Tripletex are shown inactive."""
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
                currency=a.currency_code[:3],
                currency_tripletex_id=a.currency_id,
                synced_at=now,
            )
            for a in accounts
        ],
        unique=["company", "tripletex_id"],
        update=[
            "number",
            "name",
            "account_type",
            "is_active",
            "currency",
            "currency_tripletex_id",
            "synced_at",
        ],
    )
    # Gone from Tripletex: keep the row (old balances refer to the number) but show it inactive.
    LedgerAccount.objects.filter(company=company).exclude(
        tripletex_id__in=[a.id for a in accounts]
    ).update(is_active=False)


def departments_pull(company: Company, client: TripletexClient) -> None:
    """Upsert the departments (1 call); departments gone from Tripletex are shown inactive."""
    now = timezone.now()
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
    Department.objects.filter(company=company).exclude(
        tripletex_id__in=[d.id for d in departments]
    ).update(is_active=False)


def projects_pull(company: Company, client: TripletexClient) -> None:
    """Upsert the projects (1 call)."""
    now = timezone.now()
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

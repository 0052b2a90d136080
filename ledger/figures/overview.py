"""The overview of my companies: connection, figures as of, last sync and open transactions per firm.

Built for an accounting office with hundreds of client companies: a constant number of queries
whatever the number of companies, and sorting in Python (a few hundred rows).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django_scopes import scope

from companies.models import Company, Membership, Role, TripletexConnection, User
from ledger.models import MonthSync, SyncRun, Transaction
from ledger.sync.selectors import last_runs_by_company


@dataclass
class OverviewRow:
    """One company on the overview: connection, figures as of, last sync and open transactions."""

    company: Company
    role: str
    connection_status: str
    last_run: SyncRun | None
    as_of: datetime.datetime | None
    is_incomplete: bool
    waiting: int | None = None  # None: the user's role may not see transactions
    failed: int | None = None

    @property
    def can_see_transactions(self) -> bool:
        return self.waiting is not None


OVERVIEW_SORTS = ("name", "status", "as_of", "sync", "waiting", "failed")
WAITING_STATUSES = ("ready", "queued", "booking")
FAILED_STATUSES = ("rejected", "failed")


def companies_figures_overview(*, user: User, sort: str = "name") -> list[OverviewRow]:
    """Every company of the user with its figures' state, sorted; a constant number of queries."""
    memberships = list(
        Membership.objects.filter(user=user)
        .select_related("company", "company__tripletex")
        .order_by("company__name")
    )
    companies = [m.company for m in memberships]
    ids = [c.pk for c in companies]
    if not ids:
        return []
    with scope(company=companies):
        last_runs = last_runs_by_company(company_ids=ids)
        as_of = _figures_as_of(ids)
        incomplete = set(
            MonthSync.objects.filter(company_id__in=ids, is_complete=False)
            .values_list("company_id", flat=True)
            .distinct()
        )
        finance_ids = [m.company_id for m in memberships if m.has_role(Role.FINANCE)]
        counts = _transaction_counts(finance_ids)
    rows = []
    for membership in memberships:
        company = membership.company
        connection = getattr(company, "tripletex", None)
        row = OverviewRow(
            company=company,
            role=membership.role,
            connection_status=connection.status if connection else "",
            last_run=last_runs.get(company.pk),
            as_of=as_of.get(company.pk),
            is_incomplete=company.pk in incomplete,
        )
        if company.pk in finance_ids:
            row.waiting, row.failed = counts.get(company.pk, (0, 0))
        rows.append(row)
    return _overview_sorted(rows, sort)


def _figures_as_of(ids: list[int]) -> dict[int, datetime.datetime]:
    """Figures as of per company: the end of its last finished run that wrote figures."""
    rows = (
        SyncRun.objects.filter(
            company_id__in=ids,
            status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.INCOMPLETE),
        )
        .values("company_id")
        .annotate(as_of=Max("finished_at"))
        .values_list("company_id", "as_of")
    )
    return {company_id: at for company_id, at in rows if at}


def _transaction_counts(ids: list[int]) -> dict[int, tuple[int, int]]:
    """(waiting, failed) transactions per company."""
    if not ids:
        return {}
    rows = (
        Transaction.objects.filter(company_id__in=ids)
        .values("company_id")
        .annotate(
            waiting=Count("id", filter=Q(status__in=WAITING_STATUSES)),
            failed=Count("id", filter=Q(status__in=FAILED_STATUSES)),
        )
        .values_list("company_id", "waiting", "failed")
    )
    return {company_id: (waiting, failed) for company_id, waiting, failed in rows}


_CONNECTION_RANK = {
    TripletexConnection.Status.BROKEN: 0,
    TripletexConnection.Status.NOT_VERIFIED: 1,
    "": 2,
    TripletexConnection.Status.CONNECTED: 3,
}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _overview_sorted(rows: list[OverviewRow], sort: str) -> list[OverviewRow]:
    """Sort by ?sort=<key> or -<key>; unknown keys sort by name. Ties stay by name."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    keys = {
        "name": lambda r: r.company.name.lower(),
        "status": lambda r: _CONNECTION_RANK.get(r.connection_status, 2),
        "as_of": lambda r: r.as_of or _EPOCH,
        "sync": lambda r: r.last_run.created_at if r.last_run else _EPOCH,
        "waiting": lambda r: r.waiting or 0,
        "failed": lambda r: r.failed or 0,
    }
    if key not in keys:
        key, descending = "name", False
    return sorted(rows, key=keys[key], reverse=descending)

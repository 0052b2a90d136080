"""Reads about the freshness and health of a company's synced figures: figures as of, runs, schedule."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from companies.models import Company, TripletexConnection
from ledger.models import MonthSync, SyncRun, SyncSchedule
from ledger.periods import (
    FiscalYear,
    fiscal_year_of,
    fiscal_year_start_month_of,
    month_start,
    today_local,
)
from ledger.sync.schedules import next_at, nightly_default

# Runs whose figures were written (an incomplete run wrote figures that fail a tie-out check).
FINISHED_WITH_FIGURES = (SyncRun.Status.SUCCEEDED, SyncRun.Status.INCOMPLETE)
ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)
# Failed runs in a row are counted up to this many (the sync page says "the last 5 syncs failed").
FAILURES_COUNTED = 5


def synced_fiscal_years(
    *, company: Company, today: datetime.date | None = None
) -> list[FiscalYear]:
    """The company's previous and current fiscal year: what the sync keeps current, oldest first."""
    start_month = fiscal_year_start_month_of(company=company)
    current = fiscal_year_of(month_start(today or today_local()), start_month)
    return [current.previous(), current]


def window_start(*, company: Company, today: datetime.date | None = None) -> datetime.date:
    """The first month of the company's previous fiscal year: the oldest the sync keeps current."""
    return synced_fiscal_years(company=company, today=today)[0].start


@dataclass(frozen=True)
class FiguresStatus:
    """How fresh and how trustworthy a company's synced figures are."""

    as_of: datetime.datetime | None
    is_incomplete: bool
    incomplete_reasons: list[str] = field(default_factory=list)
    last_run: SyncRun | None = None
    running_run: SyncRun | None = None
    has_figures: bool = False


def figures_status(*, company: Company) -> FiguresStatus:
    """The company's figures as of (last finished run that wrote figures), incomplete reasons, runs."""
    runs = SyncRun.objects.filter(company=company)
    last_with_figures = (
        runs.filter(status__in=FINISHED_WITH_FIGURES).order_by("-finished_at").first()
    )
    last_run = runs.exclude(status__in=ACTIVE).order_by("-created_at").first()
    running_run = runs.filter(status__in=ACTIVE).order_by("-created_at").first()
    problems = list(
        MonthSync.objects.filter(
            company=company, is_complete=False, month__gte=window_start(company=company)
        )
        .order_by("month")
        .values_list("month", "problem")
    )
    reasons = [f"{month:%Y-%m}: {problem}" for month, problem in problems]
    has_figures = MonthSync.objects.filter(company=company).exists()
    return FiguresStatus(
        as_of=last_with_figures.finished_at if last_with_figures else None,
        is_incomplete=bool(reasons),
        incomplete_reasons=reasons,
        last_run=last_run,
        running_run=running_run,
        has_figures=has_figures,
    )


def last_runs_by_company(*, company_ids: list[int]) -> dict[int, SyncRun]:
    """The latest run per company (active or finished) for many companies, in two queries."""
    with scopes_disabled():
        latest = (
            SyncRun.objects.filter(company_id__in=company_ids)
            .values("company_id")
            .annotate(last_id=Max("id"))
            .values_list("last_id", flat=True)
        )
        return {run.company_id: run for run in SyncRun.objects.filter(id__in=list(latest))}


def sync_runs_recent(*, company: Company, limit: int = 10) -> list[SyncRun]:
    """The company's latest sync runs, newest first."""
    return list(SyncRun.objects.filter(company=company).order_by("-created_at")[:limit])


def connection_state(*, company: Company) -> TripletexConnection | None:
    """The company's Tripletex connection, if it has one."""
    return TripletexConnection.objects.filter(company=company).first()


def failures_in_a_row(*, company: Company) -> int:
    """How many of the company's latest finished runs failed in a row (0 when the last succeeded;
    at most FAILURES_COUNTED)."""
    statuses = (
        SyncRun.objects.filter(company=company)
        .filter(~Q(status__in=ACTIVE))
        .order_by("-created_at")
        .values_list("status", flat=True)[:FAILURES_COUNTED]
    )
    count = 0
    for status in statuses:
        if status != SyncRun.Status.FAILED:
            break
        count += 1
    return count


def next_sync_at(*, company: Company) -> datetime.datetime | None:
    """When the company's next scheduled sync (nightly or intraday refresh) is due; None if off."""
    connection = TripletexConnection.objects.filter(company=company).first()
    if connection is None or connection.status == TripletexConnection.Status.BROKEN:
        return None  # the dispatcher skips companies it cannot reach
    schedule = SyncSchedule.objects.filter(company=company).first()
    if schedule is None:
        return next_at(nightly_default(company.pk), timezone.now())
    if not schedule.is_enabled:
        return None
    due = [d for d in (schedule.next_nightly_at, schedule.next_refresh_at) if d is not None]
    return min(due) if due else None


def sync_month_choices(
    *, company: Company, today: datetime.date | None = None
) -> list[datetime.date]:
    """Months a user may sync on their own: this and last fiscal year up to now, newest first."""
    today = today or today_local()
    years = synced_fiscal_years(company=company, today=today)
    return sorted((m for fy in years for m in fy.months if m <= today), reverse=True)


@dataclass(frozen=True)
class SyncPage:
    """Everything the sync page and the firm page panel show."""

    status: FiguresStatus
    runs: list[SyncRun]
    connection: TripletexConnection | None
    next_sync_at: datetime.datetime | None
    failures_in_a_row: int
    months: list[datetime.date]


def sync_page(*, company: Company, runs: int = 20) -> SyncPage:
    """Figures status, recent runs, connection, next sync and month choices for the company."""
    return SyncPage(
        status=figures_status(company=company),
        runs=sync_runs_recent(company=company, limit=runs),
        connection=connection_state(company=company),
        next_sync_at=next_sync_at(company=company),
        failures_in_a_row=failures_in_a_row(company=company),
        months=sync_month_choices(company=company),
    )


def sync_progress(*, company: Company) -> dict[str, object]:
    """JSON-ready progress of the company's active run (or its last) and the figures' as-of time."""
    status = figures_status(company=company)
    run = status.running_run or status.last_run
    return {
        "active": status.running_run is not None,
        "run": None
        if run is None
        else {
            "id": run.pk,
            "status": run.status,
            "status_label": str(run.get_status_display()),
            "months_done": run.months_done,
            "months_total": run.months_total,
            "rows_written": run.rows_written,
            "tripletex_calls": run.tripletex_calls,
            "error": run.error,
        },
        "as_of": status.as_of.isoformat() if status.as_of else None,
        "is_incomplete": status.is_incomplete,
    }

"""When a company's figures are synced: its nightly time, the intraday refresh, the weekly re-check
of closed months, and the dispatcher's plan of what is due.

Beat runs the dispatcher (`sync_due_dispatch` in ledger.sync.services) every few minutes. It asks
this module which schedules are due and which kind of run each needs, requests the runs, and has
this module move each schedule's due times on. Nightly times are spread over the night so that
an accounting office's hundreds of firms do not all start at once; times are Oslo time
(`TIME_ZONE`), the clock the firms live by.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from companies.models import Company, TripletexConnection
from ledger.models import MonthSync, SyncRun, SyncSchedule

NIGHT_START_MINUTES = 30  # 00:30 Oslo time
NIGHT_SPREAD_MINUTES = 300  # … until 05:30
# Every firm's nightly sync should be done by 06:00, before the offices open and the intraday
# refresh starts (07:00 by default). The night's plan (ledger/sync/night.py) is made at 00:20:
# after the weekly re-check marker (Sunday 00:00), so it knows which runs re-check closed months.
NIGHT_DEADLINE_MINUTES = 6 * 60
NIGHT_PLAN_MINUTES = 20
# Connections the dispatcher syncs: a broken key waits for an administrator.
REACHABLE = (TripletexConnection.Status.CONNECTED, TripletexConnection.Status.NOT_VERIFIED)


def nightly_default(company_id: int) -> datetime.time:
    """A company's default nightly time, spread over 00:30–05:30 so firms do not all start at once."""
    # Multiplicative hashing spreads consecutive ids far apart.
    minute = NIGHT_START_MINUTES + (company_id * 2654435761 % NIGHT_SPREAD_MINUTES)
    return datetime.time(minute // 60, minute % 60)


def next_at(time_of_day: datetime.time, now: datetime.datetime) -> datetime.datetime:
    """The next moment after `now` when the local clock shows `time_of_day`."""
    local = timezone.localtime(now)
    candidate = timezone.make_aware(datetime.datetime.combine(local.date(), time_of_day))
    if candidate <= now:
        candidate = timezone.make_aware(
            datetime.datetime.combine(local.date() + datetime.timedelta(days=1), time_of_day)
        )
    return candidate


def night_deadline(now: datetime.datetime) -> datetime.datetime:
    """Today's morning deadline (06:00 Oslo time); it may lie before `now`."""
    local = timezone.localtime(now)
    minutes = NIGHT_DEADLINE_MINUTES
    return timezone.make_aware(
        datetime.datetime.combine(local.date(), datetime.time(minutes // 60, minutes % 60))
    )


def next_refresh(schedule: SyncSchedule, now: datetime.datetime) -> datetime.datetime | None:
    """When the schedule's next intraday refresh is due (inside its hours); None when it has none."""
    if not schedule.refresh_every_minutes:
        return None
    candidate = now + datetime.timedelta(minutes=schedule.refresh_every_minutes)
    local = timezone.localtime(candidate)
    if schedule.refresh_from_hour <= local.hour < schedule.refresh_to_hour:
        return candidate
    start = datetime.time(min(schedule.refresh_from_hour, 23), 0)
    return next_at(start, candidate)


def sync_schedule_get(*, company: Company) -> SyncSchedule:
    """The company's schedule, created with a spread-out nightly time on first use.

    A company without figures yet gets its first full sync at the dispatcher's next tick rather
    than tonight: its accountants are waiting for the figures."""
    schedule = SyncSchedule.objects.filter(company=company).first()
    if schedule is not None:
        return schedule
    now = timezone.now()
    schedule = SyncSchedule(company=company, nightly_at=nightly_default(company.pk))
    has_figures = MonthSync.objects.filter(company=company).exists()
    schedule.next_nightly_at = next_at(schedule.nightly_at, now) if has_figures else now
    schedule.next_refresh_at = next_refresh(schedule, now)
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:
        schedule = SyncSchedule.objects.get(company=company)
    return schedule


def sync_schedule_reschedule(*, schedule: SyncSchedule) -> SyncSchedule:
    """Recompute the due times after staff changed the schedule; returns it saved."""
    now = timezone.now()
    schedule.next_nightly_at = next_at(schedule.nightly_at, now)
    schedule.next_refresh_at = next_refresh(schedule, now)
    schedule.save()
    return schedule


def sync_recheck_mark_due() -> int:
    """Make every company's next nightly sync re-check its closed months; returns how many."""
    with scopes_disabled():
        return SyncSchedule.objects.filter(recheck_due=False).update(recheck_due=True)


# ---- the dispatcher's plan ----------------------------------------------------------------------


def sync_schedules_create_missing() -> None:
    """Give every reachable company without a schedule its schedule (call with scopes disabled)."""
    companies = Company.objects.filter(tripletex__status__in=REACHABLE).exclude(
        sync_schedule__isnull=False
    )
    for company in companies:
        sync_schedule_get(company=company)


def sync_schedules_due(
    *, now: datetime.datetime, ahead: datetime.timedelta = datetime.timedelta(0)
) -> QuerySet[SyncSchedule]:
    """Enabled schedules of reachable companies with a refresh due by `now` or a nightly sync due
    by `now + ahead` (the dispatcher sends those with a countdown to their planned time)."""
    return (
        SyncSchedule.objects.filter(is_enabled=True, company__tripletex__status__in=REACHABLE)
        .filter(Q(next_nightly_at__lte=now + ahead) | Q(next_refresh_at__lte=now))
        .select_related("company")
        .order_by("next_nightly_at")
    )


def sync_schedule_due_kind(
    schedule: SyncSchedule,
    now: datetime.datetime,
    ahead: datetime.timedelta = datetime.timedelta(0),
) -> str | None:
    """The kind of run the schedule asks for at `now` (a SyncRun.Kind), or None when none is due;
    a nightly sync counts as due `ahead` of its time.

    The nightly sync wins over a refresh due at the same time; it re-checks closed months when the
    weekly re-check marked it."""
    if schedule.next_nightly_at is not None and schedule.next_nightly_at <= now + ahead:
        return SyncRun.Kind.RECHECK if schedule.recheck_due else SyncRun.Kind.FULL
    if schedule.next_refresh_at is not None and schedule.next_refresh_at <= now:
        return SyncRun.Kind.CURRENT
    return None


def sync_schedule_advance(
    schedule: SyncSchedule, *, now: datetime.datetime, kind: str, created: bool
) -> None:
    """Move the schedule's due times past `now` after the dispatcher requested a run of `kind`.

    The re-check is done only when the run was really created (not when one was already active).
    A nightly run sent before the night's deadline counts for the whole night: the plan may start
    a firm before its own nightly time, which must not bring it round again the same night."""
    if kind != SyncRun.Kind.CURRENT:
        schedule.next_nightly_at = next_at(schedule.nightly_at, max(now, night_deadline(now)))
        if created and schedule.recheck_due:
            schedule.recheck_due, schedule.last_recheck_at = False, now
    schedule.next_refresh_at = next_refresh(schedule, now)
    schedule.save(
        update_fields=["next_nightly_at", "next_refresh_at", "recheck_due", "last_recheck_at"]
    )

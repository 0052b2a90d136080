"""The night's plan: when each firm's nightly sync starts, paced per Tripletex key.

**Why per key.** Tripletex counts calls per employee token and API consumer, per period: once a
period's limit is spent, every call gets 429 until the period ends (openapi.json
`info.description`, "Rate limiting"; shared/tripletex/README.md §5). All the clients an
accounting office reaches through its key share that key's budget, so a night that started
hundreds of them at once would spend it in seconds. The plan is made per key: an `OfficeKey`
(every firm connected through it) or a firm's own key.

**The budget.** Tripletex publishes no numbers; the one sample recorded against a real test
company was `X-Rate-Limit-Limit: 100` with the period's length unknown (shared README §11a). We
plan with `TRIPLETEX_KEY_LIMIT` = 100 calls per `TRIPLETEX_KEY_WINDOW_SECONDS` = 60 s, the cautious
reading, and give the night 80 of them (`RESERVE`: bookings, "Sync now" and the nightly booking
reconcile use the same key meanwhile).

**The model.** A nightly run makes its calls within seconds of its start (a re-sync: a handful),
so the plan counts a run's calls at its planned start, and for every key keeps the calls of the
runs starting in *any* span of one window within the night's share: then no period of Tripletex's,
however aligned, sees more from the plan. A run estimated above the share starts alone in its
windows, and the client's rate limiter (tripletex/ratelimit.py) paces its calls. That limiter stays
the guard for anything the plan does not foresee (a worker that falls behind, a longer run).

**Estimates.** A firm's own history first: the calls and duration of its last scheduled run of the
same kind (FULL, a nightly re-sync; RECHECK, the weekly re-check of closed months). Without one,
per fiscal year 17 calls for a first sync or a re-check and 3 for a re-sync with nothing changed
(issue 16 measured 16.8 and 6.0 per firm in December with the monthly strategy; README
"Performance"), for the 2 fiscal years a run keeps current; and 0.5 s per call.

**Order.** A firm starts at its nightly time (SyncSchedule.nightly_at, spread over 00:30–05:30),
or later when its key's budget is taken. When that would miss the morning (06:00), the key's firms
are packed from the start of the night instead; a key whose work does not fit even so is shown as
late, with its expected finish. The plan is made once a night, at the dispatcher's first round
from 00:20 (ledger/sync/services.py `sync_due_dispatch`): it writes each firm's planned start into
`SyncSchedule.next_nightly_at`, where the dispatcher picks it up, and keeps its summary in the cache
for the staff page (ledger/sync/admin.py). Firms added later, or with a nightly time outside the
night, start at their own time.
"""

from __future__ import annotations

import datetime
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import TripletexConnection
from ledger.models import MonthSync, SyncRun, SyncSchedule
from ledger.sync.schedules import (
    NIGHT_DEADLINE_MINUTES,
    NIGHT_PLAN_MINUTES,
    NIGHT_START_MINUTES,
    REACHABLE,
)

RESERVE = 0.2
YEARS_PER_RUN = 2
FIRST_SYNC_CALLS_PER_YEAR = 17
RESYNC_CALLS_PER_YEAR = 3
SECONDS_PER_CALL = 0.5
# A firm's history counts if its run is this recent.
HISTORY = datetime.timedelta(days=15)
# The staff page lists this many keys, the latest to finish first; the totals count them all.
KEYS_SHOWN = 500
CACHE_SECONDS = 2 * 24 * 3600


@dataclass(frozen=True)
class Budget:
    """What the plan allows one key: `calls` per `window` seconds, out of Tripletex's `limit`."""

    calls: int
    window: float
    limit: int


@dataclass(frozen=True)
class Night:
    """One night: runs start from `start`, and should all be done by `deadline`."""

    start: datetime.datetime
    deadline: datetime.datetime

    @property
    def day(self) -> datetime.date:
        return timezone.localtime(self.start).date()


@dataclass(frozen=True)
class Job:
    """A firm's nightly run to place: not before `release`, `calls` and `seconds` estimated."""

    company_id: int
    key: str
    release: datetime.datetime
    calls: int
    seconds: float


@dataclass(frozen=True)
class Start:
    """A placed run: it starts `at` and is expected to be done by `finish`."""

    company_id: int
    key: str
    at: datetime.datetime
    calls: int
    finish: datetime.datetime


@dataclass(frozen=True)
class KeyPlan:
    """One key's night: how many firms and calls, when it starts and is expected to finish."""

    key: str
    label: str
    firms: int
    calls: int
    first_start: datetime.datetime
    finish: datetime.datetime
    packed: bool  # moved earlier than the firms' own times to make the morning
    on_time: bool


@dataclass(frozen=True)
class NightPlan:
    """The night's plan: its keys (the latest to finish first, at most KEYS_SHOWN) and totals."""

    night: Night
    budget: Budget
    made_at: datetime.datetime
    keys: list[KeyPlan]
    key_count: int
    firms: int
    calls: int
    finish: datetime.datetime | None
    late_keys: int
    late_firms: int
    is_saved: bool

    @property
    def on_time(self) -> bool:
        return self.late_keys == 0


def budget_default() -> Budget:
    """The budget of one key from settings: the limit less the reserve, per window."""
    limit = int(settings.TRIPLETEX_KEY_LIMIT)
    share = max(1, int(limit * (1 - RESERVE)))
    return Budget(calls=share, window=float(settings.TRIPLETEX_KEY_WINDOW_SECONDS), limit=limit)


def _local(day: datetime.date, minutes: int) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60))
    )


def night_of(now: datetime.datetime) -> Night:
    """The night being planned or run at `now`: tonight until its 06:00 deadline, then the next."""
    local = timezone.localtime(now)
    day = local.date()
    if local.hour * 60 + local.minute >= NIGHT_DEADLINE_MINUTES:
        day += datetime.timedelta(days=1)
    return Night(
        start=_local(day, NIGHT_START_MINUTES), deadline=_local(day, NIGHT_DEADLINE_MINUTES)
    )


# ---- the planner (no database) ------------------------------------------------------------------


def _run_seconds(job: Job, budget: Budget) -> float:
    # A run above the key's whole limit waits for later periods; the client's limiter paces it.
    return max(job.seconds, budget.window * (job.calls // max(budget.limit, 1)))


def key_starts(
    jobs: Iterable[Job], *, budget: Budget, not_before: datetime.datetime, honour: bool = True
) -> list[Start]:
    """Place one key's runs in order of their release; returns their starts.

    Each run starts at the first moment at or after its release (the firm's time when `honour`,
    else `not_before`) and its predecessor's start at which the runs started within the window
    before it, itself included, stay within `budget.calls`."""
    window = datetime.timedelta(seconds=budget.window)
    recent: deque[tuple[datetime.datetime, int]] = deque()
    in_window = 0
    cursor = not_before
    starts = []
    for job in sorted(jobs, key=lambda j: (j.release, j.company_id)):
        at = max(cursor, job.release if honour else not_before)
        while recent and recent[0][0] <= at - window:
            in_window -= recent.popleft()[1]
        while recent and in_window + job.calls > budget.calls:
            began, calls = recent.popleft()
            in_window -= calls
            at = max(at, began + window)
        recent.append((at, job.calls))
        in_window += job.calls
        cursor = at
        finish = at + datetime.timedelta(seconds=_run_seconds(job, budget))
        starts.append(Start(job.company_id, job.key, at, job.calls, finish))
    return starts


def key_plan(
    jobs: list[Job], *, budget: Budget, night: Night, now: datetime.datetime
) -> tuple[list[Start], bool]:
    """One key's starts, and whether they were packed from the night's start to make the morning."""
    not_before = max(night.start, now)
    starts = key_starts(jobs, budget=budget, not_before=not_before)
    finish = max(s.finish for s in starts)
    if finish <= night.deadline:
        return starts, False
    packed = key_starts(jobs, budget=budget, not_before=not_before, honour=False)
    if max(s.finish for s in packed) < finish:
        return packed, True
    return starts, False


def night_plan_compute(
    jobs: list[Job],
    *,
    labels: dict[str, str],
    budget: Budget,
    night: Night,
    now: datetime.datetime,
) -> tuple[NightPlan, list[Start]]:
    """Plan every key's runs; returns the plan's summary and every run's start."""
    by_key: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_key[job.key].append(job)
    keys, starts = [], []
    for key, key_jobs in by_key.items():
        placed, packed = key_plan(key_jobs, budget=budget, night=night, now=now)
        starts += placed
        finish = max(s.finish for s in placed)
        keys.append(
            KeyPlan(
                key=key,
                label=labels.get(key, key),
                firms=len(placed),
                calls=sum(s.calls for s in placed),
                first_start=min(s.at for s in placed),
                finish=finish,
                packed=packed,
                on_time=finish <= night.deadline,
            )
        )
    keys.sort(key=lambda k: (k.on_time, -k.finish.timestamp(), k.label))
    late = [k for k in keys if not k.on_time]
    plan = NightPlan(
        night=night,
        budget=budget,
        made_at=now,
        keys=keys[:KEYS_SHOWN],
        key_count=len(keys),
        firms=len(starts),
        calls=sum(s.calls for s in starts),
        finish=max((k.finish for k in keys), default=None),
        late_keys=len(late),
        late_firms=sum(k.firms for k in late),
        is_saved=False,
    )
    return plan, starts


# ---- the night's firms, from the database -------------------------------------------------------


def _key_of(connection: TripletexConnection, company_name: str) -> tuple[str, str]:
    """The budget a firm's calls count against, and its name for staff."""
    office = connection.office_key
    if connection.key_type == TripletexConnection.KeyType.OFFICE and office is not None:
        return f"office:{office.pk}", office.name
    return f"own:{connection.company_id}", _("%(company)s (own key)") % {"company": company_name}


def _history(now: datetime.datetime) -> dict[tuple[int, str], tuple[int, float]]:
    """(company id, kind) → (calls, seconds) of the firm's last finished scheduled run of a kind."""
    done = [SyncRun.Status.SUCCEEDED, SyncRun.Status.INCOMPLETE]
    last = (
        SyncRun.objects.filter(
            trigger=SyncRun.Trigger.SCHEDULE,
            kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.RECHECK],
            status__in=done,
            created_at__gte=now - HISTORY,
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("company_id"), F("kind")],
                order_by=F("finished_at").desc(),
            )
        )
        .filter(newest=1)
        .values_list("company_id", "kind", "tripletex_calls", "started_at", "finished_at")
    )
    return {
        (company_id, kind): (calls, (finished - started).total_seconds())
        for company_id, kind, calls, started, finished in last
        if started is not None and finished is not None
    }


def _estimate(
    schedule: SyncSchedule,
    history: dict[tuple[int, str], tuple[int, float]],
    has_figures: bool,
) -> tuple[int, float]:
    """The calls and seconds the firm's run tonight is expected to take."""
    kind = SyncRun.Kind.RECHECK if schedule.recheck_due else SyncRun.Kind.FULL
    known = history.get((schedule.company_id, kind))
    if known is not None and known[0] > 0:
        return known[0], known[1]
    per_year = RESYNC_CALLS_PER_YEAR if has_figures and not schedule.recheck_due else None
    calls = (per_year or FIRST_SYNC_CALLS_PER_YEAR) * YEARS_PER_RUN
    return calls, calls * SECONDS_PER_CALL


def night_jobs(*, night: Night, now: datetime.datetime) -> tuple[list[Job], dict[str, str]]:
    """The night's runs still to start (nightly syncs due before its deadline), and key labels.

    Call with scopes disabled."""
    schedules = list(
        SyncSchedule.objects.filter(
            is_enabled=True,
            company__tripletex__status__in=REACHABLE,
            next_nightly_at__lt=night.deadline,
        ).select_related("company__tripletex__office_key")
    )
    history = _history(now)
    with_figures = set(MonthSync.objects.values_list("company_id", flat=True).distinct())
    jobs: list[Job] = []
    labels: dict[str, str] = {}
    for schedule in schedules:
        key, label = _key_of(schedule.company.tripletex, schedule.company.name)
        labels.setdefault(key, label)
        calls, seconds = _estimate(schedule, history, schedule.company_id in with_figures)
        assert schedule.next_nightly_at is not None
        jobs.append(Job(schedule.company_id, key, schedule.next_nightly_at, calls, seconds))
    return jobs, labels


def _starts_write(starts: list[Start]) -> int:
    """Write each planned start into its schedule's next nightly time; returns how many moved."""
    by_company = {s.company_id: s.at for s in starts}
    schedules = list(
        SyncSchedule.objects.filter(company_id__in=by_company).only(
            "pk", "company_id", "next_nightly_at"
        )
    )
    moved = [s for s in schedules if s.next_nightly_at != by_company[s.company_id]]
    for schedule in moved:
        schedule.next_nightly_at = by_company[schedule.company_id]
    SyncSchedule.objects.bulk_update(moved, ["next_nightly_at"], batch_size=1000)
    return len(moved)


# ---- making, keeping and reading the plan -------------------------------------------------------


def _cache_key(night: Night) -> str:
    return f"ledger:night-plan:v1:{night.day.isoformat()}"


def _as_json(plan: NightPlan) -> dict[str, Any]:
    def value(v: Any) -> Any:
        if isinstance(v, datetime.datetime):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return {k: value(v) for k, v in asdict(plan).items()}


def _from_json(data: dict[str, Any]) -> NightPlan:
    when = datetime.datetime.fromisoformat
    keys = [
        KeyPlan(**{**k, "first_start": when(k["first_start"]), "finish": when(k["finish"])})
        for k in data["keys"]
    ]
    night = Night(start=when(data["night"]["start"]), deadline=when(data["night"]["deadline"]))
    return NightPlan(
        **{
            **data,
            "night": night,
            "budget": Budget(**data["budget"]),
            "made_at": when(data["made_at"]),
            "keys": keys,
            "finish": when(data["finish"]) if data["finish"] else None,
            "is_saved": True,
        }
    )


def night_plan_make(
    *,
    now: datetime.datetime,
    night: Night | None = None,
    budget: Budget | None = None,
    save: bool = True,
) -> NightPlan:
    """Plan the night's runs still to start; with `save`, write their starts into the schedules
    and keep the plan for staff. Returns the plan."""
    night = night or night_of(now)
    budget = budget or budget_default()
    with scopes_disabled():
        jobs, labels = night_jobs(night=night, now=now)
        plan, starts = night_plan_compute(jobs, labels=labels, budget=budget, night=night, now=now)
        if save:
            _starts_write(starts)
    if save:
        cache.set(_cache_key(night), _as_json(plan), CACHE_SECONDS)
        plan = replace(plan, is_saved=True)
    return plan


def night_plan_ensure(*, now: datetime.datetime) -> NightPlan | None:
    """Make tonight's plan if it is time (from 00:20) and it has not been made; returns it if made.

    A plan lost from the cache is made again from the firms not yet started."""
    night = night_of(now)
    if now < night.start - datetime.timedelta(minutes=NIGHT_START_MINUTES - NIGHT_PLAN_MINUTES):
        return None
    key = _cache_key(night)
    if cache.get(key) is not None or not cache.add(f"{key}:making", 1, 600):
        return None
    try:
        return night_plan_make(now=now, night=night)
    finally:
        cache.delete(f"{key}:making")


def night_plan_get(*, now: datetime.datetime) -> NightPlan:
    """The plan of the night at `now` as it was made, or else as it would be made now (unsaved)."""
    night = night_of(now)
    data = cache.get(_cache_key(night))
    if data is not None:
        return _from_json(data)
    return night_plan_make(now=now, night=night, save=False)


def night_plan_previous(
    *, now: datetime.datetime
) -> tuple[NightPlan, datetime.datetime | None] | None:
    """Last night's saved plan and when its last scheduled run really finished, if it was kept."""
    night = night_of(now - datetime.timedelta(days=1))
    data = cache.get(_cache_key(night))
    if data is None:
        return None
    plan = _from_json(data)
    with scopes_disabled():
        runs = SyncRun.objects.filter(
            trigger=SyncRun.Trigger.SCHEDULE,
            finished_at__isnull=False,
            kind__in=[SyncRun.Kind.FULL, SyncRun.Kind.RECHECK],
            created_at__gte=plan.made_at,
            created_at__lt=night.deadline + datetime.timedelta(hours=6),
        )
        last = runs.order_by("-finished_at").values_list("finished_at", flat=True).first()
    return plan, last

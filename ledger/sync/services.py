"""Services that pull a company's figures from Tripletex into the ledger models.

One run (SyncRun) keeps the current and the previous fiscal year current. By default (AUTO) each
year comes from its postings and one yearly `/balanceSheet`, or by months where that costs less or
the postings do not add up (`ledger.sync.postings`, README §9 strategy C). The MONTHS strategy pulls
the chart of accounts, accounting periods, departments and projects, then one `/balanceSheet` call
per month (strategy A). Months whose accounting period is closed and already stored are not pulled
again; `--force` pulls them anyway, and the weekly re-check (kind RECHECK) pulls them (MONTHS) or
compares each year with one yearly `/balanceSheet` and pulls the years that differ (AUTO), which
catches a period that was reopened and closed again between two syncs. A period that is open now
is always pulled, so a reopened period is picked up by the next ordinary sync.

Each month is replaced in one transaction (upsert of its rows, delete of rows no longer there, its
MonthSync row and the run's progress: `ledger.sync.month_replace`), so a run that dies half way
leaves earlier months fully new and later months fully old.

Grid: we ask `includeActiveAccountsWithoutMovements=true`, so an account whose balance did not move
still comes back with its balanceIn, and we store only rows where in, change or out is non-zero.
A missing (account, month) row therefore means "all zero" — the grid is complete without
carrying balances forward locally.

Fiscal years are the firm's own (`ledger.periods`: January–December for most, e.g. July–June
for some), read from its stored months. A firm's first sync cannot know yet: it pulls the
calendar window, and when the months it stored show another start month it pulls the months the
firm's real window adds (and their accounting periods) in the same run.

Beside this module: `reference` (chart, departments, projects, periods), `month_replace` (the
vendor-specific SQL), `schedules` (when runs are due; the dispatcher below asks it), `alerts`
(the texts of a failed run and the administrators' e-mail) and `tieout` (do the months add up).
"""

import datetime
import logging
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from companies.credentials import ConnectionUnavailable, connection_mark_broken
from companies.models import Company, User
from ledger import queue
from ledger.models import MonthSync, SyncRun, SyncSchedule
from ledger.periods import (
    FiscalYear,
    fiscal_year_named,
    fiscal_year_start_month_of,
    month_next,
    month_start,
    today_local,
)
from ledger.sync.alerts import (
    error_text,
    sync_alert_clear,
    sync_alert_maybe,
    transient_text,
    with_request_id,
)
from ledger.sync.month_replace import balance_rows_values, balances_month_replace
from ledger.sync.night import night_plan_ensure
from ledger.sync.postings import postings_apply, postings_plan
from ledger.sync.reference import periods_pull, reference_data_pull
from ledger.sync.schedules import (
    sync_schedule_advance,
    sync_schedule_due_kind,
    sync_schedules_create_missing,
    sync_schedules_due,
)
from ledger.sync.selectors import ACTIVE, synced_fiscal_years
from ledger.sync.tieout import tieout_check
from tripletex.client import StatsMark, TripletexClient
from tripletex.errors import TripletexAuthError, TripletexError, TripletexUnavailable
from tripletex.retry import backoff
from tripletex.schemas import BalanceRow

logger = logging.getLogger(__name__)

# How a run pulls the years it needs (balances_sync's `strategy`).
AUTO = "auto"
MONTHS = "months"
# A queued run older than this, or a running one whose progress stopped this long ago, lost its
# worker (killed, redeployed): it is marked failed so the company can sync again.
STALE_QUEUED = datetime.timedelta(hours=2)
STALE_RUNNING = datetime.timedelta(minutes=15)


class SyncRetryLater(Exception):
    """A transient Tripletex failure: the task should retry the same run later."""

    def __init__(self, run: SyncRun, error: TripletexUnavailable) -> None:
        super().__init__(str(error))
        self.run = run
        self.error = error


@dataclass(frozen=True)
class _Base:
    """A run's counters from earlier attempts (a retried run adds this attempt's to them)."""

    calls: int
    waits: int
    waited: float


@dataclass(frozen=True)
class _Meter:
    """One attempt's Tripletex counters: the run's totals from earlier attempts plus what the
    client counted since this attempt began (a client may be shared, so only `since` counts)."""

    base: _Base
    client: TripletexClient
    mark: StatsMark

    @classmethod
    def start(cls, run: SyncRun, client: TripletexClient) -> "_Meter":
        base = _Base(run.tripletex_calls, run.rate_limit_waits, run.waited_seconds)
        return cls(base=base, client=client, mark=client.stats.mark())

    def calls(self) -> int:
        return self.base.calls + self.client.stats.since(self.mark).calls

    def write_to(self, run: SyncRun) -> None:
        added = self.client.stats.since(self.mark)
        run.tripletex_calls = self.base.calls + added.calls
        run.rate_limit_waits = self.base.waits + added.rate_limit_waits
        run.waited_seconds = self.base.waited + added.waited_seconds
        failed = self.client.stats.failed_request_ids
        run.request_ids = list(dict.fromkeys([*run.request_ids, *failed]))[-20:]


@dataclass(frozen=True)
class MonthPlan:
    month: datetime.date
    is_closed: bool


# ---- requesting runs ----------------------------------------------------------------------------


def sync_runs_expire_stale(*, company: Company | None = None) -> int:
    """Mark runs whose worker vanished as failed; returns how many. All companies when None."""
    now = timezone.now()
    with scopes_disabled():
        runs = SyncRun.objects.filter(status__in=ACTIVE)
        if company is not None:
            runs = runs.filter(company=company)
        stale = [
            run
            for run in runs
            if (run.status == SyncRun.Status.QUEUED and run.created_at < now - STALE_QUEUED)
            or (
                run.status == SyncRun.Status.RUNNING
                and (run.progress_at or run.started_at or run.created_at) < now - STALE_RUNNING
            )
        ]
        error = _(
            "The sync stopped without finishing (the worker was stopped or restarted). "
            "Months already pulled are kept; the rest will be pulled by the next sync."
        )
        expired = 0
        for run in stale:
            # Only if nothing moved since the read: a worker may have claimed it or written a month.
            expired += SyncRun.objects.filter(
                pk=run.pk, status=run.status, progress_at=run.progress_at
            ).update(status=SyncRun.Status.FAILED, finished_at=now, error=error)
    return expired


def sync_request(
    *,
    company: Company,
    by: User | None = None,
    trigger: str = SyncRun.Trigger.MANUAL,
    kind: str = SyncRun.Kind.FULL,
    only_month: datetime.date | None = None,
    enqueue: bool = True,
    countdown: float | None = None,
) -> tuple[SyncRun, bool]:
    """Queue a sync run; returns (run, created). An active run of the company is returned instead.

    The run goes to the queue of its trigger (ledger/queue.py): "Sync now" to the interactive
    queue, the schedule's to the batch queue, `countdown` seconds from now. When "Sync now" finds
    the company's nightly run still waiting in the batch queue, that run is sent to the
    interactive queue too: whichever delivery claims it first runs it, the other finds it taken."""
    sync_runs_expire_stale(company=company)
    if only_month is not None:
        only_month, kind = month_start(only_month), SyncRun.Kind.MONTH
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                company=company,
                trigger=trigger,
                kind=kind,
                only_month=only_month,
                requested_by=by if by and by.pk else None,
            )
    except IntegrityError:
        # The partial unique constraint: one queued-or-running run per company.
        active = SyncRun.objects.filter(company=company, status__in=ACTIVE).first()
        if active is None:  # finished between our insert and this read: try once more
            return sync_request(
                company=company,
                by=by,
                trigger=trigger,
                kind=kind,
                only_month=only_month,
                enqueue=enqueue,
                countdown=countdown,
            )
        to = queue.sync_queue(trigger)
        waiting = active.status == SyncRun.Status.QUEUED
        if (
            enqueue
            and waiting
            and to == queue.sync_queue(SyncRun.Trigger.MANUAL) != queue.sync_queue(active.trigger)
        ):
            transaction.on_commit(lambda: queue.enqueue(queue.SYNC_RUN, queue=to, run_id=active.pk))
        return active, False
    if enqueue:
        to = queue.sync_queue(trigger)
        transaction.on_commit(
            lambda: queue.enqueue(queue.SYNC_RUN, queue=to, countdown=countdown, run_id=run.pk)
        )
    return run, True


# ---- the sync itself ----------------------------------------------------------------------------


def balances_sync(
    *,
    company: Company,
    run: SyncRun,
    year: int | None = None,
    force: bool = False,
    today: datetime.date | None = None,
    client: TripletexClient | None = None,
    strategy: str = AUTO,
) -> SyncRun:
    """Pull the company's figures for `run`; returns the finished run (raises SyncRetryLater).

    `strategy` AUTO pulls each fiscal year from its postings where that is cheaper (see
    `ledger.sync.postings`), MONTHS one /balanceSheet per month for every year, as before.
    A run another delivery is running, or one already finished, is returned as it is."""
    with scope(company=company):
        if not _claim(run):
            return run
        try:
            client = client or _client_for(company)
        except ConnectionUnavailable as exc:
            return _run_failed(run, company, str(exc))
        # Counters persisted by earlier attempts of this run (a retry adds to them).
        meter = _Meter.start(run, client)
        try:
            window = _pull(
                company,
                run,
                meter,
                year=year,
                force=force,
                today=today or today_local(),
                strategy=strategy,
            )
        except TripletexAuthError as exc:
            reason = _(
                "Tripletex rejected the key: it may have been revoked, expired or lost its "
                "access. An administrator must enter a valid key."
            )
            connection_mark_broken(company=company, reason=reason)
            return _run_failed(run, company, with_request_id(exc, reason), meter=meter)
        except TripletexUnavailable as exc:
            _add_client_stats(run, meter)
            # Back to queued while the task waits to retry: the stale-run rule then allows hours.
            run.status = SyncRun.Status.QUEUED
            run.error = _("%(error)s The sync will try again.") % {
                "error": with_request_id(exc, transient_text(exc))
            }
            run.save(update_fields=["status", "error", *COUNTERS])
            raise SyncRetryLater(run, exc) from exc
        except TripletexError as exc:
            return _run_failed(run, company, with_request_id(exc, error_text(exc)), meter=meter)
        except SoftTimeLimitExceeded:
            message = _(
                "The sync took longer than %(minutes)s minutes and was stopped. Months already "
                "pulled are kept; the next sync pulls the rest."
            ) % {"minutes": settings.SYNC_SOFT_TIME_LIMIT // 60}
            return _run_failed(run, company, message, meter=meter)
        except Exception:
            logger.exception("Sync run %s of company %s crashed", run.pk, company.pk)
            message = _("An unexpected error stopped the sync; it has been logged for staff.")
            _run_failed(run, company, message, meter=meter)
            raise
        return _run_finished(run, company, meter, window_start=window)


def balances_sync_give_up(*, run: SyncRun, error: TripletexUnavailable, tries: int = 1) -> SyncRun:
    """Mark a run failed after its last try (`tries` of them) of a transient error; returns it.

    The message counts attempts only as far as they really happened: the run's tries, or the
    client's attempts at the call that failed last, whichever is more."""
    text = with_request_id(error, transient_text(error))
    attempts = max(tries, error.attempts)
    if attempts > 1:
        message = _(
            "%(error)s Gave up after %(count)d attempts; the next scheduled sync tries again."
        ) % {"error": text, "count": attempts}
    else:
        message = _("%(error)s The next scheduled sync tries again.") % {"error": text}
    with scope(company=run.company):
        return _run_failed(run, run.company, message)


# Runs after which the budgets are pulled: not the intraday refresh, nor a run of one month.
BUDGET_KINDS = frozenset({SyncRun.Kind.FULL, SyncRun.Kind.RECHECK})
COUNTERS = ["tripletex_calls", "rate_limit_waits", "waited_seconds", "request_ids"]
# What finishing a run writes: never months_done, rows_written or progress_at, which every month's
# SQL advances (balances_month_replace) and a save of the in-memory copy would set back.
FINISH_FIELDS = ["status", "error", "finished_at", *COUNTERS]


def _claim(run: SyncRun) -> bool:
    """Take a queued run (queued → running) and reload it; False if another delivery has it.

    A conditional UPDATE, as booking claims a transaction: of two deliveries of the same task
    (a redelivery, a duplicate enqueue) exactly one moves the row, the other leaves it alone."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING,
        started_at=Coalesce(F("started_at"), Value(now)),
        progress_at=now,
    )
    run.refresh_from_db()
    return claimed == 1


def _client_for(company: Company) -> TripletexClient:
    from companies.credentials import tripletex_client_for

    return tripletex_client_for(company)


def _pull(
    company: Company,
    run: SyncRun,
    meter: _Meter,
    *,
    year: int | None,
    force: bool,
    today: datetime.date,
    strategy: str,
) -> datetime.date:
    """Pull the run's months and tie them out; returns the first month of the window it covered.

    MONTHS (and a run of one chosen month) pulls the chart, departments and projects on every
    run but the intraday refresh; AUTO only what a posting names that we do not know, and what is
    a day old (`ledger.sync.reference.references_refresh`)."""
    client = meter.client
    auto = strategy == AUTO and run.kind != SyncRun.Kind.MONTH
    if run.kind != SyncRun.Kind.CURRENT and not auto:
        reference_data_pull(company, client)
    pull = _postings_pull if auto else _months_pull
    fiscal_years = _fiscal_years(company, year=year, today=today)
    pulled = pull(company, run, meter, fiscal_years, today=today, force=force, before=0)
    if year is None and run.kind != SyncRun.Kind.MONTH:
        # The months just stored may show the firm's fiscal year starts in another month (its
        # first sync): then its window starts elsewhere, and the months it adds are pulled now.
        again = _fiscal_years(company, year=year, today=today)
        if again != fiscal_years:
            fiscal_years = again
            pull(company, run, meter, fiscal_years, today=today, force=force, before=pulled)
    _tieout_apply(company, fiscal_years)
    return fiscal_years[0].start


def _fiscal_years(company: Company, *, year: int | None, today: datetime.date) -> list[FiscalYear]:
    """The fiscal years a run keeps current: the one named `year`, else the previous and current."""
    if year is not None:
        return [fiscal_year_named(year, fiscal_year_start_month_of(company=company))]
    return synced_fiscal_years(company=company, today=today)


def _months_pull(
    company: Company,
    run: SyncRun,
    meter: _Meter,
    fiscal_years: list[FiscalYear],
    *,
    today: datetime.date,
    force: bool,
    before: int,
) -> int:
    """Pull the months of `fiscal_years` the run needs (`before` pulled already); returns how many."""
    client = meter.client
    closed = periods_pull(company, client, fiscal_years)
    plan = _months_plan(company, run, fiscal_years, closed, today=today, force=force)
    # months_done and rows_written are advanced by each month's SQL (month_replace), never in
    # memory: read them back rather than keep a copy that a later refresh would overwrite.
    run.refresh_from_db(fields=["months_done", "rows_written", "progress_at"])
    run.months_total = run.months_done + len(plan)
    skipped = _months_in(fiscal_years, today) - before - len(plan)
    run.months_skipped = max(0, skipped) if run.kind != SyncRun.Kind.MONTH else 0
    run.save(update_fields=["months_total", "months_skipped"])
    for item in plan:
        rows = client.balance_sheet(
            date_from=item.month,
            date_to=month_next(item.month),
            include_accounts_without_movements=True,
        )
        _month_replace(company, run, item, rows, calls=meter.calls())
    return before + len(plan)


def _postings_pull(
    company: Company,
    run: SyncRun,
    meter: _Meter,
    fiscal_years: list[FiscalYear],
    *,
    today: datetime.date,
    force: bool,
    before: int,
) -> int:
    """Pull what `fiscal_years` need under the postings strategy (`before` months pulled
    already); returns how many months the run has written."""
    client = meter.client
    closed = periods_pull(company, client, fiscal_years)
    # The re-check compares each year with one yearly /balanceSheet instead of pulling every
    # closed month again: plan as an ordinary run, and let postings_plan add the years that differ.
    plan = _months_plan(
        company, run, fiscal_years, closed, today=today, force=force, recheck_forces=False
    )
    start_known = MonthSync.objects.filter(company=company, balance_rows__gt=0).exists()
    work = postings_plan(
        company=company,
        client=client,
        fiscal_years=fiscal_years,
        planned=[item.month for item in plan],
        closed=closed,
        today=today,
        force=force,
        recheck=run.kind == SyncRun.Kind.RECHECK,
    )
    run.refresh_from_db(fields=["months_done", "rows_written", "progress_at"])
    run.months_total = run.months_done + len(work.months)
    run.months_skipped = max(0, _months_in(fiscal_years, today) - before - len(work.months))
    run.save(update_fields=["months_total", "months_skipped"])
    postings_apply(
        company=company,
        run=run,
        client=client,
        work=work,
        calls=meter.calls,
        start_month=fiscal_years[-1].start.month,
        start_known=start_known,
        daily_references=run.kind != SyncRun.Kind.CURRENT,
    )
    return before + len(work.months)


def _months_in(fiscal_years: list[FiscalYear], today: datetime.date) -> int:
    return sum(1 for fy in fiscal_years for m in fy.months if m <= month_start(today))


def _months_plan(
    company: Company,
    run: SyncRun,
    fiscal_years: list[FiscalYear],
    closed: dict[datetime.date, bool],
    *,
    today: datetime.date,
    force: bool,
    recheck_forces: bool = True,
) -> list[MonthPlan]:
    """The months this run pulls, oldest first (a re-check pulls every month unless
    `recheck_forces` is off)."""
    current = month_start(today)
    if run.kind == SyncRun.Kind.MONTH and run.only_month:
        return [MonthPlan(run.only_month, closed.get(run.only_month, False))]
    months = [m for fy in fiscal_years for m in fy.months if m <= current]
    stored = {
        m.month: m
        for m in MonthSync.objects.filter(company=company, month__in=months).only(
            "month", "period_closed", "is_complete", "synced_at"
        )
    }
    force = force or (recheck_forces and run.kind == SyncRun.Kind.RECHECK)
    plan = []
    for month in months:
        is_closed = closed.get(month, False)
        known = stored.get(month)
        if known and run.started_at and known.synced_at >= run.started_at:
            continue  # pulled earlier in this very run (a retry resumes where it stopped)
        if run.kind == SyncRun.Kind.CURRENT and is_closed:
            continue
        # Stored as closed, still closed and tying out: nothing can have changed.
        up_to_date = known is not None and known.period_closed and known.is_complete
        if up_to_date and is_closed and not force:
            continue
        plan.append(MonthPlan(month, is_closed))
    return plan


def _month_replace(
    company: Company,
    run: SyncRun,
    item: MonthPlan,
    rows: list[BalanceRow],
    *,
    calls: int,
) -> None:
    """Replace one month's balances, its MonthSync and the run's progress in one transaction."""
    now = timezone.now()
    values = balance_rows_values(rows)
    balances_month_replace(
        company=company,
        month=item.month,
        values=values,
        synced_at=now,
        period_closed=item.is_closed,
        run_id=run.pk,
        run_calls=calls,
    )


def _tieout_apply(company: Company, fiscal_years: list[FiscalYear]) -> None:
    """Run the tie-out checks over the stored months of `fiscal_years` and record them per month."""
    problems = tieout_check(company=company, fiscal_years=fiscal_years)
    months = MonthSync.objects.filter(
        company=company,
        month__gte=min(fy.start for fy in fiscal_years),
        month__lt=max(fy.end for fy in fiscal_years),
    )
    by_month = {m.month: m for m in months}
    changed = []
    for month, sync in by_month.items():
        texts = problems.get(month, [])
        problem = "\n".join(texts)
        if sync.is_complete == (not texts) and sync.problem == problem:
            continue
        sync.is_complete, sync.problem = not texts, problem
        changed.append(sync)
    if changed:
        MonthSync.objects.bulk_update(changed, ["is_complete", "problem"])


# ---- finishing a run ----------------------------------------------------------------------------


def _add_client_stats(run: SyncRun, meter: _Meter | None) -> None:
    if meter is None:
        return
    run.refresh_from_db(fields=["months_done", "rows_written", "progress_at"])
    meter.write_to(run)


def _run_finished(
    run: SyncRun, company: Company, meter: _Meter, *, window_start: datetime.date
) -> SyncRun:
    _add_client_stats(run, meter)
    incomplete = MonthSync.objects.filter(
        company=company, is_complete=False, month__gte=window_start
    ).exists()
    run.status = SyncRun.Status.INCOMPLETE if incomplete else SyncRun.Status.SUCCEEDED
    run.error = (
        _(
            "Some months do not tie out, so the figures are marked incomplete. A common cause is a "
            "key that cannot see every voucher (e.g. salary)."
        )
        if incomplete
        else ""
    )
    run.finished_at = timezone.now()
    run.save(update_fields=FINISH_FIELDS)
    sync_alert_clear(company=company)
    if run.kind in BUDGET_KINDS and run.trigger != SyncRun.Trigger.COMMAND:
        # The budgets follow every full run, as their own task (ledger/budgets/sync.py); the
        # command line pulls them itself, in its own process.
        budget_queue = queue.sync_queue(run.trigger)
        transaction.on_commit(
            lambda: queue.enqueue(queue.BUDGETS_SYNC, queue=budget_queue, company_id=company.pk)
        )
    return run


def _run_failed(
    run: SyncRun,
    company: Company,
    message: str,
    *,
    meter: _Meter | None = None,
) -> SyncRun:
    _add_client_stats(run, meter)
    run.status = SyncRun.Status.FAILED
    run.error = message
    run.finished_at = timezone.now()
    run.save(update_fields=FINISH_FIELDS)
    logger.warning("Sync of company %s failed: %s", company.pk, message)
    sync_alert_maybe(company=company, message=message)
    return run


# ---- the dispatcher ------------------------------------------------------------------------------


def sync_due_dispatch() -> dict[str, int]:
    """Queue the nightly syncs and intraday refreshes that are due; returns counts per kind.

    From 00:20 the first round makes the night's plan (ledger/sync/night.py), which sets each
    firm's start per Tripletex key. Each round sends the nightly runs due before the next round
    with a countdown to their planned second; schedules it creates are due from the next round."""
    now = timezone.now()
    ahead = datetime.timedelta(seconds=min(settings.SYNC_DISPATCH_SECONDS, 600.0))
    counts = {"nightly": 0, "refresh": 0, "busy": 0, "idle": 0}
    counts["expired"] = sync_runs_expire_stale()
    counts["planned"] = 1 if night_plan_ensure(now=now) is not None else 0
    with scopes_disabled():
        due = list(sync_schedules_due(now=now, ahead=ahead))
        sync_schedules_create_missing()
        for schedule in due:
            counts[_dispatch_one(schedule, now, ahead)] += 1
    counts.pop("idle", None)
    return counts


def _dispatch_one(schedule: SyncSchedule, now: datetime.datetime, ahead: datetime.timedelta) -> str:
    kind = sync_schedule_due_kind(schedule, now, ahead)
    if kind is None:
        return "idle"
    company = schedule.company
    wait = None
    if kind != SyncRun.Kind.CURRENT and schedule.next_nightly_at is not None:
        wait = (schedule.next_nightly_at - now).total_seconds()
    with scope(company=company):
        _run, created = sync_request(
            company=company,
            trigger=SyncRun.Trigger.SCHEDULE,
            kind=kind,
            countdown=wait if wait and wait > 0 else None,
        )
        sync_schedule_advance(schedule, now=now, kind=kind, created=created)
    if not created:
        return "busy"
    return "refresh" if kind == SyncRun.Kind.CURRENT else "nightly"


# The longest countdown retry_countdown gives: a retry waits this long in a worker before it runs
# (the sync tasks' time limits stay below the broker's visibility timeout with it added).
MAX_RETRY_COUNTDOWN = 600.0


def retry_countdown(retries: int) -> float:
    """Seconds before retry number `retries` of a transient failure (backoff + jitter, ≤ 10 min)."""
    # The cap comes last, after the jitter, so no countdown exceeds it (see the task time limits).
    return backoff(retries, base=30.0, cap=MAX_RETRY_COUNTDOWN)

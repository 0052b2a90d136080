"""Services that pull a company's figures from Tripletex into the ledger models.

One run (SyncRun) pulls the chart of accounts, accounting periods, departments and projects, then
the monthly balances of the current and the previous fiscal year with one `/balanceSheet` call per
month (README §9, strategy A). Months whose accounting period is closed and already stored are not
pulled again; the weekly re-check (kind RECHECK) and `--force` pull them anyway, which catches a
period that was reopened and closed again between two syncs. A period that is open now is always
pulled, so a reopened period is picked up by the next ordinary sync.

Each month is replaced in one transaction (upsert of its rows, delete of rows no longer there, its
MonthSync row and the run's progress), so a run that dies half way leaves earlier months fully new
and later months fully old.

Grid: we ask `includeActiveAccountsWithoutMovements=true`, so an account whose balance did not move
still comes back with its balanceIn, and we store only rows where in, change or out is non-zero.
A missing (account, month) row therefore means "all zero" — the grid is complete without
carrying balances forward locally.

Fiscal years are the firm's own (`ledger.periods`: January–December for most, e.g. July–June
for some), read from its stored months. A firm's first sync cannot know yet: it pulls the
calendar window, and when the months it stored show another start month it pulls the months the
firm's real window adds (and their accounting periods) in the same run.
"""

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from companies.credentials import ConnectionUnavailable, connection_mark_broken
from companies.models import Company, Membership, Role, TripletexConnection, User
from ledger import queue
from ledger.models import (
    AccountBalance,
    AccountingPeriod,
    Department,
    LedgerAccount,
    MonthSync,
    Project,
    SyncRun,
    SyncSchedule,
)
from ledger.periods import (
    FiscalYear,
    fiscal_year_named,
    fiscal_year_start_month_of,
    month_next,
    month_start,
    today_local,
)
from ledger.sync.selectors import (
    ACTIVE,
    failures_in_a_row,
    nightly_default,
    synced_fiscal_years,
)
from ledger.sync.selectors import next_at as _next_at
from ledger.sync.tieout import is_result_account, tieout_check
from tripletex.client import TripletexClient
from tripletex.errors import (
    TripletexAuthError,
    TripletexError,
    TripletexForbidden,
    TripletexRateLimited,
    TripletexUnavailable,
)
from tripletex.retry import backoff

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
BATCH = 2000
# A queued run older than this, or a running one whose progress stopped this long ago, lost its
# worker (killed, redeployed): it is marked failed so the company can sync again.
STALE_QUEUED = datetime.timedelta(hours=2)
STALE_RUNNING = datetime.timedelta(minutes=15)
# This many failed runs in a row e-mail the company's admins (once, until a run succeeds).
ALERT_AFTER_FAILURES = 3


class SyncRetryLater(Exception):
    """A transient Tripletex failure: the task should retry the same run later."""

    def __init__(self, run: SyncRun, error: TripletexError) -> None:
        super().__init__(str(error))
        self.run = run
        self.error = error


@dataclass(frozen=True)
class _Base:
    """A run's counters from earlier attempts (a retried run adds this attempt's to them)."""

    calls: int
    waits: int
    waited: float


# Per run id, set when an attempt starts; the client's stats count only the current attempt.
_BASES: dict[int, _Base] = {}


def _base(run: SyncRun) -> _Base:
    return _BASES.get(run.pk) or _Base(
        run.tripletex_calls, run.rate_limit_waits, run.waited_seconds
    )


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
) -> tuple[SyncRun, bool]:
    """Queue a sync run; returns (run, created). An active run of the company is returned instead."""
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
            )
        return active, False
    if enqueue:
        transaction.on_commit(lambda: queue.enqueue(queue.SYNC_RUN, run_id=run.pk))
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
) -> SyncRun:
    """Pull the company's figures for `run`; returns the finished run (raises SyncRetryLater).

    A run another delivery is running, or one already finished, is returned as it is."""
    with scope(company=company):
        if not _claim(run):
            return run
        # Counters persisted by earlier attempts of this run (a retry adds to them).
        _BASES[run.pk] = _Base(run.tripletex_calls, run.rate_limit_waits, run.waited_seconds)
        try:
            try:
                client = client or _client_for(company)
            except ConnectionUnavailable as exc:
                return _run_failed(run, company, str(exc), request_ids=[])
            try:
                window = _pull(
                    company, run, client, year=year, force=force, today=today or today_local()
                )
            except TripletexAuthError as exc:
                reason = _(
                    "Tripletex rejected the key: it may have been revoked, expired or lost its "
                    "access. An administrator must enter a valid key."
                )
                connection_mark_broken(company=company, reason=reason)
                return _run_failed(run, company, _plain(exc, reason), client=client)
            except TripletexUnavailable as exc:
                _add_client_stats(run, client)
                # Back to queued while the task waits to retry: the stale-run rule then allows hours.
                run.status = SyncRun.Status.QUEUED
                run.error = _("%(error)s The sync will try again.") % {
                    "error": _plain(exc, _transient_text(exc))
                }
                run.save(update_fields=["status", "error", *COUNTERS])
                raise SyncRetryLater(run, exc) from exc
            except TripletexError as exc:
                return _run_failed(run, company, _plain(exc, _error_text(exc)), client=client)
            except SoftTimeLimitExceeded:
                message = _(
                    "The sync took longer than %(minutes)s minutes and was stopped. Months already "
                    "pulled are kept; the next sync pulls the rest."
                ) % {"minutes": settings.SYNC_SOFT_TIME_LIMIT // 60}
                return _run_failed(run, company, message, client=client)
            except Exception:
                logger.exception("Sync run %s of company %s crashed", run.pk, company.pk)
                message = _("An unexpected error stopped the sync; it has been logged for staff.")
                _run_failed(run, company, message, client=client)
                raise
            return _run_finished(run, company, client, window_start=window)
        finally:
            _BASES.pop(run.pk, None)


def balances_sync_give_up(
    *, run: SyncRun, error: TripletexError | None = None, tries: int = 1
) -> SyncRun:
    """Mark a run failed after its last try (`tries` of them) of a transient error; returns it.

    The message counts attempts only as far as they really happened: the run's tries, or the
    client's attempts at the call that failed last, whichever is more."""
    if isinstance(error, TripletexUnavailable):
        text = _plain(error, _transient_text(error))
    else:
        text = _("Tripletex did not answer.")
    attempts = max(tries, error.attempts if error is not None else 1)
    if attempts > 1:
        message = _(
            "%(error)s Gave up after %(count)d attempts; the next scheduled sync tries again."
        ) % {"error": text, "count": attempts}
    else:
        message = _("%(error)s The next scheduled sync tries again.") % {"error": text}
    with scope(company=run.company):
        return _run_failed(run, run.company, message, [])


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
    client: TripletexClient,
    *,
    year: int | None,
    force: bool,
    today: datetime.date,
) -> datetime.date:
    """Pull the run's months and tie them out; returns the first month of the window it covered."""
    if run.kind != SyncRun.Kind.CURRENT:
        _reference_data_pull(company, client)
    fiscal_years = _fiscal_years(company, year=year, today=today)
    pulled = _months_pull(company, run, client, fiscal_years, today=today, force=force, before=0)
    if year is None and run.kind != SyncRun.Kind.MONTH:
        # The months just stored may show the firm's fiscal year starts in another month (its
        # first sync): then its window starts elsewhere, and the months it adds are pulled now.
        again = _fiscal_years(company, year=year, today=today)
        if again != fiscal_years:
            fiscal_years = again
            _months_pull(
                company, run, client, fiscal_years, today=today, force=force, before=pulled
            )
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
    client: TripletexClient,
    fiscal_years: list[FiscalYear],
    *,
    today: datetime.date,
    force: bool,
    before: int,
) -> int:
    """Pull the months of `fiscal_years` the run needs (`before` pulled already); returns how many."""
    closed = _periods_pull(company, client, fiscal_years)
    plan = _months_plan(company, run, fiscal_years, closed, today=today, force=force)
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
        _month_replace(company, run, item, rows, calls=client.stats.calls)
    return before + len(plan)


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
) -> list[MonthPlan]:
    """The months this run pulls, oldest first."""
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
    force = force or run.kind == SyncRun.Kind.RECHECK
    plan = []
    for month in months:
        is_closed = closed.get(month, False)
        known = stored.get(month)
        if known and run.started_at and known.synced_at >= run.started_at:
            continue  # pulled earlier in this very run (a retry resumes where it stopped)
        if run.kind == SyncRun.Kind.CURRENT and is_closed:
            continue
        up_to_date = known is not None and known.period_closed and is_closed
        if up_to_date and known.is_complete and not force:
            continue
        plan.append(MonthPlan(month, is_closed))
    return plan


def _month_replace(
    company: Company,
    run: SyncRun,
    item: MonthPlan,
    rows: list[Any],
    *,
    calls: int,
) -> None:
    """Replace one month's balances, its MonthSync and the run's progress in one transaction."""
    now = timezone.now()
    per_account: dict[int, list[Decimal]] = {}
    for row in rows:
        number = int(row.account_number)
        sums = per_account.setdefault(number, [ZERO, ZERO, ZERO])
        sums[0] += row.balance_in
        sums[1] += row.balance_change
        sums[2] += row.balance_out
    values = [
        (number, b_in, b_change, b_out)
        for number, (b_in, b_change, b_out) in per_account.items()
        if b_in or b_change or b_out
    ]
    written, deleted = balances_month_replace(
        company=company,
        month=item.month,
        values=values,
        synced_at=now,
        period_closed=item.is_closed,
        run_id=run.pk,
        run_calls=_base(run).calls + calls,
    )
    run.months_done += 1
    run.rows_written += written + deleted


# One statement per month on PostgreSQL (atomic on its own): drop the rows of accounts no longer in
# the month, insert or update the others from four arrays (not seven parameters per row), record the
# month's MonthSync and the run's progress.
REPLACE_MONTH_SQL = """
WITH dropped AS (
    DELETE FROM ledger_accountbalance
    WHERE company_id = %(company)s AND month = %(month)s
      AND NOT (account_number = ANY(%(numbers)s::integer[]))
    RETURNING 1
), written AS (
    INSERT INTO ledger_accountbalance
        (company_id, account_number, month, balance_in, balance_change, balance_out, synced_at)
    SELECT %(company)s, t.a, %(month)s, t.i, t.c, t.o, %(now)s
    FROM unnest(%(numbers)s::integer[], %(ins)s::numeric[], %(changes)s::numeric[],
                %(outs)s::numeric[]) AS t(a, i, c, o)
    ON CONFLICT (company_id, account_number, month) DO UPDATE SET
        balance_in = EXCLUDED.balance_in,
        balance_change = EXCLUDED.balance_change,
        balance_out = EXCLUDED.balance_out,
        synced_at = EXCLUDED.synced_at
    RETURNING 1
), month_sync AS (
    INSERT INTO ledger_monthsync (company_id, month, synced_at, period_closed, is_complete, problem,
                                  balance_rows, result_rows, result_rows_opened)
    VALUES (%(company)s, %(month)s, %(now)s, %(closed)s, true, '',
            %(balance_rows)s, %(result_rows)s, %(result_rows_opened)s)
    ON CONFLICT (company_id, month) DO UPDATE SET
        synced_at = EXCLUDED.synced_at, period_closed = EXCLUDED.period_closed,
        balance_rows = EXCLUDED.balance_rows, result_rows = EXCLUDED.result_rows,
        result_rows_opened = EXCLUDED.result_rows_opened
    RETURNING 1
), progress AS (
    UPDATE ledger_syncrun SET
        months_done = months_done + 1,
        rows_written = rows_written + (SELECT count(*) FROM dropped)
            + (SELECT count(*) FROM written),
        tripletex_calls = %(calls)s,
        progress_at = %(now)s
    WHERE id = %(run)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM dropped), (SELECT count(*) FROM written),
       (SELECT count(*) FROM month_sync), (SELECT count(*) FROM progress)
"""


def balances_month_replace(
    *,
    company: Company,
    month: datetime.date,
    values: list[tuple[int, Decimal, Decimal, Decimal]],
    synced_at: datetime.datetime,
    period_closed: bool = False,
    run_id: int | None = None,
    run_calls: int = 0,
) -> tuple[int, int]:
    """Make one month's rows exactly `values` (account, in, change, out), atomically, together with
    its MonthSync and the run's progress; returns (rows written, rows dropped).

    PostgreSQL: REPLACE_MONTH_SQL, one round trip. Elsewhere (SQLite): bulk_create with
    update_conflicts on the same unique constraints, a delete and an update, in one transaction.
    """
    numbers = [v[0] for v in values]
    counts = _month_counts(values)
    if connection.vendor == "postgresql":
        params = {
            "company": company.pk,
            "month": month,
            "now": synced_at,
            "closed": period_closed,
            **counts,
            "run": run_id,
            "calls": run_calls,
            "numbers": numbers,
            "ins": [v[1] for v in values],
            "changes": [v[2] for v in values],
            "outs": [v[3] for v in values],
        }
        with connection.cursor() as cursor:
            cursor.execute(REPLACE_MONTH_SQL, params)
            dropped, written, _month, _run = cursor.fetchone()
        return int(written), int(dropped)
    with transaction.atomic():
        if values:
            AccountBalance.objects.bulk_create(
                [
                    AccountBalance(
                        company=company,
                        account_number=number,
                        month=month,
                        balance_in=b_in,
                        balance_change=b_change,
                        balance_out=b_out,
                        synced_at=synced_at,
                    )
                    for number, b_in, b_change, b_out in values
                ],
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=["company", "account_number", "month"],
                update_fields=["balance_in", "balance_change", "balance_out", "synced_at"],
            )
        dropped, _by_model = (
            AccountBalance.objects.filter(company=company, month=month)
            .exclude(account_number__in=numbers)
            .delete()
        )
        MonthSync.objects.bulk_create(
            [
                MonthSync(
                    company=company,
                    month=month,
                    synced_at=synced_at,
                    period_closed=period_closed,
                    **counts,
                )
            ],
            update_conflicts=True,
            unique_fields=["company", "month"],
            update_fields=["synced_at", "period_closed", *counts],
        )
        if run_id is not None:
            SyncRun.objects.filter(pk=run_id).update(
                months_done=F("months_done") + 1,
                rows_written=F("rows_written") + len(values) + dropped,
                tripletex_calls=run_calls,
                progress_at=synced_at,
            )
    return len(values), dropped


def _month_counts(values: list[tuple[int, Decimal, Decimal, Decimal]]) -> dict[str, int]:
    """MonthSync's counts for a month made of `values`: rows, result-account rows, opened ones."""
    result = [b_in for number, b_in, _change, _out in values if is_result_account(number)]
    return {
        "balance_rows": len(values),
        "result_rows": len(result),
        "result_rows_opened": sum(1 for b_in in result if b_in),
    }


def _reference_data_pull(company: Company, client: TripletexClient) -> None:
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


def _periods_pull(
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
        month = month_start(p.start)
        while month < p.end:
            closed[month] = closed.get(month, True) and p.is_closed
            month = month_next(month)
    return closed


def _upsert(model: Any, objs: list[Any], *, unique: list[str], update: list[str]) -> None:
    if objs:
        model.objects.bulk_create(
            objs,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=unique,
            update_fields=update,
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


def _add_client_stats(run: SyncRun, client: TripletexClient | None) -> None:
    if client is None:
        return
    stats = client.stats
    run.refresh_from_db(fields=["months_done", "rows_written", "progress_at"])
    base = _base(run)
    run.tripletex_calls = base.calls + stats.calls
    run.rate_limit_waits = base.waits + stats.rate_limit_waits
    run.waited_seconds = base.waited + stats.waited_seconds
    run.request_ids = list(dict.fromkeys([*run.request_ids, *stats.failed_request_ids]))[-20:]


def _run_finished(
    run: SyncRun, company: Company, client: TripletexClient, *, window_start: datetime.date
) -> SyncRun:
    _add_client_stats(run, client)
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
    _alert_clear(company)
    return run


def _run_failed(
    run: SyncRun,
    company: Company,
    message: str,
    request_ids: list[str] | None = None,
    *,
    client: TripletexClient | None = None,
) -> SyncRun:
    _add_client_stats(run, client)
    run.status = SyncRun.Status.FAILED
    run.error = message
    run.finished_at = timezone.now()
    if request_ids:
        run.request_ids = list(run.request_ids) + request_ids
    run.save(update_fields=FINISH_FIELDS)
    logger.warning("Sync of company %s failed: %s", company.pk, message)
    _alert_maybe(company, message)
    return run


def _plain(exc: TripletexError, text: str) -> str:
    request_id = getattr(exc, "request_id", None)
    if request_id:
        return _("%(text)s (Tripletex request id: %(id)s)") % {"text": text, "id": request_id}
    return text


def _transient_text(exc: TripletexUnavailable) -> str:
    if isinstance(exc, TripletexRateLimited):
        return _("Tripletex kept refusing calls because the key's rate limit was used up.")
    return _("Tripletex did not answer (%(detail)s).") % {"detail": exc.message}


def _error_text(exc: TripletexError) -> str:
    if isinstance(exc, TripletexForbidden):
        return _("The key lacks access to part of the accounts in Tripletex: %(detail)s") % {
            "detail": exc.message
        }
    return _("Tripletex answered with an error: %(detail)s") % {"detail": exc.message}


# ---- alerts -------------------------------------------------------------------------------------


def _alert_maybe(company: Company, message: str) -> None:
    """E-mail the company's admins once when the key is broken or syncs keep failing."""
    connection = TripletexConnection.objects.filter(company=company).first()
    broken = connection is not None and connection.status == TripletexConnection.Status.BROKEN
    if not broken and failures_in_a_row(company=company) < ALERT_AFTER_FAILURES:
        return
    schedule = sync_schedule_get(company=company)
    with transaction.atomic():
        locked = SyncSchedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.alerted_at is not None:
            return  # already told; not again until a sync succeeds
        locked.alerted_at, locked.alert_reason = timezone.now(), message
        locked.save(update_fields=["alerted_at", "alert_reason"])
    admins = list(
        Membership.objects.filter(company=company, role=Role.ADMIN)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    if not admins:
        return
    subject = _("Figures for %(company)s can no longer be synced from Tripletex") % {
        "company": company.name
    }
    body = _(
        "Dynamik could not sync the figures of %(company)s from Tripletex.\n\n%(reason)s\n\n"
        "The figures shown are those of the last successful sync. You will not get this e-mail "
        "again until a sync has succeeded."
    ) % {"company": company.name, "reason": message}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, admins)
    except OSError:
        logger.exception("Could not e-mail the admins of company %s", company.pk)


def _alert_clear(company: Company) -> None:
    SyncSchedule.objects.filter(company=company, alerted_at__isnull=False).update(
        alerted_at=None, alert_reason=""
    )


# ---- schedules ----------------------------------------------------------------------------------


def _next_refresh(schedule: SyncSchedule, now: datetime.datetime) -> datetime.datetime | None:
    if not schedule.refresh_every_minutes:
        return None
    candidate = now + datetime.timedelta(minutes=schedule.refresh_every_minutes)
    local = timezone.localtime(candidate)
    if schedule.refresh_from_hour <= local.hour < schedule.refresh_to_hour:
        return candidate
    start = datetime.time(min(schedule.refresh_from_hour, 23), 0)
    return _next_at(start, candidate)


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
    schedule.next_nightly_at = _next_at(schedule.nightly_at, now) if has_figures else now
    schedule.next_refresh_at = _next_refresh(schedule, now)
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:
        schedule = SyncSchedule.objects.get(company=company)
    return schedule


def sync_schedule_reschedule(*, schedule: SyncSchedule) -> SyncSchedule:
    """Recompute the due times after staff changed the schedule; returns it saved."""
    now = timezone.now()
    schedule.next_nightly_at = _next_at(schedule.nightly_at, now)
    schedule.next_refresh_at = _next_refresh(schedule, now)
    schedule.save()
    return schedule


def sync_due_dispatch(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Queue the nightly syncs and intraday refreshes that are due; returns counts per kind."""
    now = now or timezone.now()
    counts = {"nightly": 0, "refresh": 0, "busy": 0, "idle": 0}
    counts["expired"] = sync_runs_expire_stale()
    with scopes_disabled():
        connected = Company.objects.filter(
            tripletex__status__in=[
                TripletexConnection.Status.CONNECTED,
                TripletexConnection.Status.NOT_VERIFIED,
            ]
        ).exclude(sync_schedule__isnull=False)
        for company in connected:
            sync_schedule_get(company=company)
        due = (
            SyncSchedule.objects.filter(
                is_enabled=True,
                company__tripletex__status__in=[
                    TripletexConnection.Status.CONNECTED,
                    TripletexConnection.Status.NOT_VERIFIED,
                ],
            )
            .filter(Q(next_nightly_at__lte=now) | Q(next_refresh_at__lte=now))
            .select_related("company")
            .order_by("next_nightly_at")
        )
        for schedule in due:
            counts[_dispatch_one(schedule, now)] += 1
    counts.pop("idle", None)
    return counts


def _dispatch_one(schedule: SyncSchedule, now: datetime.datetime) -> str:
    company = schedule.company
    nightly_due = schedule.next_nightly_at is not None and schedule.next_nightly_at <= now
    refresh_due = schedule.next_refresh_at is not None and schedule.next_refresh_at <= now
    if not nightly_due and not refresh_due:
        return "idle"
    with scope(company=company):
        if nightly_due:
            kind = SyncRun.Kind.RECHECK if schedule.recheck_due else SyncRun.Kind.FULL
        else:
            kind = SyncRun.Kind.CURRENT
        _run, created = sync_request(company=company, trigger=SyncRun.Trigger.SCHEDULE, kind=kind)
        if nightly_due:
            schedule.next_nightly_at = _next_at(schedule.nightly_at, now)
            if created and schedule.recheck_due:
                schedule.recheck_due, schedule.last_recheck_at = False, now
        schedule.next_refresh_at = _next_refresh(schedule, now)
        schedule.save(
            update_fields=["next_nightly_at", "next_refresh_at", "recheck_due", "last_recheck_at"]
        )
    if not created:
        return "busy"
    return "nightly" if nightly_due else "refresh"


def sync_recheck_mark_due() -> int:
    """Make every company's next nightly sync re-check its closed months; returns how many."""
    with scopes_disabled():
        return SyncSchedule.objects.filter(recheck_due=False).update(recheck_due=True)


def retry_countdown(retries: int) -> float:
    """Seconds before retry number `retries` of a transient failure (backoff + jitter, ≤ 10 min)."""
    # The cap comes last, after the jitter, so no countdown exceeds it (see the task time limits).
    return backoff(retries, base=30.0, cap=600.0)


def elapsed(run: SyncRun) -> float:
    """Seconds the run took (or has taken so far)."""
    if run.started_at is None:
        return 0.0
    end = run.finished_at or timezone.now()
    return (end - run.started_at).total_seconds()

# ruff: noqa: T201  (a benchmark prints its figures)
"""The night's plan, paced per Tripletex key: computed for 10,000 firms behind 200 keys, and
checked on a smaller real run against the sandbox's rate limiter with time compressed.

1. Computed (ledger/sync/night.py `night_plan_compute`, the dispatcher's own planner): 10,000
   firms behind 200 accounting-office keys at the planned budget (80 of 100 calls a minute per
   key), for an ordinary night (re-syncs) and the weekly re-check night, with the calls per firm
   the planner assumes without history (3 and 17 per fiscal year, 2 years). Keys of 50 clients
   each, then a skewed spread (a few offices with most of the clients). Prints the planned
   finish, the keys that miss 06:00, and the planner's own time.
2. Real, time compressed 60× (a minute of Tripletex's is a second here): the sandbox limits each
   token to `--limit` calls per 1-second window; `--keys` office tokens reach `--firms` clients
   each; a Celery worker (threads) on the batch queue syncs them over Redis (or the embedded
   broker). Night 1 syncs every firm for the first time; night 2 re-syncs them all at once, as
   without a plan; night 3 re-syncs them as the plan says (estimates from night 2, the real
   dispatcher sending each run with its countdown). Prints, per night, the finish, the 429s the
   sandbox answered, the waits our rate limiter made, and the most calls one key made in one
   of the sandbox's windows; for night 3 the planned finish beside the real one.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/dynamik_bench_night,
created if missing). Run: .venv/bin/python bench/night_plan.py [--keys 4] [--firms 60] [--limit 50]
[--computed-only]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import redis_url_or_none, worker_command  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_night"
ENV_DEFAULTS = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdefghij",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
    "TRIPLETEX_CONSUMER_TOKEN": "sandbox-consumer-token",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "dynamik.settings",
}
COMPRESSION = 60  # one second here stands for one minute of Tripletex's


def _ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# ---- 1. computed --------------------------------------------------------------------------------


def _computed() -> None:
    from django.utils import timezone

    from ledger.sync import night as plan
    from ledger.sync.schedules import nightly_default

    budget = plan.budget_default()
    day = timezone.localdate() + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(0, 30)))
    night = plan.Night(start=start, deadline=start.replace(hour=6, minute=0))
    evening = start - datetime.timedelta(hours=3)
    years = plan.YEARS_PER_RUN
    resync = plan.RESYNC_CALLS_PER_YEAR * years
    recheck = plan.FIRST_SYNC_CALLS_PER_YEAR * years
    print(
        f"budget per key: {budget.calls} calls per {budget.window:.0f} s (limit {budget.limit}, "
        f"reserve {plan.RESERVE:.0%}); calls per firm assumed: re-sync {resync} "
        f"({plan.RESYNC_CALLS_PER_YEAR}/firm-year), first sync or re-check {recheck} "
        f"({plan.FIRST_SYNC_CALLS_PER_YEAR}/firm-year), {plan.SECONDS_PER_CALL} s per call"
    )

    def release(company_id: int) -> datetime.datetime:
        t = nightly_default(company_id)  # each firm's own spread-out time
        return timezone.make_aware(datetime.datetime.combine(day, t))

    uniform = [n // 50 for n in range(10_000)]
    # Skewed: key k gets a share ∝ 1/(k+1) (a few large offices, many small ones).
    weights = [1 / (k + 1) for k in range(200)]
    rng = random.Random(4102)
    skewed = rng.choices(range(200), weights=weights, k=10_000)
    for layout, keys_of in (("200 keys × 50 firms", uniform), ("skewed 1/rank", skewed)):
        sizes = defaultdict(int)
        for k in keys_of:
            sizes[k] += 1
        scenarios = (
            ("ordinary night (re-syncs)", resync, release),
            ("re-check night", recheck, release),
            ("re-check night, every firm free from 00:30", recheck, lambda n: start),
        )
        for label, calls, released in scenarios:
            jobs = [
                plan.Job(
                    n + 1, f"office:{k}", released(n + 1), calls, calls * plan.SECONDS_PER_CALL
                )
                for n, k in enumerate(keys_of)
            ]
            started = time.perf_counter()
            result, starts = plan.night_plan_compute(
                jobs, labels={}, budget=budget, night=night, now=evening
            )
            took = time.perf_counter() - started
            worst = _max_window_calls(starts, budget.window)
            packed = sum(1 for k in result.keys if k.packed)
            print(
                f"10,000 firms, {layout} (largest {max(sizes.values())}), {label}: "
                f"{result.calls:,} calls, planned finish {timezone.localtime(result.finish):%H:%M}, "
                f"{result.late_keys} keys late ({result.late_firms} firms), {packed} packed from "
                f"00:30; most planned calls in one window of one key: {worst} "
                f"(budget {budget.calls}); planner {took * 1000:.0f} ms"
            )


def _max_window_calls(starts, window: float) -> int:
    """The most planned calls of one key starting within any span of one window."""
    by_key = defaultdict(list)
    for s in starts:
        by_key[s.key].append((s.at.timestamp(), s.calls))
    worst = 0
    for runs in by_key.values():
        runs.sort()
        j = total = 0
        for i in range(len(runs)):
            while runs[j][0] <= runs[i][0] - window:
                total -= runs[j][1]
                j += 1
            total += runs[i][1]
            worst = max(worst, total)
    return worst


# ---- 2. real, time compressed -------------------------------------------------------------------


class Recorder:
    """Every rate-limit decision the sandbox makes: (monotonic time, token, allowed)."""

    def __init__(self, sandbox) -> None:
        self.events: list[tuple[float, str, bool]] = []
        self._lock = threading.Lock()
        hit = sandbox.rate_limiter.hit

        def recording_hit(key, limit, window):
            allowed, remaining, reset = hit(key, limit, window)
            with self._lock:
                self.events.append((time.monotonic(), key, allowed))
            return allowed, remaining, reset

        sandbox.rate_limiter.hit = recording_hit

    def since(self, mark: int) -> tuple[int, int, int]:
        """Calls, 429s, and the most calls one token made within one second, after event `mark`."""
        events = self.events[mark:]
        refused = sum(1 for _t, _k, ok in events if not ok)
        by_key = defaultdict(list)
        for t, key, ok in events:
            if ok:
                by_key[key].append(t)
        worst = 0
        for times in by_key.values():  # the most calls in any 1-second span, however aligned
            times.sort()
            j = 0
            for i, t in enumerate(times):
                while times[j] <= t - 1.0:
                    j += 1
                worst = max(worst, i - j + 1)
        return len(events) - refused, refused, worst


def _real(args) -> None:
    db_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    _ensure_database(db_url)
    redis_url = redis_url_or_none()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-night-"))
    env = {**ENV_DEFAULTS, **{k: v for k, v in os.environ.items() if k in ENV_DEFAULTS}}
    env.update(DATABASE_URL=db_url, DYNAMIK_VAR_DIR=str(var_dir))
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
    queue = f"bench-night-{uuid.uuid4().hex[:8]}"
    env.update(CELERY_QUEUE=queue, CELERY_BATCH_QUEUE=f"{queue}-batch")
    env["CACHE_KEY_PREFIX"] = f"bench-night-{uuid.uuid4().hex[:8]}"
    # The dispatcher's look-ahead: one round of our loop below (a compressed beat).
    env["SYNC_DISPATCH_SECONDS"] = "0.5"

    from tripletex.sandbox import SandboxServer, demo

    sandbox = SandboxServer(var_dir / "sandbox.sqlite3", host="127.0.0.1", port=0).start()
    sandbox.faults.rate_limit = args.limit
    sandbox.faults.rate_window = 1.0
    recorder = Recorder(sandbox)
    env["TRIPLETEX_BASE_URL"] = sandbox.base_url
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    import dynamik.celery  # noqa: F401  (the app the tasks are sent with)

    call_command("migrate", verbosity=0)
    firms = _firms(args, sandbox, demo)
    log = var_dir / "worker.log"
    cmd = worker_command(
        queue,
        pool="threads",
        concurrency=args.concurrency,
        loglevel="WARNING",
        consume=(f"{queue}-batch",),
    )
    with log.open("wb") as out:
        worker = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ}, stdout=out, stderr=out)
    try:
        time.sleep(3)  # worker start-up is not part of any night
        print(
            f"real run: {args.keys} office keys × {args.firms} clients, sandbox limit "
            f"{args.limit} calls per 1 s window per token (a minute's calls in a second: time "
            f"compressed {COMPRESSION}×), worker --pool threads --concurrency {args.concurrency}, "
            f"broker {'redis' if redis_url else 'filesystem'}"
        )
        _night_at_once("night 1, first syncs, all at once", firms, recorder)
        _night_at_once("night 2, re-syncs, all at once (no plan)", firms, recorder)
        _night_planned("night 3, re-syncs, as planned", firms, recorder, args)
    finally:
        worker.terminate()
        worker.wait(30)
        sandbox.stop()


def _firms(args, sandbox, demo):
    from django.db import connection
    from django_scopes import scopes_disabled

    from companies.credentials import connection_mark, connection_set_office_key, office_key_set
    from companies.models import Company, TripletexConnection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE companies_company, companies_officekey CASCADE")
    firms = []
    with scopes_disabled():
        for k in range(args.keys):
            numbers = range(k * args.firms + 1, (k + 1) * args.firms + 1)
            for n in numbers:
                sandbox.store.token_info(demo.bench_token(n))  # the sandbox seeds its company
            token = f"bench-office-{k}"
            sandbox.store.add_office_token(token, [demo.BENCH_COMPANY_ID_BASE + n for n in numbers])
            office = office_key_set(office_key=None, name=f"Kontor {k} AS", token=token, by=None)
            for n in numbers:
                firm = Company.objects.create(
                    org_number=f"9{n:08d}", name=f"Klient {n} AS", slug=f"klient-{n}"
                )
                connection_set_office_key(
                    company=firm,
                    office_key=office,
                    client_company_id=demo.BENCH_COMPANY_ID_BASE + n,
                    by=None,
                )
                connection_mark(company=firm, status=TripletexConnection.Status.CONNECTED)
                firms.append(firm)
    return firms


def _wait_done(firms, since: datetime.datetime) -> tuple[float, list]:
    from django_scopes import scopes_disabled

    from ledger.models import SyncRun

    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        with scopes_disabled():
            runs = list(
                SyncRun.objects.filter(company__in=firms, created_at__gte=since).exclude(
                    status__in=["queued", "running"]
                )
            )
        if len(runs) >= len(firms):
            return time.monotonic(), runs
        time.sleep(0.2)
    raise SystemExit("the night did not finish within 15 minutes")


def _report(label: str, runs, recorder: Recorder, mark: int, seconds: float) -> None:
    calls, refused, worst = recorder.since(mark)
    failed = sum(1 for r in runs if r.status == "failed")
    waits = sum(r.rate_limit_waits for r in runs)
    print(
        f"{label}: done in {seconds:.1f} s (= {seconds * COMPRESSION / 60:.0f} min uncompressed), "
        f"{calls} calls ({calls / len(runs):.1f} per firm), {refused} answered 429, {waits} waits "
        f"by our limiter, most calls of one key within 1 s {worst}; {failed} failed"
    )


def _night_at_once(label: str, firms, recorder: Recorder) -> None:
    from django.utils import timezone
    from django_scopes import scope

    from ledger.models import SyncRun
    from ledger.sync.services import sync_request

    mark, since = len(recorder.events), timezone.now()
    started = time.monotonic()
    for firm in firms:
        with scope(company=firm):
            sync_request(company=firm, trigger=SyncRun.Trigger.SCHEDULE)
    finished, runs = _wait_done(firms, since)
    _report(label, runs, recorder, mark, finished - started)


def _night_planned(label: str, firms, recorder: Recorder, args) -> None:
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from ledger.models import SyncRun, SyncSchedule
    from ledger.sync import night, services
    from ledger.sync.schedules import sync_schedule_get

    # A compressed night: the key's budget is the sandbox's limit less the reserve, per second;
    # it starts in two seconds and has 330 s (00:30 to 06:00, compressed) to finish.
    budget = night.Budget(
        calls=max(1, int(args.limit * (1 - night.RESERVE))), window=1.0, limit=args.limit
    )
    start = timezone.now() + datetime.timedelta(seconds=2)
    window = night.Night(start=start, deadline=start + datetime.timedelta(seconds=330))
    with scopes_disabled():
        for firm in firms:
            sync_schedule_get(company=firm)
        schedules = SyncSchedule.objects.filter(company__in=firms)
        schedules.update(next_nightly_at=start, next_refresh_at=None, recheck_due=False)
    mark, since = len(recorder.events), timezone.now()
    plan = night.night_plan_make(now=since, night=window, budget=budget)
    with scopes_disabled():
        planned = dict(schedules.values_list("company_id", "next_nightly_at"))
    # The real dispatcher in compressed rounds; the wall clock's own night is not ours to plan.
    services.night_plan_ensure = lambda now: None
    began = time.monotonic() + (start - timezone.now()).total_seconds()
    while True:
        with scopes_disabled():
            if not schedules.filter(next_nightly_at__lte=window.deadline).exists():
                break
        services.sync_due_dispatch()
        time.sleep(0.25)
    finished, runs = _wait_done(firms, since)
    _report(label, runs, recorder, mark, finished - began)
    late = sorted(
        (r.started_at - planned[r.company_id]).total_seconds() for r in runs if r.started_at
    )
    assert plan.finish is not None
    print(
        f"{label}: planned finish {(plan.finish - start).total_seconds():.1f} s after the night's "
        f"start, real {finished - began:.1f} s; runs started after their planned second by "
        f"{late[len(late) // 2]:.2f} s (median), {late[-1]:.2f} s (most); plan: {plan.calls} calls "
        f"estimated from night 2, budget {budget.calls} per 1 s window per key"
    )
    with scopes_disabled():
        assert SyncRun.objects.filter(company__in=firms, created_at__gte=since).count() == len(
            firms
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=4, help="office keys in the real run")
    parser.add_argument("--firms", type=int, default=60, help="clients per key in the real run")
    parser.add_argument("--limit", type=int, default=50, help="sandbox calls per 1 s per token")
    parser.add_argument("--concurrency", type=int, default=16, help="worker threads")
    parser.add_argument("--computed-only", action="store_true", help="skip the real run")
    args = parser.parse_args()
    if args.computed_only:
        for name, value in ENV_DEFAULTS.items():
            os.environ.setdefault(name, value)
        import django

        django.setup()
    else:
        _real(args)  # sets up Django with its own database, broker and sandbox
    _computed()


if __name__ == "__main__":
    main()

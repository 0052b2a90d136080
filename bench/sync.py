# ruff: noqa: T201  (a benchmark prints its figures)
"""Balance sync benchmarks: calls per firm-year, 1,000 firm-years through a real Celery worker,
upsert rows/s beside a raw COPY, and the worker's peak RSS.

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/dynamik_bench_sync,
created if missing) and uses Redis for the broker, sessions and rate limits when it answers on
REDIS_URL (default redis://127.0.0.1:6379/0; else the filesystem broker). The sandbox runs in this
process on 127.0.0.1 with 50 ms added latency per call for the big run.

Run: .venv/bin/python bench/sync.py [--firms 500] [--concurrency 32] [--rows 200000]
(500 firms × 2 fiscal years = 1,000 firm-years.)
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import redis_url_or_none, worker_command  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_sync"
ENV_DEFAULTS = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdefghij",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
    "TRIPLETEX_CONSUMER_TOKEN": "sandbox-consumer-token",
    "ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SETTINGS_MODULE": "dynamik.settings",
}


def _ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _rss_mb(pid: int) -> float:
    """RSS of a process and its children (prefork/threads worker), in MB, from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (threads included), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=500, help="firms (× 2 fiscal years)")
    parser.add_argument("--concurrency", type=int, default=32, help="threads per worker")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one per core)")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()

    db_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    redis_url = redis_url_or_none()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    env = {**ENV_DEFAULTS, **{k: v for k, v in os.environ.items() if k in ENV_DEFAULTS}}
    env.update(DATABASE_URL=db_url, DYNAMIK_VAR_DIR=str(var_dir))
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url)
    # This process enqueues to the same queue the bench worker consumes.
    env["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    _ensure_database(db_url)

    from tripletex.sandbox import SandboxServer, demo

    sandbox = SandboxServer(var_dir / "sandbox.sqlite3", host="127.0.0.1", port=0).start()
    env["TRIPLETEX_BASE_URL"] = sandbox.base_url
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    import dynamik.celery  # noqa: F401  (the app the tasks are sent with)

    call_command("migrate", verbosity=0)
    _run(args, sandbox, demo, env, redis_url)
    sandbox.stop()


def _reset_db() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE ledger_accountbalance, ledger_monthsync, ledger_syncrun, ledger_posting, "
            "ledger_postingmonth, ledger_fiscalyearsync, "
            "ledger_syncschedule, ledger_ledgeraccount, ledger_accountingperiod, "
            "ledger_department, ledger_project, companies_tripletexconnection, "
            "companies_auditevent, companies_membership, companies_company CASCADE"
        )


def _run(args, sandbox, demo, env, redis_url) -> None:
    from django_scopes import scopes_disabled

    from companies.credentials import connection_mark, connection_set_own_key
    from companies.models import Company, TripletexConnection
    from ledger.sync.services import AUTO, MONTHS

    _reset_db()

    def company(n: int, token: str) -> Company:
        c = Company.objects.create(org_number=f"9{n:08d}", name=f"Bench {n} AS", slug=f"bench-{n}")
        connection_set_own_key(company=c, token=token, by=None)
        connection_mark(company=c, status=TripletexConnection.Status.CONNECTED)
        return c

    # 1. Calls per firm-year, first sync and re-sync with nothing changed, for the postings
    # strategy beside the monthly strategy: the holding company (about 120 postings a year) and
    # two bench firms grown to 10,000 and 100,000 postings a year.
    holding = _calls_per_firm_year(sandbox, demo, company)

    # 2. 1,000 firm-years through real workers, the default (postings) strategy and then the
    # monthly strategy in the same run, each on its own fresh Dynamik companies.
    # Generate the bench companies in the sandbox first (its one-off seeding is not our cost).
    for n in range(1, args.firms + 1):
        sandbox.store.token_info(demo.bench_token(n))
    sandbox.faults.latency_ms = args.latency_ms
    figures = {}
    for offset, strategy in ((0, AUTO), (100_000, MONTHS)):
        with scopes_disabled():
            firms = [company(offset + n, demo.bench_token(n)) for n in range(1, args.firms + 1)]
        figures[strategy] = _many_firm_years(args, env, redis_url, firms, strategy)
    auto, months = figures[AUTO], figures[MONTHS]
    print(
        f"postings vs monthly strategy, same run: {auto[0]:.1f} s vs {months[0]:.1f} s "
        f"(monthly / postings wall time {months[0] / max(auto[0], 0.001):.2f}), {auto[1]} vs "
        f"{months[1]} calls (monthly / postings {months[1] / max(auto[1], 1):.2f})"
    )
    sandbox.faults.latency_ms = 0

    # 3. Upsert rows/s beside a raw COPY into the same table.
    _upsert_vs_copy(args.rows, holding)


# The monthly strategy in a real worker: balances_sync_task calls balances_sync with the default
# strategy and takes none, so the bench's worker is started through this boot code, which binds
# MONTHS into the name the task module calls before handing over to celery's own command line.
# Production code and its defaults are untouched; only this bench worker's process is.
MONTHS_WORKER_BOOT = """
import functools, sys
import django
django.setup()
from ledger.sync import services, tasks
tasks.balances_sync = functools.partial(services.balances_sync, strategy=services.MONTHS)
from celery.__main__ import main
sys.argv = ["celery", *sys.argv[1:]]
main()
"""


def _many_firm_years(args, env, redis_url, firms, strategy):
    """Sync every firm's 2 fiscal years through real workers with `strategy`; prints the
    figures and returns (seconds end to end, Tripletex calls)."""
    from django_scopes import scope, scopes_disabled

    from ledger.models import SyncRun
    from ledger.sync.services import MONTHS, sync_request

    queue = env["CELERY_QUEUE"]
    broker = redis_url or "filesystem://"
    log = Path(env["DYNAMIK_VAR_DIR"]) / "worker.log"
    worker_env = {**os.environ, **env, "CELERY_QUEUE": queue, "CELERY_BROKER_URL": broker}
    workers = []
    for i in range(args.workers):
        cmd = worker_command(
            queue,
            pool="threads",
            concurrency=args.concurrency,
            loglevel="WARNING",
            hostname=f"{queue}-{i}@%h",
        )
        if strategy == MONTHS:
            cmd = [cmd[0], "-c", MONTHS_WORKER_BOOT, *cmd[3:]]  # [python, -m, celery, ...]
        with log.with_suffix(f".{i}.log").open("wb") as out:
            workers.append(subprocess.Popen(cmd, cwd=ROOT, env=worker_env, stdout=out, stderr=out))
    try:
        time.sleep(3)  # worker start-up is not part of the sync time
        started = time.monotonic()
        own_cpu = _cpu_seconds(os.getpid())
        with scopes_disabled():
            for firm in firms:
                with scope(company=firm):
                    sync_request(company=firm, trigger="schedule")
        peak = 0.0
        total = len(firms)
        while True:
            peak = max(peak, *(_rss_mb(w.pid) for w in workers))
            with scopes_disabled():
                done = SyncRun.objects.filter(
                    company__in=firms, status__in=["succeeded", "incomplete", "failed"]
                ).count()
            if done >= total or time.monotonic() - started > 1800:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        worker_cpu = sum(_cpu_seconds(w.pid) for w in workers)
        sandbox_cpu = _cpu_seconds(os.getpid()) - own_cpu
        with scopes_disabled():
            runs = SyncRun.objects.filter(company__in=firms)
            failed = runs.filter(status="failed").count()
            calls_sum = sum(runs.values_list("tripletex_calls", flat=True))
            rows_sum = sum(runs.values_list("rows_written", flat=True))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
    print(
        f"{strategy} strategy: {2 * total} firm-years ({total} firms) with {args.latency_ms} ms latency, "
        f"{args.workers} worker(s) × --pool threads --concurrency {args.concurrency}, broker {broker.split(':')[0]}: "
        f"{elapsed:.1f} s end to end (goal <= 120 s); {calls_sum} calls, {rows_sum} rows, "
        f"{failed} failed"
    )
    print(f"peak RSS of one worker process: {peak:.0f} MB (goal <= 300 MB)")
    print(
        f"CPU used: workers {worker_cpu:.0f} s ({1000 * worker_cpu / max(calls_sum, 1):.1f} ms per "
        f"call), sandbox + this process {sandbox_cpu:.0f} s; load average now "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    return elapsed, calls_sum


# (label, employee token, postings a year added to the sandbox firm)
CALL_FIRMS = (
    ("holding company, ~120 postings/year", "holding", 0),
    ("10,000 postings/year", "bench-999001", 10_000),
    ("100,000 postings/year", "bench-999002", 100_000),
)


def _calls_per_firm_year(sandbox, demo, company):
    """Print calls per firm-year of both strategies; returns the first Dynamik company made."""
    from django_scopes import scope

    from ledger.models import SyncRun
    from ledger.sync.services import AUTO, MONTHS, balances_sync, sync_request

    print(
        "calls per firm-year (2 fiscal years; the session counted once per firm):\n"
        f"{'':38} {'first sync':>20} {'re-sync, no changes':>22}\n"
        f"{'':38} {'postings':>10}{'monthly':>10} {'postings':>11}{'monthly':>11}"
    )
    made = []
    for i, (label, key, volume) in enumerate(CALL_FIRMS):
        token = demo.HOLDING_TOKEN if key == "holding" else demo.bench_token(int(key[6:]))
        info = sandbox.store.token_info(token)
        if volume:
            sandbox.store.add_volume(info.company_id, postings_per_year=volume)
        figures = {}
        for j, strategy in enumerate((AUTO, MONTHS)):
            firm = company(900 + 10 * i + j, token)
            made.append(firm)
            with scope(company=firm):
                calls, seconds = [], []
                for _ in range(2):
                    run, _created = sync_request(company=firm, trigger="command", enqueue=False)
                    started = time.monotonic()
                    run = balances_sync(company=firm, run=run, strategy=strategy)
                    seconds.append(time.monotonic() - started)
                    assert run.status == SyncRun.Status.SUCCEEDED, run.error
                    calls.append(run.tripletex_calls)
            # The client does not count creating its session: one per firm's first sync.
            figures[strategy] = ((calls[0] + 1) / 2, calls[1] / 2, seconds[0], run.strategies)
        auto, months = figures[AUTO], figures[MONTHS]
        print(
            f"{label:38} {auto[0]:>10.1f}{months[0]:>10.1f} {auto[1]:>11.1f}{months[1]:>11.1f}"
            f"   (first sync {auto[2]:.1f} s / {months[2]:.1f} s)"
        )
    print(
        "goals: postings first sync <= 4 up to 10,000 postings a year, the fallback no worse "
        "than monthly at 100,000; re-sync <= 2 calls per firm (1.0 per firm-year)"
    )
    return made[0]


def _upsert_vs_copy(rows: int, company) -> None:
    import datetime
    from decimal import Decimal
    from decimal import Decimal as D

    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scope

    from ledger.models import AccountBalance

    now = timezone.now()
    per_month = 1000
    months = [datetime.date(1900 + i // 12, i % 12 + 1, 1) for i in range(rows // per_month)]

    def objs(offset: int):
        for month in months:
            for account in range(per_month):
                yield AccountBalance(
                    company=company,
                    account_number=10_000 + offset + account,
                    month=month,
                    balance_in=Decimal("1234.56"),
                    balance_change=Decimal("-34.56"),
                    balance_out=Decimal("1200.00"),
                    synced_at=now,
                )

    from ledger.sync.month_replace import balances_month_replace

    with scope(company=company):
        batch = list(objs(0))
        started = time.monotonic()
        with transaction.atomic():
            for i in range(0, len(batch), 2000):
                AccountBalance.objects.bulk_create(
                    batch[i : i + 2000],
                    update_conflicts=True,
                    unique_fields=["company", "account_number", "month"],
                    update_fields=["balance_in", "balance_change", "balance_out", "synced_at"],
                )
        bulk = len(batch) / (time.monotonic() - started)
        # The sync's path: one statement per month, as balances_sync writes it. First as updates
        # of the rows just inserted (a re-sync), then replacing them all with fresh accounts
        # (inserts + deletes of the old rows).
        values = [(10_000 + a, D("1234.56"), D("-34.56"), D("1200.00")) for a in range(per_month)]
        fresh = [(50_000 + a, *v[1:]) for a, v in enumerate(values)]
        timings = {}
        for label, rows_of_month in (("updates", values), ("inserts", fresh)):
            started = time.monotonic()
            for month in months:
                with transaction.atomic():
                    balances_month_replace(
                        company=company, month=month, values=rows_of_month, synced_at=now
                    )
            timings[label] = len(batch) / (time.monotonic() - started)
    buffer = io.StringIO()
    for month in months:
        for account in range(per_month):
            buffer.write(
                f"{company.pk}\t{20_000 + account}\t{month}\t1234.56\t-34.56\t1200.00\t{now}\n"
            )
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = (
            "company_id, account_number, month, balance_in, balance_change, balance_out, synced_at"
        )
        with cursor.copy(f"COPY ledger_accountbalance ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    copied = len(batch) / (time.monotonic() - started)
    print(
        f"balance rows/s into PostgreSQL ({len(batch):,} rows each; goal >= 20,000): "
        f"balances_month_replace (one statement per month): updates {timings['updates']:,.0f}, "
        f"inserts replacing old rows {timings['inserts']:,.0f}; "
        f"bulk_create(update_conflicts) {bulk:,.0f}; "
        f"raw COPY {copied:,.0f}"
    )


if __name__ == "__main__":
    main()

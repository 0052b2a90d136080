"""Booking throughput: 1,000 ready transactions booked through the sandbox by one Celery worker.

Starts the Tripletex sandbox in this process on 127.0.0.1 (counting every call it answers), a
fresh app database (SQLite; BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> to use
PostgreSQL, the database is dropped and recreated) and ONE real `celery worker` with the solo
pool (Redis when one answers on 127.0.0.1:6379 or REDIS_URL, else the filesystem broker).
Records N purchases, clicks "book all ready" (one batch task; every row still claimed on its
own) and waits until every row is booked. Prints the wall time, the worker's CPU time and the
Tripletex calls per booking (lookup + POST on the happy path; session, chart and periods once).

Run: `.venv/bin/python bench/booking.py [--count 1000]` (goals: ≤ 60 s, ≤ 2.1 calls/booking).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.processes import redis_url_or_none, worker_command  # noqa: E402


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of a process and its waited-for children (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _database_url(workdir: Path) -> str:
    """BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/dynamik_bench_booking, which
    is dropped and created first); else a fresh SQLite file, the embedded default."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{workdir / 'app.sqlite3'}"
    if url.startswith("postgres"):
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="Processes of the one worker (1 = solo pool, as the goal is stated).",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="dynamik-bench-booking-"))
    var_dir = workdir / "var"
    var_dir.mkdir()
    from tripletex.sandbox import SandboxServer, demo

    sandbox = SandboxServer(workdir / "sandbox.sqlite3", host="127.0.0.1", port=0).start()
    calls: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    handle = sandbox.handle

    def counting_handle(ctx):
        key = f"{ctx.method} {ctx.path.split('?')[0]}"
        with lock:
            calls[key] += 1
        return handle(ctx)

    sandbox.handle = counting_handle  # type: ignore[method-assign]

    redis_url = redis_url_or_none()
    broker = redis_url or "filesystem://"
    queue = f"bench-booking-{uuid.uuid4().hex[:8]}"
    env = {
        "DEBUG": "true",
        "DYNAMIK_VAR_DIR": str(var_dir),
        "DATABASE_URL": _database_url(workdir),
        "TRIPLETEX_BASE_URL": sandbox.base_url,
        "TRIPLETEX_CONSUMER_TOKEN": demo.CONSUMER_TOKEN,
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": queue,
        # As in production: sessions, rate-limit budget and caches in Redis when there is one.
        "REDIS_URL": redis_url or "",
        "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from django_scopes import scope

    call_command("migrate", verbosity=0)
    from companies.credentials import connection_set_own_key
    from companies.services import company_create
    from ledger.booking.protocol import booking_queue_all_ready
    from ledger.models import Transaction
    from ledger.transactions.services import transaction_create

    company = company_create(org_number="923609016", name="Bench Holding AS")
    connection_set_own_key(company=company, token=demo.bench_token(1), by=None)
    today = timezone.localdate()
    with scope(company=company):
        for i in range(args.count):
            transaction_create(
                company=company,
                by=None,
                data={
                    "kind": "purchase",
                    "trade_date": today,
                    "instrument_name": f"Fond {i % 25}",
                    "quantity": Decimal(10 + i % 7),
                    "amount": Decimal(1000 + i) + Decimal("0.25"),
                    "fees": Decimal("9.90"),
                },
            )

    worker = subprocess.Popen(
        worker_command(
            queue,
            pool="solo" if args.concurrency == 1 else "prefork",
            concurrency=args.concurrency,
            loglevel="WARNING",
            extra=("--without-heartbeat",),
        ),
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=open(workdir / "worker.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # let the worker connect before the clock starts
        calls.clear()
        started = time.monotonic()
        with scope(company=company):
            counts = booking_queue_all_ready(company=company)
        assert counts["queued"] == args.count, counts
        deadline = started + 900
        while time.monotonic() < deadline:
            with scope(company=company):
                done = Transaction.objects.filter(company=company).exclude(
                    status__in=["queued", "booking", "ready"]
                )
                finished = done.count()
            if finished >= args.count:
                break
            time.sleep(0.25)
        elapsed = time.monotonic() - started
        # Solo pool: all work is in the one process (prefork children are not counted here).
        worker_cpu = _cpu_seconds(worker.pid) if args.concurrency == 1 else None
        bench_company = sandbox.store.token_info(demo.bench_token(1)).company_id
        _total, _n, stored = sandbox.store.vouchers(
            bench_company,
            date_from=today,
            date_to=date.fromordinal(today.toordinal() + 1),
            offset=0,
            limit=args.count * 2 + 10,
        )
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
        sandbox.stop()

    with scope(company=company):
        booked = Transaction.objects.filter(company=company, status="booked").count()
        numbers = set(
            Transaction.objects.filter(company=company).values_list(
                "external_voucher_number", flat=True
            )
        )
    ours = collections.Counter(
        v["externalVoucherNumber"] for v in stored if v["externalVoucherNumber"] in numbers
    )
    total_calls = sum(calls.values())
    out = sys.stdout.write
    database = env["DATABASE_URL"].split(":")[0]
    pool = "solo pool" if args.concurrency == 1 else f"prefork, {args.concurrency} processes"
    out(f"broker: {broker.split(':')[0]}, one worker ({pool}), database: {database}\n")
    out(f"booked: {booked} of {args.count}" + "\n")
    out(f"total seconds: {elapsed:.1f}  ({args.count / elapsed:.0f} bookings/s)" + "\n")
    if worker_cpu is not None:
        out(
            f"worker CPU seconds: {worker_cpu:.1f} (incl. start-up); load average: {os.getloadavg()[0]:.1f}\n"
        )
    out(f"Tripletex calls: {total_calls}  per booking: {total_calls / args.count:.3f}" + "\n")
    for key, n in calls.most_common():
        out(f"  {n:6d}  {key}" + "\n")
    duplicates = sum(1 for n in ours.values() if n > 1)
    out(
        f"vouchers in Tripletex with our numbers: {sum(ours.values())}, duplicates: {duplicates}"
        + "\n"
    )


if __name__ == "__main__":
    main()

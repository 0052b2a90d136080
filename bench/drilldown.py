# ruff: noqa: T201  (a benchmark prints its figures)
"""Drill-down page speed from stored postings, beside the live Tripletex call it replaced.

1. The postings page (`ledger.figures.views.postings`, `ledger.figures.drilldown`) of the holding
   company's busiest account-month, 200 requests in-process through Django's test Client, reading
   the postings the sync stored: p50/p95.
2. The old path: the same account-month's postings fetched live from the sandbox through
   `TripletexClient.postings` (a client made per request by `tripletex_client_for`, as the old
   page did), 200 times, with no added latency and with 50 ms added per call (the sync bench's
   stand-in for the network to Tripletex): p50/p95, and the ratio to the stored page.

Runs on PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/dynamik_bench_drilldown
(created if missing; the bench's tables are emptied first). Uses Redis for cache and sessions
when it answers on REDIS_URL. The sandbox runs in this process on 127.0.0.1. Prints figures,
asserts nothing on time. Run: `.venv/bin/python bench/drilldown.py [--requests 200]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync import ENV_DEFAULTS, _ensure_database, _reset_db  # noqa: E402
from tests.processes import redis_url_or_none  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_drilldown"
EMAIL = "bench-drilldown@dynamik.no"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _figures(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), _percentile(times, 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()

    db_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not db_url.startswith("postgres"):
        print(f"drill-down bench needs PostgreSQL; DATABASE_URL is {db_url.split(':', 1)[0]}")
        return
    var_dir = Path(tempfile.mkdtemp(prefix="bench-drilldown-"))
    env = {**ENV_DEFAULTS, **{k: v for k, v in os.environ.items() if k in ENV_DEFAULTS}}
    env.update(DATABASE_URL=db_url, DYNAMIK_VAR_DIR=str(var_dir))
    env["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    env.update(SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false")
    redis_url = redis_url_or_none()
    if redis_url:
        env["REDIS_URL"] = redis_url
    _ensure_database(db_url)

    from tripletex.sandbox import SandboxServer, demo

    sandbox = SandboxServer(var_dir / "sandbox.sqlite3", host="127.0.0.1", port=0).start()
    env["TRIPLETEX_BASE_URL"] = sandbox.base_url
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        _run(args, sandbox, demo)
    finally:
        sandbox.stop()


def _run(args, sandbox, demo) -> None:
    from django.db.models import Count
    from django.db.models.functions import TruncMonth
    from django.test import Client
    from django.utils import timezone
    from django_scopes import scope

    from companies.credentials import connection_set_own_key, tripletex_client_for
    from companies.models import Role, User
    from companies.services import company_create, membership_set
    from ledger.models import LedgerAccount, Posting, SyncRun
    from ledger.periods import month_next
    from ledger.sync.services import balances_sync, sync_request

    _reset_db()
    company = company_create(org_number=demo.HOLDING.org_number, name=demo.HOLDING.name)
    connection_set_own_key(company=company, token=demo.HOLDING_TOKEN, by=None)
    user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
        email=EMAIL, password="bench-password-0123456789"
    )
    membership_set(company=company, user=user, role=Role.ACCOUNTANT)
    with scope(company=company):
        run, _created = sync_request(company=company, trigger="command", enqueue=False)
        run = balances_sync(company=company, run=run)
        if run.status != SyncRun.Status.SUCCEEDED:
            print(f"drill-down bench: the sync did not succeed ({run.status}: {run.error})")
            return
        busiest = (
            Posting.objects.filter(company=company)
            .annotate(month=TruncMonth("date"))
            .values("account_number", "month")
            .annotate(n=Count("id"))
            .order_by("-n", "account_number", "month")
            .first()
        )
        number, month, count = busiest["account_number"], busiest["month"], busiest["n"]
        account_id = LedgerAccount.objects.get(company=company, number=number).tripletex_id

    client = Client()
    client.force_login(user)
    path = f"/c/{company.slug}/posteringer/{number}/{month.year}/{month.month}/"
    for _ in range(5):
        client.get(path)  # warm caches and connections
    stored: list[float] = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(path)
        stored.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            print(f"drill-down page: HTTP {response.status_code}")
            return

    def live(latency_ms: int, requests: int) -> list[float]:
        sandbox.faults.latency_ms = latency_ms
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            postings = tripletex_client_for(company).postings(
                date_from=month, date_to=month_next(month), account_id=account_id
            )
            times.append((time.perf_counter() - started) * 1000)
        assert len(postings) == count, (len(postings), count)  # the same data as the page
        sandbox.faults.latency_ms = 0
        return times

    live(0, 5)  # the session and connection, as the page was warmed up
    live_plain = live(0, args.requests)
    live_latency = live(args.latency_ms, args.requests)
    page = _figures(stored)
    print(
        f"drill-down, account {number} {month:%Y-%m} ({count} postings), {args.requests} requests "
        f"in-process from stored postings: p50 {page[0]:.1f} ms  p95 {page[1]:.1f} ms"
    )
    for label, times in (
        ("no added latency", live_plain),
        (f"{args.latency_ms} ms added latency", live_latency),
    ):
        p50, p95 = _figures(times)
        print(
            f"  the live call it replaced, TripletexClient.postings from the sandbox, {label}: "
            f"p50 {p50:.1f} ms  p95 {p95:.1f} ms  (p95 {p95 / page[1]:.2f}× the stored page's)"
        )
    print(
        "  (the stored page is the whole response, template and session included; the live figure "
        f"is the Tripletex call alone; {timezone.localdate()}, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()

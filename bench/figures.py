"""P&L page speed for a firm with 400 result accounts (+60 balance accounts) × 36 months of balances.

1. Server time in-process: Django's test Client, 200 requests of the P&L page (12 months with YTD,
   last year and variance; every account row rendered), p50/p95/max, plus the balance sheet; the
   same P&L compared with the budget (a budget for every account and month, issue 17), and with
   all 36 months as columns, each printed beside the plain P&L's p95 of the same run.
2. Under load: gunicorn on 127.0.0.1 (free port) with 20 concurrent keep-alive clients for a fixed
   number of requests each; requests/s, latency p50/p95 and errors.

Both run on PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/dynamik_bench_figures,
which the script creates, migrates and seeds (once; later runs reuse the data). Prints figures,
asserts nothing. Run: `.venv/bin/python bench/figures.py [--requests 200] [--per-client 25]`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_figures"
ORG_NUMBER = "999000400"
EMAIL = "bench-figures@dynamik.no"
ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA=",
    "TRIPLETEX_CONSUMER_TOKEN": "sandbox-consumer-token",
    "TRIPLETEX_BASE_URL": "http://127.0.0.1:9/v2",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_COOKIES": "false",
    "DYNAMIK_VAR_DIR": os.environ.get("DYNAMIK_VAR_DIR", "var/bench"),
}


def say(text: str) -> None:
    """Print a line of figures at once (the output is often a pipe)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (connects to the server's `postgres` db)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ.update(ENV)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _seed():  # type: ignore[no-untyped-def]
    """The bench company, its accountant and 36 months of balances (skipped when present)."""
    from django_scopes import scope

    from companies.models import Company, Role, User
    from companies.services import company_create, membership_set
    from ledger.models import AccountBalance, MonthSync
    from tests.ledger.figures_data import every_month, month, seed_changes

    company = Company.objects.filter(org_number=ORG_NUMBER).first()
    if company is None:
        company = company_create(org_number=ORG_NUMBER, name="Benk Holding AS")
    user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
        email=EMAIL, password="bench-password-0123456789"
    )
    membership_set(company=company, user=user, role=Role.ACCOUNTANT)
    with scope(company=company):
        seeded = AccountBalance.objects.filter(company=company).count() >= 400 * 36
        if seeded and MonthSync.objects.filter(company=company, balance_rows__gt=0).count() == 36:
            _seed_budget(company)
            return company, user
        AccountBalance.objects.filter(company=company).delete()
        from ledger.models import Budget, LedgerAccount

        Budget.objects.filter(company=company).delete()

        LedgerAccount.objects.filter(company=company).delete()
        result = [3000 + i * 15 for i in range(400)]  # 3000 … 8985
        balance = [1000 + i * 33 for i in range(60)]  # 1000 … 2947
        first, last = month(2023, 1), month(2025, 12)
        changes = {
            n: every_month(first, last, (n % 97 + 1) * 113 * (-1 if n < 4000 else 1))
            for n in result + balance
        }
        seed_changes(company, changes)
        _seed_budget(company)
    from django.db import connection

    with connection.cursor() as cursor:
        # What autovacuum does to a table after a large write, before any page is timed.
        cursor.execute("ANALYZE ledger_accountbalance, ledger_monthsync, ledger_ledgeraccount")
    return company, user


def _seed_budget(company) -> None:  # type: ignore[no-untyped-def]
    """A company-level budget for every result account and month (skipped when present)."""
    from django.utils import timezone

    from ledger.budgets.totals import budget_totals_refresh
    from ledger.models import Budget
    from tests.ledger.figures_data import every_month, month

    if Budget.objects.filter(company=company).count() >= 400 * 36:
        return
    Budget.objects.filter(company=company).delete()
    now = timezone.now()
    months = list(every_month(month(2023, 1), month(2025, 12), 0))
    Budget.objects.bulk_create(
        [
            Budget(
                company=company,
                account_number=n,
                month=m,
                amount=(n % 89 + 1) * 100 * (-1 if n < 4000 else 1),
                source=Budget.Source.UPLOAD,
                updated_at=now,
            )
            for n in (3000 + i * 15 for i in range(400))
            for m in months
        ],
        batch_size=5000,
    )
    # With the monthly totals the budget sync and the upload write beside the rows.
    budget_totals_refresh(company=company, start=months[0], end=month(2026, 1))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _in_process(company, user, n: int) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection, reset_queries
    from django.test import Client

    client = Client()
    client.force_login(user)
    slug = company.slug
    baseline: float | None = None
    for label, path in (
        ("P&L, 12 months", f"/c/{slug}/resultat/"),
        ("P&L, all groups open", f"/c/{slug}/resultat/?apne=alle"),
        ("P&L against budget", f"/c/{slug}/resultat/?mot=budsjett"),
        ("P&L, budget, all open", f"/c/{slug}/resultat/?mot=budsjett&apne=alle"),
        (
            "P&L 36 months, budget",
            f"/c/{slug}/resultat/?periode=egen&fom=2023-01&tom=2025-12&mot=budsjett",
        ),
        ("Balance sheet", f"/c/{slug}/balanse/"),
        ("Balance sheet by month", f"/c/{slug}/balanse/?periode=hittil&ar=2025&mnd=12"),
        ("Key figures", f"/c/{slug}/nokkeltall/"),
        ("P&L as XLSX", f"/c/{slug}/resultat/excel/"),
    ):
        for _ in range(5):
            client.get(path)  # warm caches and connections
        times, cpu = [], []
        size = 0
        for _ in range(n):
            reset_queries()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            # CPU time of this process: what the page costs when the machine is busy elsewhere.
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert_ok = response.status_code == 200
            size = len(response.content)
            if not assert_ok:
                say(f"  {label}: HTTP {response.status_code}")
                break
        p95 = _percentile(times, 95)
        baseline = p95 if baseline is None else baseline
        beside = "" if p95 == baseline else f"  (P&L, 12 months p95 {baseline:.1f} ms)"
        say(
            f"{label:24} {n} requests in-process: p50 {statistics.median(times):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {max(times):6.1f} ms  "
            f"CPU p50 {statistics.median(cpu):5.1f} ms p95 {_percentile(cpu, 95):5.1f} ms  "
            f"({size / 1024:.0f} KiB){beside}"
        )
    del connection


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _session_cookie(user) -> str:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _under_load(company, user, url: str, clients: int, per_client: int, workers: int) -> None:  # type: ignore[no-untyped-def]
    import requests

    port = _free_port()
    env = {**os.environ, **ENV, "DATABASE_URL": url}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "dynamik.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "critical",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/konto/logg-inn/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        cookie = _session_cookie(user)
        path = f"{base}/c/{company.slug}/resultat/"
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def run() -> None:
            with requests.Session() as http:
                http.cookies.set("sessionid", cookie)
                for _ in range(per_client):
                    start = time.perf_counter()
                    try:
                        response = http.get(path, timeout=30, allow_redirects=False)
                        ok = response.status_code == 200
                        problem = "" if ok else f"HTTP {response.status_code}"
                    except requests.RequestException as exc:
                        problem = type(exc).__name__
                    elapsed = (time.perf_counter() - start) * 1000
                    with lock:
                        latencies.append(elapsed)
                        if problem:
                            errors.append(problem)

        threads = [threading.Thread(target=run) for _ in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        total = len(latencies)
        say(
            f"gunicorn ({workers} workers), {clients} concurrent clients, {total} requests: "
            f"{total / wall:.1f} req/s  p50 {statistics.median(latencies):.0f} ms  "
            f"p95 {_percentile(latencies, 95):.0f} ms  errors {len(errors)}"
            + (f" ({sorted(set(errors))})" if errors else "")
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn run")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or BENCH_DB
    if not url.startswith("postgres"):
        say(f"figures bench needs PostgreSQL; DATABASE_URL is {url.split(':', 1)[0]}")
        return
    try:
        _ensure_database(url)
    except Exception as exc:  # noqa: BLE001 - report and skip, a benchmark never fails the suite
        say(f"PostgreSQL not reachable ({type(exc).__name__}); figures bench skipped")
        return
    _setup(url)
    from django.utils import timezone

    started = time.perf_counter()
    company, user = _seed()
    say(
        f"Seeded/checked {company.name}: 400 result + 60 balance accounts × 36 months "
        f"in {time.perf_counter() - started:.1f} s ({timezone.localdate()})"
    )
    say(_load())
    if not args.skip_in_process:
        _in_process(company, user, args.requests)
        say(_load())
    if not args.skip_load:
        _under_load(company, user, url, args.clients, args.per_client, args.workers)
        say(_load())


if __name__ == "__main__":
    main()

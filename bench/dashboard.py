"""Office dashboard speed for an accounting office with 200 firms (goal: p95 ≤ 300 ms in-process).

Each firm has two fiscal years of monthly balances (40 result and 12 balance accounts × 24 months,
the months up to today), a company-level budget (40 accounts × 12 months), three sync runs, a few
transactions and a report pack; one finance user is a member
of all of them. Django's test Client requests `/kontor/` 100 times in-process (after 5 warm-ups)
and prints p50/p95/max and the number of queries per page (the same for 3 firms and 200,
tests/ledger/test_dashboard.py).

PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/dynamik_bench_dashboard, which
the script creates, migrates and seeds once (later runs reuse the data). Prints figures, asserts
nothing. Run: `.venv/bin/python bench/dashboard.py [--requests 100] [--firms 200]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import ENV, _ensure_database, _percentile, say  # noqa: E402

BENCH_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_dashboard"
EMAIL = "bench-dashboard@dynamik.no"
RESULT_ACCOUNTS = [3000 + i * 100 for i in range(40)]  # 3000 … 6900
BALANCE_ACCOUNTS = [1500, 1700, 1920, 1950, 2000, 2050, 2400, 2600, 2740, 2770, 2800, 2900]


def _setup(url: str) -> None:
    os.environ.update(ENV)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _seed(firms: int):  # type: ignore[no-untyped-def]
    """The office's user and `firms` firms with figures (skipped when already there)."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone
    from django_scopes import scopes_disabled

    from companies.models import Membership, Role, User
    from companies.services import company_create
    from ledger.budgets.totals import budget_totals_refresh
    from ledger.models import AccountBalance, Budget, MonthSync, ReportPack, SyncRun, Transaction
    from ledger.periods import add_months, month_start, today_local
    from ledger.sync.month_replace import month_totals
    from tripletex.sandbox.store import bench_org_number

    user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
        email=EMAIL, password="bench-password-0123456789"
    )
    have = Membership.objects.filter(user=user).count()
    current = month_start(today_local())
    first = datetime.date(current.year - 1, 1, 1)
    months = [add_months(first, i) for i in range(24) if add_months(first, i) <= current]
    now = timezone.now()
    with scopes_disabled():
        for n in range(have, firms):
            company = company_create(
                org_number=bench_org_number(5000 + n), name=f"Kontor {n:03d} AS"
            )
            Membership.objects.create(user=user, company=company, role=Role.FINANCE)
            balances = [
                AccountBalance(
                    company=company,
                    account_number=number,
                    month=m,
                    balance_in=Decimal(0),
                    balance_change=Decimal((number % 700 + n) * (-3 if number < 4000 else 1)),
                    balance_out=Decimal((number % 700 + n) * (-3 if number < 4000 else 1)),
                    synced_at=now,
                )
                for m in months
                for number in RESULT_ACCOUNTS + BALANCE_ACCOUNTS
            ]
            AccountBalance.objects.bulk_create(balances, batch_size=2000)
            # With the totals the sync stores beside the rows (`month_replace.month_totals`).
            MonthSync.objects.bulk_create(
                MonthSync(
                    company=company,
                    month=m,
                    synced_at=now,
                    balance_rows=52,
                    result_rows=40,
                    **month_totals(
                        [
                            (b.account_number, b.balance_in, b.balance_change, b.balance_out)
                            for b in balances
                            if b.month == m
                        ]
                    ),
                )
                for m in months
            )
            Budget.objects.bulk_create(
                Budget(
                    company=company,
                    account_number=number,
                    month=m,
                    amount=Decimal((number % 650 + n) * (-3 if number < 4000 else 1)),
                    source=Budget.Source.UPLOAD,
                    updated_at=now,
                )
                for m in months[-12:]
                for number in RESULT_ACCOUNTS
            )
            budget_totals_refresh(company=company, start=months[-12], end=add_months(current, 1))
            for status in ("succeeded", "succeeded", "failed" if n % 7 == 0 else "succeeded"):
                SyncRun.objects.create(
                    company=company, trigger="schedule", status=status, finished_at=now
                )
            for k in range(3):
                Transaction.objects.create(
                    company=company,
                    kind="fee",
                    trade_date=current,
                    amount=Decimal("100.00"),
                    status=("ready", "failed", "booked")[k],
                    description=f"Bench {n}-{k}",
                )
            ReportPack.objects.create(company=company, month=months[-2], status="done")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE ledger_accountbalance, ledger_budget, ledger_monthsync, ledger_budgettotal"
        )
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--firms", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or BENCH_DB
    if url == BENCH_DB:
        _ensure_database(url)
    _setup(url)
    started = time.perf_counter()
    user = _seed(args.firms)
    say(f"Seeded/checked {args.firms} firms in {time.perf_counter() - started:.1f} s")

    from django.db import connection

    from ledger.dashboard.selectors import office_dashboard
    from tests.mfa import MfaClient

    client = MfaClient()  # finance users log in with two steps; this finishes the second
    client.force_login(user)
    for _ in range(5):
        client.get("/kontor/")
    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        office_dashboard(user=user)
    response = client.get("/kontor/?sort=-result")
    rows = response.content.decode().count('data-testid="dashboard-row"')
    times, cpu = [], []
    for _ in range(args.requests):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get("/kontor/?sort=-result")
        times.append((time.perf_counter() - start) * 1000)
        # This process's CPU time: the Python side of the page, whatever else the machine runs.
        cpu.append((time.process_time() - start_cpu) * 1000)
        if response.status_code != 200:
            say(f"HTTP {response.status_code}")
            return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    say(
        f"Office dashboard, {rows} firms, {args.requests} requests in-process: "
        f"p50 {statistics.median(times):6.1f} ms  p95 {_percentile(times, 95):6.1f} ms  "
        f"max {max(times):6.1f} ms  CPU p50 {statistics.median(cpu):5.1f} ms "
        f"p95 {_percentile(cpu, 95):5.1f} ms  ({len(queries)} queries for the rows, "
        f"{len(response.content) / 1024:.0f} KiB; load average {load:.1f}; goal p95 ≤ 300 ms)"
    )


if __name__ == "__main__":
    main()

"""Report pack speed and memory: one firm's PDF, and a batch of 50 firms for one month.

Each firm is a holding company's year and a quarter of books: 45 result accounts and 15 balance
accounts × 15 months (January of last year through March), a budget for this year's months, and
the accountant's comments. Measured in-process, through the same service the Celery task runs
(`ledger.packs.services.pack_generate`, PDF stored in the database):

1. one pack: wall seconds (best and median of 5), and the peak of Python allocations while making
   it (tracemalloc, a separate run since tracing slows it);
2. a batch of 50: `batch_start` for every firm of one office with Celery eager (the packs are made
   one after another in this process, as one worker would), wall seconds in all and per pack, and
   the process's maximum resident size (ru_maxrss) at the end (not traced: tracemalloc slows
   WeasyPrint several times over).

Runs on PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/dynamik_bench_pack
(created if missing; the bench's firms are made again each run). Prints figures, asserts nothing.
Run: `.venv/bin/python bench/report_pack.py [--firms 50]`, or `scripts/run-bench bench/report_pack.py`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.figures import ENV, _ensure_database, say  # noqa: E402

if TYPE_CHECKING:
    from companies.models import Company, OfficeKey, User

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/dynamik_bench_pack"
EMAIL = "bench-pack@dynamik.no"


def _setup(url: str) -> None:
    os.environ.update(ENV)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _books(seed: int) -> dict[int, dict]:
    """15 months of a holding company's accounts, balanced each month by the bank (1920)."""
    import datetime

    months = [datetime.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(15)]
    changes: dict[int, dict] = {}
    results = [3000 + 10 * i for i in range(5)] + [6000 + 20 * i for i in range(30)]
    results += [8000 + 10 * i for i in range(10)]
    for k, number in enumerate(results):
        sign = -1 if number < 4000 or 8000 <= number < 8100 else 1
        changes[number] = {
            m: Decimal(sign * (1000 + 37 * k + seed + i)) for i, m in enumerate(months)
        }
    for k, number in enumerate([1300, 1310, 1560, 1810, 1830, 2000, 2020, 2050, 2400, 2920]):
        sign = 1 if number < 2000 else -1
        changes[number] = {m: Decimal(sign * (500 + 11 * k + i)) for i, m in enumerate(months)}
    changes[1920] = {
        m: -sum((by.get(m, Decimal(0)) for by in changes.values()), Decimal(0)) for m in months
    }
    return changes


def _seed(firms: int) -> tuple[User, OfficeKey, list[Company]]:
    import datetime

    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from companies.credentials import connection_set_office_key, office_key_set
    from companies.models import Company, OfficeKey, Role, User
    from companies.services import company_create, membership_set
    from ledger.budgets.totals import budget_totals_refresh
    from ledger.models import Budget, ReportComment
    from tests.ledger.figures_data import seed_changes

    with scopes_disabled():
        Company.objects.filter(org_number__startswith="9990005").delete()
        User.objects.filter(email=EMAIL).delete()
        OfficeKey.objects.filter(name="Bench-kontoret").delete()
    user = User.objects.create_user(email=EMAIL, password="bench-only-password-42")
    office = office_key_set(
        office_key=None, name="Bench-kontoret", token="bench-office-token", by=None
    )
    made = []
    for i in range(firms):
        with transaction.atomic():
            firm = company_create(org_number=f"9990005{i:02d}", name=f"Bench Holding {i:02d} AS")
            connection_set_office_key(
                company=firm, office_key=office, client_company_id=10_000 + i, by=None
            )
            membership_set(company=firm, user=user, role=Role.ACCOUNTANT)
            with scope(company=firm):
                seed_changes(firm, _books(i))
                now = timezone.now()
                Budget.objects.bulk_create(
                    [
                        Budget(
                            company=firm,
                            account_number=n,
                            month=datetime.date(2026, m, 1),
                            amount=Decimal(-1100 if n < 4000 else 900),
                            source="upload",
                            updated_at=now,
                        )
                        for n in (3000, 3010, 6000, 6020)
                        for m in (1, 2, 3)
                    ]
                )
                budget_totals_refresh(
                    company=firm, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 4, 1)
                )
                ReportComment.objects.create(
                    company=firm,
                    month=datetime.date(2026, 3, 1),
                    section="summary",
                    text="Kvartalet gikk som budsjettert. " * 5,
                )
        made.append(firm)
    return user, office, made


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--firms", type=int, default=50)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not url.startswith("postgres"):
        say(f"report pack bench needs PostgreSQL; DATABASE_URL is {url.split(':', 1)[0]}")
        return
    _ensure_database(url)
    _setup(url)
    import datetime
    import logging

    from celery import current_app
    from django_scopes import scope, scopes_disabled

    from ledger.models import ReportPack
    from ledger.packs.services import batch_start, pack_generate

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    user, office, firms = _seed(args.firms)
    month = datetime.date(2026, 3, 1)
    first = firms[0]

    def one() -> tuple[float, ReportPack]:
        with scope(company=first):
            pack = ReportPack.objects.create(company=first, month=month)
            start = time.perf_counter()
            outcome = pack_generate(company=first, pack_id=pack.pk)
            elapsed = time.perf_counter() - start
            pack.refresh_from_db()
        assert outcome == "done", pack.error
        return elapsed, pack

    one()  # warm up: templates, fonts, translations
    times = []
    for _ in range(5):
        elapsed, pack = one()
        times.append(elapsed)
    tracemalloc.start()
    one()
    _, peak_one = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    say(
        f"one report pack ({pack.pages} pages, {pack.size / 1024:.0f} kB): best "
        f"{min(times):.2f} s, median {statistics.median(times):.2f} s; "
        f"traced peak {peak_one / 2**20:.1f} MiB"
    )

    current_app.conf.task_always_eager = True
    start = time.perf_counter()
    batch = batch_start(user=user, office=office, label="Bench-kontoret", month=month)
    elapsed = time.perf_counter() - start
    with scopes_disabled():
        done = ReportPack.objects.filter(batch=batch, status=ReportPack.Status.DONE).count()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(
        f"batch of {batch.total} report packs: {elapsed:.1f} s in all, "
        f"{elapsed / batch.total:.2f} s per pack, {done} ready; process max RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()

"""Broker file import: a Nordnet export of 1,000 / 5,000 / 10,000 rows into a firm that already
has 5,000 transactions, side by side.

For each size a fresh firm gets 5,000 earlier purchases (50 instruments) and a Nordnet account,
then the file (UTF-16 LE with BOM, TAB, the 30-column layout, as Nordnet sends it; 55 %
purchases, 20 % sales of what is held, 10 % dividends, 10 % fees, 5 % deposits) is imported
twice through ledger/imports/service.py `file_import`: once as a preview (detect, parse, dedupe,
check; nothing saved) and once saved (every check, then the rows saved as ready in bulk, as the
inbox's acceptance saves them). Prints the wall time of both, the peak Python memory of each
(tracemalloc, in a separate run so the timing is not slowed by it) and the process's peak
resident size, and the time per row, so growth with the rows shows at a glance. Goal: 10,000
rows under 10 s and 300 MB, growing linearly.

A fresh app database (SQLite; BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> to use
PostgreSQL, which is dropped and created first).

Run: `.venv/bin/python bench/broker_import.py [--sizes 1000,5000,10000] [--earlier 5000]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = (
    "Id\tBokføringsdag\tHandelsdag\tOppgjørsdag\tPortefølje\tTransaksjonstype\tVerdipapir\tISIN\t"
    "Antall\tKurs\tRente\tTotale Avgifter\tValuta\tBeløp\tValuta\tKjøpsverdi\tValuta\tResultat\t"
    "Valuta\tTotalt antall\tSaldo\tVekslingskurs\tTransaksjonstekst\tMakuleringsdato\t"
    "Sluttseddelnummer\tVerifikationsnummer\tKurtasje\tValuta\tValutakurs\tInnledende rente"
)


def _database_url(workdir: Path) -> str:
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


def _isin(n: int) -> str:
    from stdnum import isin

    body = f"NO{n:09d}"
    return body + isin.calc_check_digit(body)


def _money(value: int) -> str:
    """Øre → '-1 234,50' as Nordnet writes it."""
    sign = "-" if value < 0 else ""
    kroner, ore = divmod(abs(value), 100)
    return f"{sign}{kroner:,}".replace(",", "\u00a0") + f",{ore:02d}"


def nordnet_file(rows: int, portfolio: str) -> bytes:
    """A Nordnet export of `rows` rows in 2026, Saldo kept consistent."""
    lines = [HEADER]
    saldo = 0
    for i in range(rows):
        day = f"2026-{1 + (i * 12) // rows:02d}-{1 + (i % 28):02d}"
        instrument = i % 50
        name, isin = f"Aksje {instrument}", _isin(instrument)
        slot = i % 20
        fees = 0
        if slot < 11:
            kind, qty, price, fees = "KJØPT", 10, 10_000 + instrument * 10, 2_900
            amount = -(qty * price + fees)
        elif slot < 15:
            kind, qty, price, fees = "SALG", -1, 12_000, 900
            amount = -qty * price - fees
        elif slot < 17:
            kind, qty, price = "UTBYTTE", 100, 250
            amount = qty * price
        elif slot < 19:
            kind, qty, price, amount, name, isin = "AVGIFT", 0, 0, -4_900, "", ""
        else:
            kind, qty, price, amount, name, isin = "INNSKUDD", 0, 0, 5_000_000, "", ""
        saldo += amount
        cells = [
            str(100_000 + i), day, day, day, portfolio, kind, name, isin,
            str(qty) if qty else "", _money(price) if price else "", "",
            _money(fees) if fees else "", "NOK" if fees else "", _money(amount), "NOK", "",
            "NOK" if name else "", "", "", "", _money(saldo), "", "", "", f"SN{i}", "", "", "",
            "", "",
        ]  # fmt: skip
        lines.append("\t".join(cells))
    return b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")


def _firm(index: int, earlier: int) -> tuple[Any, Any]:
    from datetime import date, timedelta
    from decimal import Decimal

    from django_scopes import scope

    from companies.services import company_create
    from ledger.models import BrokerAccount, Transaction

    company = company_create(org_number=f"{910000000 + index}", name=f"Bench Import {index} AS")
    with scope(company=company):
        account = BrokerAccount.objects.create(
            company=company, broker="nordnet", number=f"{50_000_000 + index}", cash_account=1921
        )
        rows = []
        for i in range(earlier):
            instrument = i % 50
            rows.append(
                Transaction(
                    company=company,
                    kind="purchase",
                    status="ready",
                    trade_date=date(2025, 1, 1) + timedelta(days=i % 360),
                    instrument_name=f"Aksje {instrument}",
                    isin=_isin(instrument),
                    quantity=Decimal(100),
                    amount=Decimal("10000.00"),
                    external_voucher_number=f"BENCH-{index}-{i}",
                )
            )
        Transaction.objects.bulk_create(rows, batch_size=1000)
    return company, account


def _run(company: Any, content: bytes, *, save: bool, trace: bool) -> tuple[float, int, Any]:
    from django.db import transaction
    from django_scopes import scope

    from ledger.imports.service import file_import

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with scope(company=company):
        if save:
            result = file_import(company=company, content=content, by=None)
        else:
            with transaction.atomic():
                result = file_import(company=company, content=content, by=None, save=False)
    elapsed = time.perf_counter() - started
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak, result


def _run_inbox(company: Any, content: bytes, *, trace: bool) -> tuple[float, float, int, int, Any]:
    """The same file through the inbox (ledger/imports/inbox.py): upload, check and the batch page's
    first page (the time to the preview), then acceptance (the batch checked again, then saved).
    Returns both times, both peaks (0 untraced) and what acceptance did."""
    from django_scopes import scope

    from ledger.imports.inbox import batch_accept, inbox_upload
    from ledger.imports.inbox_pages import batch_page

    peaks = []
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with scope(company=company):
        upload = inbox_upload(company=company, content=content, file_name="bench.csv", by=None)
        assert upload.batch is not None, upload.errors
        batch_page(company=company, batch=upload.batch, page="1")
    preview_s = time.perf_counter() - started
    if trace:
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.reset_peak()
    started = time.perf_counter()
    with scope(company=company):
        accepted = batch_accept(company=company, batch=upload.batch, by=None)
    accept_s = time.perf_counter() - started
    if trace:
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    preview_peak, accept_peak = peaks or [0, 0]
    return preview_s, accept_s, preview_peak, accept_peak, accepted


def _inbox_table(sizes: list[int], earlier: int, first_index: int) -> None:
    """The inbox's figures for each size, on fresh firms (a timed one and a traced twin)."""
    print(
        f"inbox: {'rows':>7} {'preview s':>10} {'accept s':>9} {'ms/row':>7} "
        f"{'preview MB':>11} {'accept MB':>10} {'max RSS MB':>11}  result"
    )
    for n, size in enumerate(sizes):
        company, account = _firm(first_index + 2 * n, earlier)
        preview_s, accept_s, _p, _a, accepted = _run_inbox(
            company, nordnet_file(size, account.number), trace=False
        )
        twin, twin_account = _firm(first_index + 2 * n + 1, earlier)
        _ps, _as, preview_peak, accept_peak, _r = _run_inbox(
            twin, nordnet_file(size, twin_account.number), trace=True
        )
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        outcome = f"{accepted.created:,} accepted" if accepted.ok else accepted.refused
        print(
            f"       {size:>7,} {preview_s:>10.2f} {accept_s:>9.2f} "
            f"{1000 * (preview_s + accept_s) / size:>7.2f} {preview_peak / 1e6:>11.1f} "
            f"{accept_peak / 1e6:>10.1f} {rss_mb:>11.0f}  {outcome}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--earlier", type=int, default=5000)
    parser.add_argument(
        "--only",
        choices=("direct", "inbox"),
        default="",
        help="Only the direct import or the inbox.",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="dynamik-bench-import-"))
    (workdir / "var").mkdir()
    os.environ.update(
        {
            "DEBUG": "true",
            "DYNAMIK_VAR_DIR": str(workdir / "var"),
            "DATABASE_URL": _database_url(workdir),
            "REDIS_URL": "",
            "CACHE_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; {args.earlier:,} earlier transactions per firm")
    print(
        f"{'rows':>7} {'file MB':>8} {'preview s':>10} {'save s':>8} {'ms/row':>7} "
        f"{'preview MB':>11} {'save MB':>8} {'max RSS MB':>11}  result"
    )
    for n, size in enumerate(sizes if args.only != "inbox" else []):
        company, account = _firm(2 * n, args.earlier)
        content = nordnet_file(size, account.number)
        preview_s, _peak, preview = _run(company, content, save=False, trace=False)
        save_s, _peak, saved = _run(company, content, save=True, trace=False)
        # The memory run on a second firm, so it imports the same rows from scratch.
        twin, twin_account = _firm(2 * n + 1, args.earlier)
        twin_content = nordnet_file(size, twin_account.number)
        _t, preview_peak, _r = _run(twin, twin_content, save=False, trace=True)
        _t, save_peak, _r = _run(twin, twin_content, save=True, trace=True)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        outcome = f"{len(saved.created):,} saved" if saved.ok else f"errors: {saved.errors[:2]}"
        print(
            f"{size:>7,} {len(content) / 1e6:>8.1f} {preview_s:>10.2f} {save_s:>8.2f} "
            f"{1000 * (preview_s + save_s) / size:>7.2f} {preview_peak / 1e6:>11.1f} "
            f"{save_peak / 1e6:>8.1f} {rss_mb:>11.0f}  {outcome}",
            flush=True,
        )
        assert preview.ok, preview.errors
    if args.only != "direct":
        _inbox_table(sizes, args.earlier, first_index=2 * len(sizes))


if __name__ == "__main__":
    main()

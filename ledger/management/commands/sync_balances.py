"""`manage.py sync_balances [ORGNR ...] [--all] [--year YYYY] [--month YYYY-MM] [--force]`.

Syncs synchronously (no worker) and prints per company: months pulled, rows, calls, duration,
status, and after a run of all months the budgets pulled per fiscal year (`ledger.budgets.sync`).
Exits non-zero when any company failed.
"""

import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scope, scopes_disabled

from companies.models import Company
from ledger.budgets.sync import budgets_sync
from ledger.models import SyncRun
from ledger.periods import month_parse
from ledger.sync.services import (
    BUDGET_KINDS,
    SyncRetryLater,
    balances_sync,
    balances_sync_give_up,
    sync_request,
)


class Command(BaseCommand):
    help = "Sync figures from Tripletex now, company by company, and print what each run did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_numbers", nargs="*", metavar="ORGNR")
        parser.add_argument("--all", action="store_true", help="every connected company")
        parser.add_argument("--year", type=int, help="only this fiscal year (YYYY)")
        parser.add_argument("--month", help="only this month (YYYY-MM)")
        parser.add_argument("--force", action="store_true", help="re-pull closed months too")

    def handle(self, *args: Any, **options: Any) -> None:
        month = self._month(options["month"])
        companies = self._companies(options["org_numbers"], options["all"])
        failed = 0
        for company in companies:
            status = self._sync_one(company, month, options["year"], options["force"])
            failed += status == SyncRun.Status.FAILED
        if failed:
            raise CommandError(f"{failed} of {len(companies)} companies failed.")

    def _month(self, value: str | None) -> datetime.date | None:
        if not value:
            return None
        try:
            return month_parse(value)
        except ValueError:
            raise CommandError(f"--month must look like 2026-03, not {value!r}.") from None

    def _companies(self, org_numbers: list[str], everyone: bool) -> list[Company]:
        if not org_numbers and not everyone:
            raise CommandError("Name companies by organisation number, or pass --all.")
        with scopes_disabled():
            if everyone:
                return list(Company.objects.filter(tripletex__isnull=False).order_by("name"))
            wanted = [n.replace(" ", "") for n in org_numbers]
            found = {c.org_number: c for c in Company.objects.filter(org_number__in=wanted)}
        missing = [n for n in wanted if n not in found]
        if missing:
            raise CommandError(f"No company with organisation number {', '.join(missing)}.")
        return [found[n] for n in wanted]

    def _sync_one(
        self, company: Company, month: datetime.date | None, year: int | None, force: bool
    ) -> str:
        started = time.monotonic()
        with scope(company=company):
            run, created = sync_request(
                company=company,
                trigger=SyncRun.Trigger.COMMAND,
                only_month=month,
                enqueue=False,
            )
            if not created:
                self.stdout.write(f"{company.org_number} {company.name}: already syncing, skipped")
                return "busy"
            try:
                run = balances_sync(company=company, run=run, year=year, force=force)
            except SyncRetryLater as exc:
                run = balances_sync_give_up(run=exc.run, error=exc.error)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{company.org_number} {company.name}: months {run.months_done} "
            f"(skipped {run.months_skipped}), rows {run.rows_written}, "
            f"calls {run.tripletex_calls}, {seconds:.1f} s, {run.status}"
            + (f" — {run.error}" if run.error else "")
        )
        if run.kind in BUDGET_KINDS and run.status != SyncRun.Status.FAILED:
            counts = budgets_sync(company=company)
            rows = ", ".join(f"{label} {n if n >= 0 else 'failed'}" for label, n in counts.items())
            self.stdout.write(f"{company.org_number} {company.name}: budget rows {rows}")
        return run.status

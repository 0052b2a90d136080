"""manage.py book_transactions [ORGNR ...] [--all] — book ready transactions now, one line each.

Runs the same protocol as the Celery task (claim, look up, post, look up after unclear answers),
so it is safe to run any number of times, also while workers run."""

import time
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scope, scopes_disabled

from companies.models import Company
from ledger.booking.protocol import BookingRetry, booking_queue, booking_run
from ledger.models import Transaction

MAX_WAIT_ROUNDS = 5


class Command(BaseCommand):
    help = "Book every ready (or queued) transaction of the given companies to Tripletex now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_numbers", nargs="*", help="Organisation numbers.")
        parser.add_argument("--all", action="store_true", help="Every company with a connection.")

    def handle(self, *args: Any, org_numbers: list[str], all: bool, **options: Any) -> None:
        if all:
            companies = list(Company.objects.filter(tripletex__isnull=False).order_by("name"))
        elif org_numbers:
            wanted = [n.replace(" ", "") for n in org_numbers]
            companies = list(Company.objects.filter(org_number__in=wanted).order_by("name"))
            missing = set(wanted) - {c.org_number for c in companies}
            if missing:
                raise CommandError(f"Unknown organisation number(s): {', '.join(sorted(missing))}")
        else:
            raise CommandError("Give one or more organisation numbers, or --all.")
        totals: dict[str, int] = {}
        for company in companies:
            with scope(company=company):
                for outcome in self._book_company(company):
                    totals[outcome] = totals.get(outcome, 0) + 1
        summary = (
            ", ".join(f"{n} {word}" for word, n in sorted(totals.items())) or "nothing to book"
        )
        self.stdout.write(f"Done: {summary}.")

    def _book_company(self, company: Company) -> Iterator[str]:
        ready = Transaction.objects.filter(company=company, status=Transaction.Status.READY)
        booking_queue(
            company=company,
            transaction_ids=list(ready.values_list("pk", flat=True)),
            enqueue=False,
        )
        queued = Transaction.objects.filter(company=company, status=Transaction.Status.QUEUED)
        for pk in queued.order_by("trade_date", "pk").values_list("pk", flat=True):
            outcome = self._book_one(company, pk)
            with scopes_disabled():
                txn = Transaction.objects.get(pk=pk)
            voucher = (
                f" voucher {txn.voucher_number}/{txn.voucher_year}"
                if txn.voucher_number
                else f" awaiting approval in Tripletex, temporary number {txn.voucher_temp_number}"
                if txn.is_awaiting_approval
                else ""
            )
            note = f" — {' '.join(txn.messages)}" if txn.messages and outcome != "booked" else ""
            self.stdout.write(
                f"{company.org_number} {txn.external_voucher_number} {txn.trade_date} "
                f"{txn.kind} {txn.amount or ''}: {outcome}{voucher}{note}"
            )
            yield outcome

    def _book_one(self, company: Company, pk: int) -> str:
        for _round in range(MAX_WAIT_ROUNDS):
            try:
                return booking_run(company=company, transaction_id=pk)
            except BookingRetry as exc:
                time.sleep(min(exc.countdown, 30))
        return "queued (will retry)"

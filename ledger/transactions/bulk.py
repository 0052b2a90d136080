"""Saving many transactions as ready at once: a file's rows (the CSV import, a broker file imported
directly) and an accepted inbox batch.

transaction_create saves one row in about a dozen statements (its checks read the chart, the
periods and the GL settings again, then an insert, an update for the external voucher number and
the journal lines); a file of 10,000 rows paid that 10,000 times. Here the same checks
(`transaction_check`) run per row in memory against the chart, periods and GL settings read once,
and the rows are written in a few statements whatever their number: one bulk insert per `BULK`
rows, one update that gives every row its external voucher number, one bulk insert of the journal
lines. What is stored is what transaction_create stores: status ready, `created_by`, the external
voucher number of booking round 1 ("DYN-<company>-<pk>"), the lines numbered from 1. A ready row
holds no lot (ledger/holdings/services.py: lots are written when a row is queued), so saving
writes none; FIFO is the caller's one walk over the whole file (`fifo_verdict`), made before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from companies.models import Company, User
from ledger.models import JournalLine, Transaction
from ledger.transactions.checks import Reference, reference_stored
from ledger.transactions.services import (
    TransactionInvalid,
    journal_lines_unsaved,
    transaction_check,
)
from ledger.transactions.vouchers import gl_settings_get

# Rows are written in batches of this many (PostgreSQL and SQLite both take it in one statement).
BULK = 500


@dataclass
class NewTransaction:
    """One row to save: the unsaved transaction with every field set (transaction_unsaved and the
    caller's own fields), the values it was built from (the columns checked), its journal lines
    (None for a securities transaction)."""

    txn: Transaction
    data: dict[str, Any]
    lines: list[dict[str, Any]] | None = None


def transactions_check_many(
    *, company: Company, rows: list[NewTransaction], reference: Reference | None = None
) -> dict[int, list[str]]:
    """{index in rows: problems} of the rows transaction_create would refuse (its own checks,
    `transaction_check`; FIFO excepted: the caller walked the whole file); {} when every row can
    be saved. `reference`: the chart and periods to check against (checks.reference_load);
    without it, the stored rows."""
    ref = reference if reference is not None else reference_stored(company=company)
    gl = gl_settings_get(company=company)
    problems: dict[int, list[str]] = {}
    for index, row in enumerate(rows):
        try:
            transaction_check(
                company=company,
                txn=row.txn,
                data=row.data,
                lines=row.lines,
                reference=ref,
                gl=gl,
                fifo=False,
            )
        except TransactionInvalid as exc:
            problems[index] = exc.messages
    return problems


@transaction.atomic
def transactions_save_ready(
    *, company: Company, rows: list[NewTransaction], by: User | None
) -> list[Transaction]:
    """Write checked rows as ready transactions, in the list's order, with their external voucher
    numbers and journal lines (module docstring); the saved transactions."""
    user = by if by is not None and by.pk else None
    txns = []
    for row in rows:
        row.txn.created_by, row.txn.status = user, Transaction.Status.READY
        txns.append(row.txn)
    Transaction.objects.bulk_create(txns, batch_size=BULK)
    # external_number_for_round(1), "DYN-<company>-<pk>", for all of them in one statement.
    Transaction.objects.filter(company=company, pk__in=[txn.pk for txn in txns]).update(
        external_voucher_number=Concat(
            Value(f"DYN-{company.pk}-"), Cast("pk", output_field=CharField())
        )
    )
    journal = []
    for row in rows:
        row.txn.external_voucher_number = row.txn.external_number_for_round(1)
        if row.txn.kind == Transaction.Kind.JOURNAL:
            for line in journal_lines_unsaved(company, row.lines or []):
                line.transaction = row.txn
                journal.append(line)
    JournalLine.objects.bulk_create(journal, batch_size=BULK)
    return txns

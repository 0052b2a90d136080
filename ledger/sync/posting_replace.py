"""Replace a company's stored postings of one period atomically (the vendor-specific part).

A period [date_from, date_to) holds exactly the postings given afterwards: postings Tripletex no
longer has in it are dropped, the others inserted or updated by their Tripletex id (a posting
whose date moved into the period from another is moved). On PostgreSQL one statement does it
(REPLACE_POSTINGS_SQL, atomic on its own, arrays instead of eleven parameters per row); elsewhere
(SQLite, what `make run` uses) a bulk upsert and a chunked delete inside one transaction. Callers
that derive the period's monthly balances from the postings wrap both in one transaction, so the
period's postings and its balances are always of the same pull, as `month_replace` does for a
month.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django.db import connection, transaction

from companies.models import Company
from ledger.models import Posting
from ledger.sync.month_replace import BATCH
from tripletex.schemas import Posting as ApiPosting

# Ids per DELETE on SQLite, well under its limit of bound parameters per statement.
DELETE_CHUNK = 500

REPLACE_POSTINGS_SQL = """
WITH dropped AS (
    DELETE FROM ledger_posting
    WHERE company_id = %(company)s AND date >= %(date_from)s AND date < %(date_to)s
      AND NOT (tripletex_id = ANY(%(ids)s::bigint[]))
    RETURNING 1
), written AS (
    INSERT INTO ledger_posting
        (company_id, tripletex_id, date, account_number, amount, description, department_id,
         project_id, voucher_id, voucher_number, synced_at)
    SELECT %(company)s, r.id, r.day, r.account, r.amount, r.text, r.department, r.project,
           r.voucher, r.number, %(now)s
    FROM unnest(%(ids)s::bigint[], %(days)s::date[], %(accounts)s::integer[],
                %(amounts)s::numeric[], %(texts)s::text[], %(departments)s::bigint[],
                %(projects)s::bigint[], %(vouchers)s::bigint[], %(numbers)s::integer[])
         AS r(id, day, account, amount, text, department, project, voucher, number)
    ON CONFLICT (company_id, tripletex_id) DO UPDATE SET
        date = EXCLUDED.date,
        account_number = EXCLUDED.account_number,
        amount = EXCLUDED.amount,
        description = EXCLUDED.description,
        department_id = EXCLUDED.department_id,
        project_id = EXCLUDED.project_id,
        voucher_id = EXCLUDED.voucher_id,
        voucher_number = EXCLUDED.voucher_number,
        synced_at = EXCLUDED.synced_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM dropped), (SELECT count(*) FROM written)
"""

ZERO = Decimal("0")

UPDATE_FIELDS = [
    "date",
    "account_number",
    "amount",
    "description",
    "department_id",
    "project_id",
    "voucher_id",
    "voucher_number",
    "synced_at",
]


def postings_replace(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    postings: Sequence[ApiPosting],
    synced_at: datetime.datetime,
) -> tuple[int, int]:
    """Make the company's stored postings dated in [date_from, date_to) exactly `postings`
    (each with an id, a date, an account number and an amount); returns (written, dropped)."""
    rows = [p for p in postings if p.id is not None and p.date is not None]
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {
            "company": company.pk,
            "date_from": date_from,
            "date_to": date_to,
            "now": synced_at,
            "ids": [p.id for p in rows],
            "days": [p.date for p in rows],
            "accounts": [p.account_number or 0 for p in rows],
            "amounts": [p.amount or ZERO for p in rows],
            "texts": [_text(p.description) for p in rows],
            "departments": [p.department_id for p in rows],
            "projects": [p.project_id for p in rows],
            "vouchers": [p.voucher_id for p in rows],
            "numbers": [p.voucher_number for p in rows],
        }
        with connection.cursor() as cursor:
            cursor.execute(REPLACE_POSTINGS_SQL, params)
            dropped, written = cursor.fetchone()
        return int(written), int(dropped)
    with transaction.atomic():
        Posting.objects.bulk_create(
            [
                Posting(
                    company=company,
                    tripletex_id=cast(int, p.id),
                    date=cast(datetime.date, p.date),
                    account_number=p.account_number or 0,
                    amount=p.amount or ZERO,
                    description=_text(p.description),
                    department_id=p.department_id,
                    project_id=p.project_id,
                    voucher_id=p.voucher_id,
                    voucher_number=p.voucher_number,
                    synced_at=synced_at,
                )
                for p in rows
            ],
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["company", "tripletex_id"],
            update_fields=UPDATE_FIELDS,
        )
        keep = {p.id for p in rows}
        stored = Posting.objects.filter(
            company=company, date__gte=date_from, date__lt=date_to
        ).values_list("tripletex_id", flat=True)
        gone = [tripletex_id for tripletex_id in stored if tripletex_id not in keep]
        dropped = 0
        for i in range(0, len(gone), DELETE_CHUNK):
            count, _by_model = Posting.objects.filter(
                company=company, tripletex_id__in=gone[i : i + DELETE_CHUNK]
            ).delete()
            dropped += count
    return len(rows), dropped


def _text(description: str) -> str:
    """A description as PostgreSQL's text takes it: NUL characters are not allowed there."""
    return description.replace("\x00", "")

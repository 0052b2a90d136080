"""Replace one month's stored balances atomically, with its MonthSync row and the run's progress.

The vendor-specific part of the sync. On PostgreSQL one statement (REPLACE_MONTH_SQL) deletes,
upserts and records in one round trip, atomic on its own; elsewhere (SQLite, what `make run`
uses) the same effect takes a bulk upsert, a delete and two updates inside one transaction. Either
way a run that dies half way leaves every month fully old or fully new.

A month's rows are exactly the (account, in, change, out) values given: rows of accounts no longer
in the month are dropped, so a missing row always means "all zero".
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from companies.models import Company
from ledger.accounts import CURRENT_ASSETS, NET_RESULT, SHORT_TERM_DEBT, is_result_account
from ledger.models import AccountBalance, MonthSync, SyncRun
from tripletex.schemas import BalanceRow

# Rows per INSERT of a bulk upsert.
BATCH = 2000
ZERO = Decimal("0")

MonthValues = list[tuple[int, Decimal, Decimal, Decimal]]

# One statement per month on PostgreSQL (atomic on its own): drop the rows of accounts no longer in
# the month, insert or update the others from four arrays (not seven parameters per row), record the
# month's MonthSync (its counts and totals) and the run's progress.
REPLACE_MONTH_SQL = """
WITH dropped AS (
    DELETE FROM ledger_accountbalance
    WHERE company_id = %(company)s AND month = %(month)s
      AND NOT (account_number = ANY(%(numbers)s::integer[]))
    RETURNING 1
), written AS (
    INSERT INTO ledger_accountbalance
        (company_id, account_number, month, balance_in, balance_change, balance_out, synced_at)
    SELECT %(company)s, t.a, %(month)s, t.i, t.c, t.o, %(now)s
    FROM unnest(%(numbers)s::integer[], %(ins)s::numeric[], %(changes)s::numeric[],
                %(outs)s::numeric[]) AS t(a, i, c, o)
    ON CONFLICT (company_id, account_number, month) DO UPDATE SET
        balance_in = EXCLUDED.balance_in,
        balance_change = EXCLUDED.balance_change,
        balance_out = EXCLUDED.balance_out,
        synced_at = EXCLUDED.synced_at
    RETURNING 1
), month_sync AS (
    INSERT INTO ledger_monthsync (company_id, month, synced_at, period_closed, is_complete, problem,
                                  balance_rows, result_rows, result_rows_opened,
                                  net_result, current_assets, short_term_debt)
    VALUES (%(company)s, %(month)s, %(now)s, %(closed)s, true, '',
            %(balance_rows)s, %(result_rows)s, %(result_rows_opened)s,
            %(net_result)s, %(current_assets)s, %(short_term_debt)s)
    ON CONFLICT (company_id, month) DO UPDATE SET
        synced_at = EXCLUDED.synced_at, period_closed = EXCLUDED.period_closed,
        balance_rows = EXCLUDED.balance_rows, result_rows = EXCLUDED.result_rows,
        result_rows_opened = EXCLUDED.result_rows_opened, net_result = EXCLUDED.net_result,
        current_assets = EXCLUDED.current_assets, short_term_debt = EXCLUDED.short_term_debt
    RETURNING 1
), progress AS (
    UPDATE ledger_syncrun SET
        months_done = months_done + 1,
        rows_written = rows_written + (SELECT count(*) FROM dropped)
            + (SELECT count(*) FROM written),
        tripletex_calls = %(calls)s,
        progress_at = %(now)s
    WHERE id = %(run)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM dropped), (SELECT count(*) FROM written),
       (SELECT count(*) FROM month_sync), (SELECT count(*) FROM progress)
"""


def balances_month_replace(
    *,
    company: Company,
    month: datetime.date,
    values: MonthValues,
    synced_at: datetime.datetime,
    period_closed: bool = False,
    run_id: int | None = None,
    run_calls: int = 0,
) -> tuple[int, int]:
    """Make one month's rows exactly `values` (account, in, change, out), atomically, together with
    its MonthSync and the run's progress; returns (rows written, rows dropped).

    PostgreSQL: REPLACE_MONTH_SQL, one round trip. Elsewhere (SQLite): bulk_create with
    update_conflicts on the same unique constraints, a delete and an update, in one transaction.
    """
    numbers = [v[0] for v in values]
    counts = {**month_counts(values), **month_totals(values)}
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {
            "company": company.pk,
            "month": month,
            "now": synced_at,
            "closed": period_closed,
            **counts,
            "run": run_id,
            "calls": run_calls,
            "numbers": numbers,
            "ins": [v[1] for v in values],
            "changes": [v[2] for v in values],
            "outs": [v[3] for v in values],
        }
        with connection.cursor() as cursor:
            cursor.execute(REPLACE_MONTH_SQL, params)
            dropped, written, _month, _run = cursor.fetchone()
        return int(written), int(dropped)
    with transaction.atomic():
        if values:
            AccountBalance.objects.bulk_create(
                [
                    AccountBalance(
                        company=company,
                        account_number=number,
                        month=month,
                        balance_in=b_in,
                        balance_change=b_change,
                        balance_out=b_out,
                        synced_at=synced_at,
                    )
                    for number, b_in, b_change, b_out in values
                ],
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=["company", "account_number", "month"],
                update_fields=["balance_in", "balance_change", "balance_out", "synced_at"],
            )
        dropped, _by_model = (
            AccountBalance.objects.filter(company=company, month=month)
            .exclude(account_number__in=numbers)
            .delete()
        )
        MonthSync.objects.bulk_create(
            [
                MonthSync(
                    company=company,
                    month=month,
                    synced_at=synced_at,
                    period_closed=period_closed,
                    **counts,
                )
            ],
            update_conflicts=True,
            unique_fields=["company", "month"],
            update_fields=["synced_at", "period_closed", *counts],
        )
        if run_id is not None:
            SyncRun.objects.filter(pk=run_id).update(
                months_done=F("months_done") + 1,
                rows_written=F("rows_written") + len(values) + dropped,
                tripletex_calls=run_calls,
                progress_at=synced_at,
            )
    return len(values), dropped


def balance_rows_values(rows: Iterable[BalanceRow]) -> MonthValues:
    """A `/balanceSheet` answer as month values: summed per account number, all-zero rows left
    out (a missing row means "all zero")."""
    per_account: dict[int, list[Decimal]] = {}
    for row in rows:
        sums = per_account.setdefault(int(row.account_number), [ZERO, ZERO, ZERO])
        sums[0] += row.balance_in
        sums[1] += row.balance_change
        sums[2] += row.balance_out
    return [
        (number, b_in, b_change, b_out)
        for number, (b_in, b_change, b_out) in per_account.items()
        if b_in or b_change or b_out
    ]


def month_counts(values: MonthValues) -> dict[str, int]:
    """MonthSync's counts for a month made of `values`: rows, result-account rows, opened ones."""
    result = [b_in for number, b_in, _change, _out in values if is_result_account(number)]
    return {
        "balance_rows": len(values),
        "result_rows": len(result),
        "result_rows_opened": sum(1 for b_in in result if b_in),
    }


def month_totals(values: MonthValues) -> dict[str, Decimal]:
    """MonthSync's totals for a month made of `values`, ledger signs: the change of the net-result
    accounts, and the out balance of current assets and of short-term debt."""
    return {
        "net_result": sum((c for n, _i, c, _o in values if n in NET_RESULT), ZERO),
        "current_assets": sum((o for n, _i, _c, o in values if n in CURRENT_ASSETS), ZERO),
        "short_term_debt": sum((o for n, _i, _c, o in values if n in SHORT_TERM_DEBT), ZERO),
    }

"""Data migrations: months synced before a migration read the same afterwards."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("ledger", "0003_transactions_and_booking")]
AFTER = [("ledger", "0004_month_sync_counts")]


def _migrate(targets):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_month_sync_counts_are_filled_in_for_months_synced_before():
    apps = _migrate(BEFORE)
    try:
        company = apps.get_model("companies", "Company").objects.create(
            org_number="923609016", name="Gammel AS", slug="gammel-as"
        )
        balance = apps.get_model("ledger", "AccountBalance").objects
        month_sync = apps.get_model("ledger", "MonthSync").objects
        now = timezone.now()
        january, february = datetime.date(2025, 1, 1), datetime.date(2025, 2, 1)
        for month in (january, february):
            month_sync.create(company=company, month=month, synced_at=now)
        rows = [
            # (account, month, in): a balance account and two result accounts, one carried in.
            (1920, january, Decimal("100.00")),
            (3000, january, Decimal("0")),
            (1920, february, Decimal("150.00")),
            (3000, february, Decimal("-500.00")),
            (6300, february, Decimal("0")),
        ]
        for number, month, balance_in in rows:
            balance.create(
                company=company,
                account_number=number,
                month=month,
                balance_in=balance_in,
                balance_change=Decimal("1.00"),
                balance_out=balance_in + 1,
                synced_at=now,
            )

        apps = _migrate(AFTER)

        counts = {
            m.month: (m.balance_rows, m.result_rows, m.result_rows_opened)
            for m in apps.get_model("ledger", "MonthSync").objects.filter(company_id=company.pk)
        }
        assert counts == {january: (2, 1, 0), february: (3, 2, 1)}
    finally:
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())  # the schema the other tests expect

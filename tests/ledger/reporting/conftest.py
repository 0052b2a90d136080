"""Fixtures of the report tests.

* `pack_firm`: Acme with the hand-computed P&L months of tests/ledger/figures_data.py (January
  2024 – March 2025), a bank account that takes the other side of every month (so the balance sheet
  balances), share capital, 2024's result closed to 2050, and a budget for January–March 2025.
* `tasks_eager`: Celery runs tasks in the caller (report packs are made at once).
"""

import datetime
from decimal import Decimal

import pytest
from celery import current_app
from django.utils import timezone
from django_scopes import scope

from companies.models import Company
from ledger.models import Budget
from tests.ledger.figures_data import PNL_CHANGES, PNL_NAMES, month, seed_changes

# Budget January–March 2025 (Tripletex signs): revenue 110 000 a month, payroll 28 000,
# rent 10 000; budget accounts 3000 and 5000 and 6300 have actuals too.
PACK_BUDGET = {3000: Decimal(-110_000), 5000: Decimal(28_000), 6300: Decimal(10_000)}


def pack_changes() -> dict[int, dict[datetime.date, Decimal]]:
    """PNL_CHANGES with the balance side: 2000 and 1920 open in January 2024, 2024's result is
    closed (8960 against 2050) in December 2024, and 1920 takes every month's other side."""
    changes = {
        n: {m: Decimal(v) for m, v in by_month.items()} for n, by_month in PNL_CHANGES.items()
    }
    result_2024 = sum(
        (v for by_month in changes.values() for m, v in by_month.items() if m.year == 2024),
        Decimal(0),
    )
    changes[8960] = {month(2024, 12): -result_2024}
    changes[2050] = {month(2024, 12): result_2024}
    changes[2000] = {month(2024, 1): Decimal(-30_000)}
    months = sorted({m for by_month in changes.values() for m in by_month})
    changes[1920] = {
        m: -sum((by_month.get(m, Decimal(0)) for by_month in changes.values()), Decimal(0))
        for m in months
    }
    return changes


@pytest.fixture
def pack_firm(acme) -> Company:
    names = {
        **PNL_NAMES,
        1920: "Bankinnskudd",
        2000: "Aksjekapital",
        2050: "Annen egenkapital",
        8960: "Overføringer annen egenkapital",
    }
    with scope(company=acme):
        seed_changes(acme, pack_changes(), names=names)
        now = timezone.now()
        Budget.objects.bulk_create(
            [
                Budget(
                    company=acme,
                    account_number=n,
                    month=month(2025, m),
                    amount=amount,
                    source="upload",
                    updated_at=now,
                )
                for n, amount in PACK_BUDGET.items()
                for m in (1, 2, 3)
            ]
        )
    return acme


@pytest.fixture
def tasks_eager():
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous

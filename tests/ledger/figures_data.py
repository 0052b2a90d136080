"""Builds synced figures directly in the database for the figures tests and the benchmark.

`seed_changes` takes monthly movements per account (Tripletex signs: debit +, credit −) and writes
AccountBalance rows with Tripletex's in/change/out semantics: balance accounts carry their
balance forever; result accounts (3000–8999) restart at zero at every fiscal-year start.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.utils import timezone

from companies.models import Company
from ledger.models import LedgerAccount
from ledger.periods import fiscal_year_of, month_next
from ledger.sync.month_replace import balances_month_replace

D = Decimal


def month(year: int, m: int) -> datetime.date:
    return datetime.date(year, m, 1)


def seed_changes(
    company: Company,
    changes: Mapping[int, Mapping[datetime.date, Decimal | int]],
    *,
    names: Mapping[int, str] | None = None,
    opening: Mapping[int, Decimal | int] | None = None,
    fiscal_start_month: int = 1,
) -> None:
    """AccountBalance rows for every (account, month) given, plus LedgerAccount names."""
    now = timezone.now()
    by_month: dict[datetime.date, list[tuple[int, Decimal, Decimal, Decimal]]] = defaultdict(list)
    for account, changes_by_month in changes.items():
        running = D(opening.get(account, 0)) if opening else D(0)
        current_fy = None
        for day in sorted(changes_by_month):
            if account >= 3000:
                fy = fiscal_year_of(day, fiscal_start_month)
                if fy != current_fy:
                    running, current_fy = D(0), fy
            change = D(changes_by_month[day])
            by_month[day].append((account, running, change, running + change))
            running += change
    # As the sync writes them: each month whole, with its MonthSync.
    for day, values in sorted(by_month.items()):
        balances_month_replace(company=company, month=day, values=values, synced_at=now)
    numbers = set(changes) | set(names or {})
    LedgerAccount.objects.bulk_create(
        [
            LedgerAccount(
                company=company,
                tripletex_id=100_000 + n,
                number=n,
                name=(names or {}).get(n, f"Konto {n}"),
                synced_at=now,
            )
            for n in sorted(numbers)
        ]
    )


def every_month(first: datetime.date, last: datetime.date, amount: int) -> dict[datetime.date, int]:
    """{month: amount} for each month in [first, last]."""
    out, day = {}, first
    while day <= last:
        out[day] = amount
        day = month_next(day)
    return out


# The hand-computed P&L fixture: January–March 2025 against January–March 2024 (+ April 2024,
# which the same-period-last-year column must leave out). See test_figures.py for the sums.
PNL_CHANGES: dict[int, dict[datetime.date, int]] = {
    3000: {
        month(2024, 1): -90_000,
        month(2024, 2): -90_000,
        month(2024, 3): -70_000,
        month(2024, 4): -999_999,
        month(2025, 1): -100_000,
        month(2025, 2): -120_000,
        month(2025, 3): -80_000,
    },
    3900: {month(2025, 2): -5_000},
    4300: {
        month(2024, 1): 35_000,
        month(2024, 2): 35_000,
        month(2024, 3): 30_000,
        month(2025, 1): 40_000,
        month(2025, 2): 50_000,
        month(2025, 3): 30_000,
    },
    5000: {
        **every_month(month(2024, 1), month(2024, 3), 25_000),
        **every_month(month(2025, 1), month(2025, 3), 30_000),
    },
    6010: every_month(month(2024, 1), month(2025, 3), 2_000),
    6300: {
        **every_month(month(2024, 1), month(2024, 3), 9_000),
        **every_month(month(2025, 1), month(2025, 3), 10_000),
    },
    8050: {month(2024, 3): -1_000, month(2025, 3): -1_500},
    8150: {month(2024, 3): 1_500, **every_month(month(2025, 1), month(2025, 3), 500)},
    8300: {month(2025, 3): 10_000},
}
PNL_NAMES = {
    3000: "Salgsinntekt, avgiftspliktig",
    3900: "Annen driftsrelatert inntekt",
    4300: "Innkjøp av varer for videresalg",
    5000: "Lønn til ansatte",
    6010: "Avskrivning på transportmidler",
    6300: "Leie lokale",
    8050: "Annen renteinntekt",
    8150: "Annen rentekostnad",
    8300: "Betalbar skatt",
}

# The hand-computed balance-sheet fixture: December 2024 (after the year-end closing voucher
# moved the 50 000 profit from 8960 to 2050) and March 2025 (114 000 profit not yet closed).
BALANCE_CHANGES: dict[int, dict[datetime.date, int]] = {
    1250: {month(2024, 12): 50_000, month(2025, 3): -6_000},
    1500: {month(2025, 3): 20_000},
    1920: {month(2024, 12): 450_000, month(2025, 3): 110_000},
    2000: {month(2024, 12): -100_000},
    2050: {month(2024, 12): -350_000},
    2220: {month(2024, 12): -20_000},
    2400: {month(2024, 12): -30_000, month(2025, 3): -10_000},
    3000: {
        month(2024, 6): -200_000,
        month(2025, 1): -50_000,
        month(2025, 2): -50_000,
        month(2025, 3): -50_000,
    },
    6010: {month(2025, 3): 6_000},
    6300: {month(2024, 6): 150_000, month(2025, 3): 30_000},
    8960: {month(2024, 12): 50_000},
}


def seed_from_tripletex(
    company: Company, client, first: datetime.date, last: datetime.date
) -> None:  # type: ignore[no-untyped-def]
    """Pull the monthly trial balances [first, last] and the chart of accounts like the sync does."""
    now = timezone.now()
    LedgerAccount.objects.bulk_create(
        LedgerAccount(
            company=company, tripletex_id=a.id, number=a.number, name=a.name, synced_at=now
        )
        for a in client.accounts()
    )
    day = first
    while day <= last:
        following = month_next(day)
        values = [
            (r.account_number, r.balance_in, r.balance_change, r.balance_out)
            for r in client.balance_sheet(date_from=day, date_to=following)
        ]
        balances_month_replace(company=company, month=day, values=values, synced_at=now)
        day = following

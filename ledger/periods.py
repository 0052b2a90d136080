"""Months, half-open periods and fiscal years: the one home of the ledger's calendar arithmetic.

A month is named by its first day. A period is half-open, [start, end), like Tripletex's `dateTo`
(README of shared/tripletex, "Date ranges"): a month ends on the first day of the next one, and
`month_end` gives the last day only for showing it to people. "Today" is the day in Oslo
(`TIME_ZONE`), the day Tripletex counts its periods in, whatever the server's clock says.

The fiscal-year rule. A fiscal year is twelve months from a firm's start month, named by the
calendar year it starts in ("2025", or "2025/26" when it starts after January). Most Norwegian
firms keep the calendar year, but Tripletex supports a deviating one, set up by its support, e.g.
"Regnskapsår 2022: 2022.07.01-2023.06.30" (Tripletex help, "Har Tripletex støtte for avvikende
regnskapsår?"). Tripletex has it as `/ledger/annualAccount` (start, end per year), which our client
does not call yet, so it is read from the balances: the opening balance (`balanceIn`) of result
accounts (3000–8999, `ledger.accounts`) restarts at zero at the start of every fiscal year and is
carried from month to month inside it, as `/balanceSheet` answers for a closed year (the sandbox
mirrors it; the Tripletex README lists the boundary among its things to verify). The calendar month in which every
synced result-account row opens at zero, while the month before carries balances, is therefore the
first month of the firm's fiscal year. January wins ties and is the answer while the data cannot
tell (nothing synced yet). The counts come from MonthSync, which the sync writes with each month,
so the rule costs one small query.
`fiscal_year_start_month_of` is what the sync (which months to pull), the tie-out (where chains
restart), the sync window and the figures pages all ask.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.utils import timezone

from companies.models import Company
from ledger.models import MonthSync

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


# ---- months -------------------------------------------------------------------------------------


def today_local() -> datetime.date:
    """Today in Oslo (the project's TIME_ZONE), the day Tripletex's periods are counted in."""
    return timezone.localdate()


def month_start(day: datetime.date) -> datetime.date:
    """The first day of day's month."""
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or, negative, before) day's month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_next(month: datetime.date) -> datetime.date:
    """The first day of the month after `month`: the exclusive end of its period."""
    return add_months(month, 1)


def month_end(month: datetime.date) -> datetime.date:
    """The last day of `month`, for people (periods themselves end on the next first day)."""
    return month_next(month) - datetime.timedelta(days=1)


def months_in(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The months of the half-open period [start, end), oldest first."""
    months, month = [], month_start(start)
    while month < end:
        months.append(month)
        month = month_next(month)
    return months


def month_parse(value: str) -> datetime.date:
    """'2026-03' as 2026-03-01; raises ValueError for anything else."""
    match = _MONTH_RE.match(value)
    if match is None:
        raise ValueError(value)
    return datetime.date(int(match[1]), int(match[2]), 1)


# ---- fiscal years -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FiscalYear:
    """Twelve months from `start`, [start, end); named by the calendar year it starts in."""

    start: datetime.date

    @cached_property
    def months(self) -> list[datetime.date]:
        return [add_months(self.start, i) for i in range(12)]

    @property
    def end(self) -> datetime.date:
        """The first day after the fiscal year (half-open)."""
        return add_months(self.start, 12)

    @property
    def label(self) -> str:
        if self.start.month == 1:
            return str(self.start.year)
        return f"{self.start.year}/{(self.start.year + 1) % 100:02d}"

    @property
    def year(self) -> int:
        return self.start.year

    def previous(self) -> FiscalYear:
        return FiscalYear(add_months(self.start, -12))

    def contains(self, month: datetime.date) -> bool:
        return self.start <= month < self.end


def fiscal_year_of(month: datetime.date, start_month: int) -> FiscalYear:
    """The fiscal year (starting in calendar month start_month) that contains `month`."""
    year = month.year if month.month >= start_month else month.year - 1
    return FiscalYear(datetime.date(year, start_month, 1))


def fiscal_year_named(year: int, start_month: int) -> FiscalYear:
    """The fiscal year named `year`: the one that starts in that calendar year."""
    return FiscalYear(datetime.date(year, start_month, 1))


@dataclass(frozen=True)
class MonthSummary:
    """One synced month: how many result-account rows it has and how many open non-zero."""

    month: datetime.date
    result_rows: int
    result_rows_opened: int


def months_summary(*, company: Company) -> list[MonthSummary]:
    """Every month with balances, oldest first (one query over MonthSync; the rule's evidence)."""
    rows = (
        MonthSync.objects.filter(company=company, balance_rows__gt=0)
        .order_by("month")
        .values_list("month", "result_rows", "result_rows_opened")
    )
    return [MonthSummary(month, result, opened) for month, result, opened in rows]


def fiscal_year_start_month(summary: Iterable[MonthSummary]) -> int:
    """The calendar month the fiscal year starts in, read from monthly counts (see module doc)."""
    summary = list(summary)
    opened_months = {s.month.month for s in summary if s.result_rows_opened}
    if not opened_months:
        return 1
    by_month: dict[int, list[MonthSummary]] = defaultdict(list)
    for s in summary:
        if s.result_rows:
            by_month[s.month.month].append(s)
    candidates = [
        m for m, rows in sorted(by_month.items()) if all(r.result_rows_opened == 0 for r in rows)
    ]
    # A fiscal year starts right after a month that carried balances (the last of the year before).
    starts = [m for m in candidates if (m - 2) % 12 + 1 in opened_months]
    if not starts or 1 in starts:
        return 1
    return starts[0]


def fiscal_year_start_month_of(*, company: Company) -> int:
    """The calendar month the company's fiscal year starts in (1 until its balances tell)."""
    return fiscal_year_start_month(months_summary(company=company))

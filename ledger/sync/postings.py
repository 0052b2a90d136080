"""The postings strategy of the sync (Tripletex README §9, strategy C): a fiscal year from one
`/ledger/posting` pull and one yearly `/balanceSheet`, its monthly balances derived locally.

Why. Strategy A, one `/balanceSheet` per month, costs 12 calls a fiscal year whatever the firm's
size. Strategy C costs 1 + ⌈P/S⌉: the yearly `/balanceSheet` (every account's opening balance and
the year's change, the control total) plus the pages of the year's P postings, S = 10,000 to a
page (`tripletex.client.POSTING_PAGE_MAX`, the largest `count` Tripletex takes). A holding
company posts a few hundred lines a year: one page. A run pulls the postings of all the fiscal
years it needs in one date-ordered stream, so a small firm's first sync of two years costs the
session, the chart, departments, projects and periods, one posting page and two yearly balance
sheets: 8 calls, 4 per firm-year.

The threshold. A year of P postings costs 1 + ⌈(P + 1)/S⌉ by C (a last page shorter than S
ends the stream, so 100,000 postings take ten full pages and an empty one) and 12 by A: C is
cheaper while the year fits in N = MAX_PAGES = 10 pages, i.e. below 100,000 postings a year, and
from there it only ties while moving ten pages of payload. Whether a year is over it is decided
from the first page: the stream is sorted by date, so a full first page covers an unbroken span
of days from the window's start, and a span of a tenth of a year or less means ten pages a year
or more (`_too_dense`). Such a firm costs its first page and then A, as before (its first page
names the accounts and departments it uses, so it pulls no list it does not need and stays
within today's count); a stream that still runs past MAX_PAGES pages a year is cut there too.
Years the pages read cover completely (the stream went past their end) still use C; the others
use A. The choice is recorded
per fiscal year on the run (`SyncRun.strategies`) and in FiscalYearSync.

The control total. The sum of a year's postings per account must equal the yearly
`balanceChange` to the øre. Tripletex leaves out the postings a key may not see (salary vouchers
are the common case: README §8.3, and §3 "Authorisation filtering") while its balance sheet
counts them, so a key without salary access fails the control: that year is pulled again by
months, and the run says why. The postings it could see are stored all the same (the drill-down).

Derived months. A year's first month opens with the yearly `balanceIn`; every month's change is
the sum of its postings, and the next month opens with its close. Result accounts (3000–8999)
restart at zero at the start of each fiscal year and balance accounts carry (`months_derive`),
which is what `/balanceSheet` answers month by month; tests/ledger/test_sync_postings.py compares
the two for every account and month. A re-sync pulls only the open months' postings, in one
call, and derives them from the stored close of the month before (`carry`). Closed months are
not pulled again, except when the weekly re-check, one yearly `/balanceSheet` per fiscal year
compared with what is stored (`_year_holds`), finds a difference: then the year is pulled whole.

A firm's first sync does not know its fiscal year yet (`ledger.periods` reads it from stored
months) and pulls calendar years. If a calendar year's result accounts open at anything but
zero, the firm's fiscal year starts in another month; the run then takes that year by months,
which the fiscal-year rule can read (the months it adds are pulled by postings in the same run).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.credentials import tripletex_client_for
from companies.models import Company
from ledger.accounts import is_result_account
from ledger.models import (
    AccountBalance,
    FiscalYearSync,
    MonthSync,
    PostingMonth,
    SyncRun,
)
from ledger.periods import FiscalYear, add_months, month_next, month_start
from ledger.sync.month_replace import MonthValues, balance_rows_values, balances_month_replace
from ledger.sync.posting_replace import postings_replace
from ledger.sync.reference import references_refresh
from ledger.templatetags.money import format_amount
from tripletex.client import POSTING_PAGE_MAX, TripletexClient
from tripletex.schemas import BalanceRow, Posting

ZERO = Decimal("0")
# A fiscal year needing this many pages or more is synced by months: 1 + 11 pages = 12 months.
MAX_PAGES = 10
DAYS_PER_YEAR = 365
# Accounts named in a failed control's reason before "…".
MAX_ACCOUNTS_NAMED = 5

Calls = Callable[[], int]


# ---- pure parts: derivation and checks ----------------------------------------------------------


def months_derive(
    months: list[datetime.date],
    opening: dict[int, Decimal],
    changes: dict[datetime.date, dict[int, Decimal]],
    *,
    start_month: int,
) -> dict[datetime.date, MonthValues]:
    """Each month's (account, in, change, out) rows from the balances at the start of `months[0]`
    and each month's net change per account; `months` are consecutive. Result accounts restart
    at zero in every later month that opens a fiscal year (calendar month `start_month`);
    all-zero rows are left out, as a synced month stores them."""
    balance = dict(opening)
    derived: dict[datetime.date, MonthValues] = {}
    for i, month in enumerate(months):
        if i and month.month == start_month:
            balance = {n: v for n, v in balance.items() if not is_result_account(n)}
        moved = changes.get(month, {})
        values: MonthValues = []
        for number in sorted(balance.keys() | moved.keys()):
            b_in = balance.get(number, ZERO)
            change = moved.get(number, ZERO)
            b_out = b_in + change
            balance[number] = b_out
            if b_in or change or b_out:
                values.append((number, b_in, change, b_out))
        derived[month] = values
    return derived


def changes_by_month(postings: Iterable[Posting]) -> dict[datetime.date, dict[int, Decimal]]:
    """{month: {account: net change}} of postings (each with a date and an account number)."""
    changes: dict[datetime.date, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for p in postings:
        if p.date is not None and p.account_number is not None:
            changes[month_start(p.date)][p.account_number] += p.amount or ZERO
    return changes


def control_differences(
    postings: Iterable[Posting], balances: Iterable[BalanceRow]
) -> list[tuple[int, Decimal, Decimal]]:
    """(account, postings' sum, Tripletex's balanceChange) of every account where the year's
    postings do not add up to the yearly balance sheet's change, by account number."""
    summed: dict[int, Decimal] = defaultdict(Decimal)
    for p in postings:
        if p.account_number is not None:
            summed[p.account_number] += p.amount or ZERO
    expected: dict[int, Decimal] = defaultdict(Decimal)
    for row in balances:
        expected[row.account_number] += row.balance_change
    return [
        (number, summed.get(number, ZERO), expected.get(number, ZERO))
        for number in sorted(summed.keys() | expected.keys())
        if summed.get(number, ZERO) != expected.get(number, ZERO)
    ]


def openings(balances: Iterable[BalanceRow]) -> dict[int, Decimal]:
    """Every account's balance at the start of a balance sheet's window (its balanceIn)."""
    opening: dict[int, Decimal] = defaultdict(Decimal)
    for row in balances:
        opening[row.account_number] += row.balance_in
    return {n: v for n, v in opening.items() if v}


# ---- the stream of postings ---------------------------------------------------------------------


@dataclass
class PostingsRead:
    """The postings read from one date-ordered stream over [start, end), maybe cut short:
    every posting dated before `complete_until` has been read."""

    start: datetime.date
    end: datetime.date
    rows: list[Posting] = field(default_factory=list)
    pages: int = 0
    complete_until: datetime.date | None = None
    is_dense: bool = False

    def covers(self, start: datetime.date, end: datetime.date) -> bool:
        """True when every posting dated in [start, end) has been read."""
        return (
            self.complete_until is not None and start >= self.start and end <= self.complete_until
        )

    def between(self, start: datetime.date, end: datetime.date) -> list[Posting]:
        return [p for p in self.rows if p.date is not None and start <= p.date < end]


def _too_dense(rows: int, start: datetime.date, last: datetime.date) -> bool:
    """True when a full first page of `rows` postings from `start` to inside day `last` means
    MAX_PAGES pages a year or more (1 + 11 calls, no fewer than 12 months)."""
    # The page ends inside its last day: it covers the days before it whole, and part of it.
    days = max(1, (last - start).days)
    return rows * DAYS_PER_YEAR >= MAX_PAGES * POSTING_PAGE_MAX * days


def postings_read(
    client: TripletexClient, *, start: datetime.date, end: datetime.date, years: int
) -> PostingsRead:
    """Read the postings of [start, end) page by page, stopping after a first page that shows
    MAX_PAGES pages a year or more, or after MAX_PAGES pages per fiscal year in the window."""
    read = PostingsRead(start=start, end=end)
    for page in client.posting_pages(date_from=start, date_to=end):
        read.pages += 1
        read.rows.extend(page.values)
        if page.is_last:
            read.complete_until = end
            return read
        last = next((p.date for p in reversed(page.values) if p.date is not None), start)
        # A page ends inside its last day: only the days before it are complete.
        read.complete_until = last
        if read.pages == 1 and _too_dense(len(page.values), start, last):
            read.is_dense = True
            return read
        if read.pages >= MAX_PAGES * years:
            return read
    read.complete_until = end
    return read


# ---- planning a run -----------------------------------------------------------------------------

WHOLE = "whole"  # pulled as a whole fiscal year: postings + yearly balance sheet (or months)
CARRY = "carry"  # a postings year: its months from `carry_from` on, from the close before
MONTHLY = "monthly"  # a months year: its planned months, one /balanceSheet each


@dataclass
class YearWork:
    """What a run does for one fiscal year."""

    fy: FiscalYear
    months: list[datetime.date]  # the year's months up to the current one
    mode: str
    write: list[datetime.date]  # the months this run writes
    carry_from: datetime.date | None = None

    @property
    def end(self) -> datetime.date:
        """The exclusive end of the months pulled: the current month's end at most."""
        return month_next(self.months[-1])


@dataclass
class Work:
    """A run's plan under the postings strategy; `balances` holds yearly balance sheets already
    fetched (the re-check's), by fiscal-year start."""

    years: list[YearWork]
    closed: dict[datetime.date, bool]
    balances: dict[datetime.date, list[BalanceRow]] = field(default_factory=dict)

    @property
    def months(self) -> list[datetime.date]:
        return sorted(m for year in self.years for m in year.write)


def postings_plan(
    *,
    company: Company,
    client: TripletexClient,
    fiscal_years: list[FiscalYear],
    planned: list[datetime.date],
    closed: dict[datetime.date, bool],
    today: datetime.date,
    force: bool,
    recheck: bool,
) -> Work:
    """The run's work per fiscal year, from the months it must pull (`planned`, oldest first).

    A year is pulled whole when all of it is planned, when forced, when it was never pulled whole
    (no FiscalYearSync), or when the re-check (one yearly /balanceSheet per year, fetched here)
    finds what we hold differs; a postings year otherwise re-derives its planned months from the
    close of the month before them, and a months year pulls them one by one."""
    current = month_start(today)
    wanted = set(planned)
    records = {
        r.start: r
        for r in FiscalYearSync.objects.filter(
            company=company, start__in=[fy.start for fy in fiscal_years]
        )
    }
    work = Work(years=[], closed=closed)
    for fy in fiscal_years:
        months = [m for m in fy.months if m <= current]
        if not months:
            continue
        todo = [m for m in months if m in wanted]
        if recheck:
            rows = _year_balance(client, fy.start, month_next(months[-1]))
            work.balances[fy.start] = rows
            if not _year_holds(company, months, rows):
                work.years.append(YearWork(fy, months, WHOLE, months))
                continue
        if not todo:
            continue
        record = records.get(fy.start)
        if force or record is None or todo == months:
            work.years.append(YearWork(fy, months, WHOLE, todo))
        elif record.strategy == FiscalYearSync.Strategy.POSTINGS and _stored(
            company, add_months(todo[0], -1)
        ):
            carried = months[months.index(todo[0]) :]
            work.years.append(YearWork(fy, months, CARRY, carried, carry_from=todo[0]))
        else:
            work.years.append(YearWork(fy, months, MONTHLY, todo))
    return work


def _stored(company: Company, month: datetime.date) -> bool:
    return MonthSync.objects.filter(company=company, month=month).exists()


def _year_balance(
    client: TripletexClient, start: datetime.date, end: datetime.date
) -> list[BalanceRow]:
    return client.balance_sheet(
        date_from=start, date_to=end, include_accounts_without_movements=True
    )


def _year_holds(company: Company, months: list[datetime.date], rows: list[BalanceRow]) -> bool:
    """True when the stored months open and move every account as the yearly balance sheet says."""
    if MonthSync.objects.filter(company=company, month__in=months).count() != len(months):
        return False
    stored = AccountBalance.objects.filter(company=company, month__in=months)
    opening = dict(stored.filter(month=months[0]).values_list("account_number", "balance_in"))
    moved = dict(
        stored.values("account_number")
        .annotate(total=Sum("balance_change"))
        .values_list("account_number", "total")
    )
    expected_in = openings(rows)
    expected_change: dict[int, Decimal] = defaultdict(Decimal)
    for row in rows:
        expected_change[row.account_number] += row.balance_change
    for number in opening.keys() | moved.keys() | expected_in.keys() | expected_change.keys():
        # SQLite sums decimals in floating point: compare as øre.
        held_in = _ore(opening.get(number))
        held_change = _ore(moved.get(number))
        if held_in != _ore(expected_in.get(number)) or held_change != _ore(
            expected_change.get(number)
        ):
            return False
    return True


def _ore(value: Decimal | float | None) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


# ---- running the plan ---------------------------------------------------------------------------


@dataclass
class _Context:
    company: Company
    run: SyncRun
    client: TripletexClient
    calls: Calls
    work: Work
    start_month: int
    start_known: bool


def postings_apply(
    *,
    company: Company,
    run: SyncRun,
    client: TripletexClient,
    work: Work,
    calls: Calls,
    start_month: int,
    start_known: bool,
    daily_references: bool,
) -> None:
    """Pull and store what `work` plans: one posting stream for the postings years, a yearly
    balance sheet per whole year it covers, one /balanceSheet per month for the rest; and the
    chart, departments and projects where the postings name one unknown or (`daily_references`)
    they are a day old (`ledger.sync.reference.references_refresh`)."""
    ctx = _Context(company, run, client, calls, work, start_month, start_known)
    streamed = [y for y in work.years if y.mode in (WHOLE, CARRY)]
    read = None
    if streamed:
        start = min(y.carry_from or y.fy.start for y in streamed)
        end = max(y.end for y in streamed)
        read = postings_read(client, start=start, end=end, years=len(streamed))
    references_refresh(company, client, read.rows if read else [], daily=daily_references)
    deviating = False
    for year in work.years:
        if year.mode == MONTHLY:
            _months_write(ctx, year.write)
        elif year.mode == CARRY:
            _carry_apply(ctx, year, read)
        else:
            deviating = _whole_apply(ctx, year, read, deviating=deviating)


def _whole_apply(
    ctx: _Context, year: YearWork, read: PostingsRead | None, *, deviating: bool
) -> bool:
    """Pull one fiscal year whole; returns whether the firm's fiscal year proved not to start in
    January (the later years of the run then go by months too)."""
    fy = year.fy
    if read is None or not read.covers(fy.start, year.end):
        _decide(ctx, fy, FiscalYearSync.Strategy.MONTHS, 0, _large_reason())
        _months_write(ctx, year.write)
        return deviating
    rows = read.between(fy.start, year.end)
    balances = ctx.work.balances.get(fy.start)
    if balances is None:
        balances = _year_balance(ctx.client, fy.start, year.end)
    opening = openings(balances)
    if deviating or (
        not ctx.start_known and fy.start.month == 1 and any(is_result_account(n) for n in opening)
    ):
        _decide(ctx, fy, FiscalYearSync.Strategy.MONTHS, len(rows), _fiscal_year_reason())
        _months_write(ctx, year.write, postings=(fy.start, year.end, rows))
        return True
    differences = control_differences(rows, balances)
    if differences:
        _decide(ctx, fy, FiscalYearSync.Strategy.MONTHS, len(rows), _control_reason(differences))
        _months_write(ctx, year.write, postings=(fy.start, year.end, rows))
        return deviating
    derived = months_derive(
        year.months, opening, changes_by_month(rows), start_month=fy.start.month
    )
    _decide(ctx, fy, FiscalYearSync.Strategy.POSTINGS, len(rows), "")
    _derived_write(ctx, fy.start, year.end, rows, {m: derived[m] for m in year.write})
    return deviating


def _carry_apply(ctx: _Context, year: YearWork, read: PostingsRead | None) -> None:
    """Re-derive a postings year's months from `carry_from` on from the stored close before."""
    start = year.carry_from
    assert start is not None
    if read is None or not read.covers(start, year.end):
        _months_write(ctx, year.write)
        return
    rows = read.between(start, year.end)
    before = add_months(start, -1)
    opening = {
        number: out
        for number, out in AccountBalance.objects.filter(
            company=ctx.company, month=before
        ).values_list("account_number", "balance_out")
        if out and not (start == year.fy.start and is_result_account(number))
    }
    derived = months_derive(
        year.write, opening, changes_by_month(rows), start_month=ctx.start_month
    )
    _derived_write(ctx, start, year.end, rows, derived)


def _derived_write(
    ctx: _Context,
    start: datetime.date,
    end: datetime.date,
    rows: list[Posting],
    months: dict[datetime.date, MonthValues],
) -> None:
    """Store a period's postings and the months derived from them in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        postings_replace(
            company=ctx.company, date_from=start, date_to=end, postings=rows, synced_at=now
        )
        _posting_months_mark(ctx.company, start, end, now)
        for month, values in sorted(months.items()):
            balances_month_replace(
                company=ctx.company,
                month=month,
                values=values,
                synced_at=now,
                period_closed=ctx.work.closed.get(month, False),
                run_id=ctx.run.pk,
                run_calls=ctx.calls(),
            )


def _months_write(
    ctx: _Context,
    months: list[datetime.date],
    *,
    postings: tuple[datetime.date, datetime.date, list[Posting]] | None = None,
) -> None:
    """One /balanceSheet per month, each month replaced on its own; the postings the key could
    see are stored too (the drill-down shows them)."""
    if postings is not None:
        start, end, rows = postings
        now = timezone.now()
        with transaction.atomic():
            postings_replace(
                company=ctx.company, date_from=start, date_to=end, postings=rows, synced_at=now
            )
            _posting_months_mark(ctx.company, start, end, now)
    for month in months:
        rows_of_month = ctx.client.balance_sheet(
            date_from=month, date_to=month_next(month), include_accounts_without_movements=True
        )
        balances_month_replace(
            company=ctx.company,
            month=month,
            values=balance_rows_values(rows_of_month),
            synced_at=timezone.now(),
            period_closed=ctx.work.closed.get(month, False),
            run_id=ctx.run.pk,
            run_calls=ctx.calls(),
        )


def _posting_months_mark(
    company: Company, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> None:
    """Record that the postings of every month in [start, end) are stored as of `now`."""
    month = month_start(start)
    marks = []
    while month < end:
        marks.append(PostingMonth(company=company, month=month, synced_at=now))
        month = month_next(month)
    PostingMonth.objects.bulk_create(
        marks,
        update_conflicts=True,
        unique_fields=["company", "month"],
        update_fields=["synced_at"],
    )


def _decide(ctx: _Context, fy: FiscalYear, strategy: str, postings: int, reason: str) -> None:
    """Record how the run pulled a fiscal year, on the run and in FiscalYearSync."""
    FiscalYearSync.objects.update_or_create(
        company=ctx.company,
        start=fy.start,
        defaults={
            "strategy": strategy,
            "postings": postings,
            "reason": reason,
            "synced_at": timezone.now(),
        },
    )
    entry = {"year": fy.label, "strategy": strategy, "postings": postings, "reason": reason}
    ctx.run.strategies = [*ctx.run.strategies, entry]
    ctx.run.save(update_fields=["strategies"])


def _large_reason() -> str:
    return _(
        "at least %(pages)s pages of %(size)s postings a year: one balance sheet per month "
        "costs no more calls"
    ) % {"pages": MAX_PAGES, "size": f"{POSTING_PAGE_MAX:,}".replace(",", " ")}


def _fiscal_year_reason() -> str:
    return _(
        "the fiscal year does not start in January; monthly balances show in which month it does"
    )


def _control_reason(differences: list[tuple[int, Decimal, Decimal]]) -> str:
    named = ", ".join(
        _("account %(account)s: postings %(postings)s, Tripletex %(tripletex)s")
        % {
            "account": number,
            "postings": format_amount(summed),
            "tripletex": format_amount(expected),
        }
        for number, summed, expected in differences[:MAX_ACCOUNTS_NAMED]
    )
    if len(differences) > MAX_ACCOUNTS_NAMED:
        named += ", …"
    return _(
        "the postings do not add up to Tripletex's totals for the year (%(accounts)s); the key "
        "may not see every voucher (e.g. salary), so the year was pulled by months"
    ) % {"accounts": named}


# ---- one month on request (the drill-down's refresh) --------------------------------------------


def postings_month_refresh(
    *, company: Company, month: datetime.date, client: TripletexClient | None = None
) -> int:
    """Pull one month's postings again and store them in place of the old (one call per 10,000
    postings, plus the chart when they name an account we do not know); returns how many.
    Raises ConnectionUnavailable or TripletexError."""
    client = client or tripletex_client_for(company)
    end = month_next(month)
    rows = [p for page in client.posting_pages(date_from=month, date_to=end) for p in page.values]
    references_refresh(company, client, rows, daily=False)
    now = timezone.now()
    with transaction.atomic():
        postings_replace(
            company=company, date_from=month, date_to=end, postings=rows, synced_at=now
        )
        _posting_months_mark(company, month, end, now)
    return len(rows)

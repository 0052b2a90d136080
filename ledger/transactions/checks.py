"""Checks at the moment of entry: what Tripletex would refuse, found before anything is saved.

Every way a transaction comes in or moves on (the forms, the CSV import, an edit, "book", "book
all ready") runs the same checks against what we know of the firm's Tripletex: its accounting
periods and its chart of accounts as the sync stores them (`AccountingPeriod`, `LedgerAccount`,
ledger/sync/reference.py). Tripletex checks the same things when a voucher is posted
(shared/tripletex/README.md §6, "Before a booking, check that the voucher date lies in a period
with `isClosed=false`"; §11 no. 19); here the person hears it while the transaction is still in
front of them. The booking worker still asks Tripletex live before it posts
(`vouchers.period_is_closed`, `chart_for_booking`): these checks are the early answer, not the last.

**Fresh enough.** `reference_load` reads the stored rows; when they are older than a day
(`REFERENCE_MAX_AGE`, the sync's own rule) or the person asks ("Refresh from Tripletex"), it pulls
the chart and the periods first through the sync's own `accounts_pull` and `periods_pull` (2
calls). The periods pulled are the previous, current and next fiscal year, widened to the fiscal
years of the dates being checked (a CSV file of old trades) — one call however wide. A fiscal year
Tripletex has no periods for is not asked about again for a day. When Tripletex cannot be reached,
the stored rows are used as they are, and the page says how old they are.

**The rules.**

* The voucher date (trade date, a journal entry's date) must lie in an open period: a period whose
  `isClosed` is true refuses it. Tripletex closes periods month by month (`/ledger/accountingPeriod`
  has one period per month, `start`, `end` exclusive and `isClosed`; the sandbox does the same and
  closes every month before the previous one). A date before the first period Tripletex has is
  refused too: Tripletex locks the accounts before the opening balance ("Når du lager en
  åpningsbalanse i Tripletex, låser regnskapet seg før bilagsdatoen på åpningsbalansen",
  hjelp.tripletex.no, "Hvordan får jeg ført et bilag som er datert før åpningsbalansen"), and the
  sandbox treats a date before its first period as closed. A date after the last period Tripletex
  has is let through (within the year-ahead bound below): we found nothing documented on how
  Tripletex treats a year it has no periods for yet, so its own answer at booking decides.
* A date is absurd before 2000-01-01 (`EARLIEST_DATE`: no firm keeps such vouchers in Tripletex
  for us to add to, and a two-digit year typed as "0026" lands there) or more than a year after
  today (`MAX_YEARS_AHEAD`); the settlement date too.
* Every account posted to exists in the chart and is active: a journal entry's lines, and for a
  securities transaction the GL roles its type posts to (`vouchers.roles_for`, checked by
  `vouchers.gl_settings_check` like the settings page and booking do).
* A broker account's currency (BrokerAccount.currency) is the currency Tripletex keeps its cash
  account in (the synced chart, `LedgerAccount.currency`): Tripletex takes only postings in that
  currency on an account locked to a foreign one (changelog 28.06.2016), so a USD broker account
  on a NOK cash account, or the other way round, is a set-up problem said here, not a refusal at
  booking. On a broker account kept in a foreign currency, the transaction must be in it and give
  its amount in it (`vouchers.payment_in_currency`, the same rule booking applies). A journal
  entry (ours are in NOK) may not name such an account (a Nordnet fee refund on a USD account is
  one: it is refused with the reason rather than by Tripletex).
* Every value fits its database column (`column_problems`), and the note is at most
  `NOTE_MAX_LENGTH` characters (its column has no limit of its own).

**Never synced.** A firm whose periods and chart we have never read (not connected yet, or
Tripletex did not answer the first time) gets the date bounds and the column checks only; the
transaction is saved as ready with a warning saying the period and accounts are not checked yet.
Booking then goes ahead: the worker reads the period and the chart live from Tripletex before it
posts (a firm without a connection cannot book at all), so nothing unchecked reaches the ledger.

**Rows stored before these checks.** `row_problems` says what is wrong with a row already stored
(a 30-digit amount an older version let SQLite keep, a date whose period has closed since): the
list, the transaction page and the staff admin mark it as needing correction, and it can still be
edited or deleted (`ledger.models.fields.StoredDecimalField` reads such a number back).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company
from ledger.models import (
    AccountingPeriod,
    BrokerAccount,
    GLAccountSettings,
    LedgerAccount,
    Transaction,
)
from ledger.periods import FiscalYear, fiscal_year_of, fiscal_year_start_month_of, today_local
from ledger.sync.reference import REFERENCE_MAX_AGE, accounts_pull, periods_pull
from ledger.transactions.vouchers import (
    NOK,
    ChartAccount,
    VoucherBuildError,
    chart_account_of,
    forget_reference_data,
    gl_account_problem,
    gl_settings_check,
    gl_settings_get,
    payment_in_currency,
    role_label,
    roles_for,
)
from tripletex.errors import TripletexError

EARLIEST_DATE = datetime.date(2000, 1, 1)
MAX_YEARS_AHEAD = 1
# The note is a TextField (no length in the database): this is the limit the form and the service
# keep, far above any real note and far below what would make a page slow.
NOTE_MAX_LENGTH = 5000
# Rows whose booking is still to come: their date and accounts still matter.
TO_BE_BOOKED = (
    Transaction.Status.DRAFT,
    Transaction.Status.READY,
    Transaction.Status.REJECTED,
    Transaction.Status.FAILED,
)


@dataclass(frozen=True)
class Period:
    """One accounting period [start, end) as Tripletex has it."""

    start: datetime.date
    end: datetime.date
    is_closed: bool


@dataclass
class Reference:
    """What we know of the firm's Tripletex for the checks: its chart and its periods ({} / []
    when never read), when each was read, and whether a refresh just now failed (why)."""

    chart: dict[int, ChartAccount] = field(default_factory=dict)
    periods: list[Period] = field(default_factory=list)
    chart_synced_at: datetime.datetime | None = None
    periods_synced_at: datetime.datetime | None = None
    refreshed: bool = False
    refresh_failed: str = ""
    # The firm's broker accounts by id, read once when a check first needs one (None: not yet).
    brokers: dict[int, BrokerAccount] | None = None

    @property
    def synced_at(self) -> datetime.datetime | None:
        """When the older of the two was read from Tripletex (None if either never was)."""
        if self.chart_synced_at is None or self.periods_synced_at is None:
            return None
        return min(self.chart_synced_at, self.periods_synced_at)

    def period_of(self, day: datetime.date) -> Period | None:
        for period in self.periods:
            if period.start <= day < period.end:
                return period
        return None


def _stored(company: Company) -> Reference:
    chart_rows = LedgerAccount.objects.filter(company=company)
    chart = {row.number: chart_account_of(row) for row in chart_rows}
    periods = [
        Period(p.start, p.end, p.is_closed)
        for p in AccountingPeriod.objects.filter(company=company).order_by("start")
    ]
    return Reference(
        chart=chart,
        periods=periods,
        chart_synced_at=chart_rows.aggregate(at=Max("synced_at"))["at"],
        periods_synced_at=AccountingPeriod.objects.filter(company=company).aggregate(
            at=Max("synced_at")
        )["at"],
    )


def reference_stored(*, company: Company) -> Reference:
    """The chart and periods as stored, whatever their age (no Tripletex call)."""
    return _stored(company)


def _is_stale(at: datetime.datetime | None, now: datetime.datetime) -> bool:
    return at is None or at <= now - REFERENCE_MAX_AGE


def _tried_key(company: Company, fiscal_year: FiscalYear) -> str:
    return f"ledger:checks:periods-asked:{company.pk}:{fiscal_year.start.isoformat()}"


def _uncovered_years(
    company: Company, ref: Reference, days: Iterable[datetime.date]
) -> list[FiscalYear]:
    """The fiscal years of `days` no stored period covers and not asked about in the last day."""
    latest = _latest(today_local())
    uncovered = [d for d in days if EARLIEST_DATE <= d <= latest and ref.period_of(d) is None]
    if not uncovered:
        return []
    start_month = fiscal_year_start_month_of(company=company)
    years = {fiscal_year_of(day.replace(day=1), start_month) for day in uncovered}
    return sorted(
        (fy for fy in years if cache.get(_tried_key(company, fy)) is None), key=lambda fy: fy.start
    )


def reference_load(
    *, company: Company, refresh: bool = False, days: Sequence[datetime.date] = ()
) -> Reference:
    """The firm's chart and periods for the checks: refreshed from Tripletex first when asked
    (`refresh`), when a day old, or when a fiscal year of `days` has no stored period yet; the
    stored rows as they are when Tripletex cannot be read (`refresh_failed` says why)."""
    ref = _stored(company)
    now = timezone.now()
    chart_due = refresh or _is_stale(ref.chart_synced_at, now)
    uncovered = _uncovered_years(company, ref, days)
    periods_due = refresh or _is_stale(ref.periods_synced_at, now) or bool(uncovered)
    if not (chart_due or periods_due):
        return ref
    try:
        client = tripletex_client_for(company)
        if chart_due:
            accounts_pull(company, client)
        if periods_due:
            start_month = fiscal_year_start_month_of(company=company)
            current = fiscal_year_of(today_local().replace(day=1), start_month)
            years = [current.previous(), current, FiscalYear(current.end), *uncovered]
            periods_pull(company, client, years)
            for fiscal_year in years:
                cache.set(_tried_key(company, fiscal_year), True, REFERENCE_MAX_AGE.total_seconds())
    except ConnectionUnavailable as exc:
        # Not connected: nothing to refresh from. Only an explicit request hears about it.
        ref.refresh_failed = str(exc) if refresh else ""
        return ref
    except TripletexError as exc:
        ref.refresh_failed = _(
            "Tripletex could not be read just now (%(error)s); the checks used what was read "
            "before."
        ) % {"error": exc}
        return ref
    # The booking caches hold their own copy of the chart and periods: drop it, so they agree.
    forget_reference_data(company=company)
    fresh = _stored(company)
    fresh.refreshed = True
    return fresh


def reference_refresh(*, company: Company) -> Reference:
    """Read the chart and the periods from Tripletex now (the "Refresh from Tripletex" button)."""
    return reference_load(company=company, refresh=True)


def reference_note(ref: Reference) -> str:
    """What a page says when the checks could not use fresh data ('' when they could)."""
    if ref.refresh_failed:
        return ref.refresh_failed
    if not ref.periods and not ref.chart:
        return _(
            "This firm's accounting periods and chart of accounts have not been read from "
            "Tripletex yet, so the date's period and the accounts are not checked until booking."
        )
    return ""


# ---- the checks -------------------------------------------------------------------------------


def _latest(today: datetime.date) -> datetime.date:
    """The last acceptable day: a year after today (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def _day(value: datetime.date) -> str:
    return value.strftime("%d.%m.%Y")


def date_bounds_problem(day: datetime.date | None, *, label: str) -> str:
    """Why a date is absurd ('' when it is not): before 2000 or more than a year ahead."""
    if day is None:
        return ""
    if day < EARLIEST_DATE:
        return _("%(label)s %(date)s is before the year 2000; check the year.") % {
            "label": label,
            "date": _day(day),
        }
    if day > _latest(today_local()):
        return _("%(label)s %(date)s is more than a year ahead; check the year.") % {
            "label": label,
            "date": _day(day),
        }
    return ""


def period_problem(day: datetime.date, ref: Reference) -> str:
    """Why Tripletex would refuse a voucher dated `day` ('' when its period is open, or when no
    periods are known to tell)."""
    if not ref.periods:
        return ""
    period = ref.period_of(day)
    if period is not None and period.is_closed:
        return _(
            "The accounting period of %(date)s (%(start)s–%(end)s) is closed in Tripletex. Choose "
            "a date in an open period, or ask the accountant to reopen it."
        ) % {
            "date": _day(day),
            "start": _day(period.start),
            "end": _day(period.end - datetime.timedelta(days=1)),
        }
    first = ref.periods[0].start
    if period is None and day < first:
        return _(
            "Tripletex has no accounting period for %(date)s: the firm's first period starts "
            "%(first)s, and no voucher can be dated before it."
        ) % {"date": _day(day), "first": _day(first)}
    return ""


def _trade_date_label(txn: Transaction) -> str:
    return str(_("The date") if txn.kind == Transaction.Kind.JOURNAL else _("The trade date"))


def date_problems(txn: Transaction, ref: Reference) -> list[str]:
    """The voucher date's problems (bounds, then its period) and the settlement date's bounds."""
    label = _trade_date_label(txn)
    problems = [
        p
        for p in (
            date_bounds_problem(txn.trade_date, label=label),
            date_bounds_problem(txn.settlement_date, label=str(_("The settlement date"))),
        )
        if p
    ]
    if txn.trade_date and not problems and (problem := period_problem(txn.trade_date, ref)):
        problems.append(problem)
    return problems


def account_problems(
    *,
    company: Company,
    txn: Transaction,
    line_accounts: Sequence[int | None],
    ref: Reference,
    gl: GLAccountSettings | None = None,
) -> list[str]:
    """Accounts the voucher would post to that are missing from the chart or inactive: a journal
    entry's lines (`line_accounts`, in row order), or the GL roles of a securities type."""
    if txn.kind == Transaction.Kind.JOURNAL:
        if not ref.chart:
            return []
        return [
            _("Journal line %(row)s: %(problem)s") % {"row": row, "problem": problem}
            for row, number in enumerate(line_accounts, start=1)
            if number is not None
            and (problem := gl_account_problem(number=number, chart=ref.chart))
        ]
    problems = _cash_account_problems(txn, ref)
    roles = roles_for(txn.kind, txn.settle_via)
    if not roles:
        return problems
    gl = gl or gl_settings_get(company=company)
    checked = gl_settings_check(company=company, gl=gl, chart=ref.chart)
    return [
        _(
            "The account for «%(role)s» cannot be posted to: %(problem)s Choose another under "
            "Transactions → Account settings."
        )
        % {"role": role_label(role), "problem": checked[role]}
        for role in roles
        if checked[role]
    ] + problems


def _cash_account_problems(txn: Transaction, ref: Reference) -> list[str]:
    """The GL cash account of the transaction's broker account (and of the account a currency
    exchange goes into) missing from the chart or inactive; [] when fine or the chart unknown.
    The voucher posts the money against it instead of the bank (vouchers.payment_account)."""
    if not ref.chart or txn.settle_via == Transaction.SettleVia.LOAN:
        return []
    accounts = [_broker_of(txn, ref)]
    if txn.to_broker_account_id is not None:
        accounts.append(_firm_brokers(txn, ref).get(txn.to_broker_account_id))
    problems = []
    for account in accounts:
        if account is not None and (
            problem := gl_account_problem(number=account.cash_account, chart=ref.chart)
        ):
            problems.append(
                _("The cash account of %(account)s: %(problem)s")
                % {"account": account.label, "problem": problem}
            )
    return problems


def _broker_of(txn: Transaction, ref: Reference) -> BrokerAccount | None:
    """The transaction's broker account: the one it holds, else from the firm's (read once)."""
    if txn.broker_account_id is None:
        return None
    if Transaction.broker_account.is_cached(txn):
        return txn.broker_account
    return _firm_brokers(txn, ref).get(txn.broker_account_id)


def _firm_brokers(txn: Transaction, ref: Reference) -> dict[int, BrokerAccount]:
    """The firm's broker accounts by id, read once per Reference."""
    if ref.brokers is None:
        ref.brokers = BrokerAccount.objects.filter(company_id=txn.company_id).in_bulk()
    return ref.brokers


def currency_problems(
    txn: Transaction, ref: Reference, line_accounts: Sequence[int | None] = ()
) -> list[str]:
    """A broker account whose currency is not its cash account's in Tripletex, a transaction
    that cannot be posted in the broker account's currency, or a journal line on an account
    kept in a foreign currency (journal entries are NOK only; module docstring); [] when fine."""
    if txn.kind == Transaction.Kind.JOURNAL:
        return [
            _(
                "Journal line %(row)s: account %(number)s is kept in %(currency)s in Tripletex, "
                "which takes only %(currency)s on it, and a journal entry is posted in NOK. "
                "Choose a NOK account."
            )
            % {"row": row, "number": number, "currency": account.currency}
            for row, number in enumerate(line_accounts, start=1)
            if number is not None
            and (account := ref.chart.get(number)) is not None
            and account.is_foreign
        ]
    if txn.settle_via == Transaction.SettleVia.LOAN:
        return []
    broker = _broker_of(txn, ref)
    if broker is None:
        return []
    kept = (broker.currency or NOK).upper()
    account = ref.chart.get(broker.cash_account)
    in_chart = (account.currency or NOK) if account is not None else kept
    if in_chart != kept:
        return [
            _(
                "%(broker)s is set up in %(kept)s, but its cash account %(number)s is kept in "
                "%(chart)s in Tripletex, which takes only %(chart)s on it. Correct the broker "
                "account's currency or cash account on the Broker accounts page."
            )
            % {
                "broker": broker.label,
                "kept": kept,
                "number": broker.cash_account,
                "chart": in_chart,
            }
        ]
    try:
        payment_in_currency(txn=txn, lines=[])
    except VoucherBuildError as exc:
        return [str(exc)]
    return []


def entry_problems(
    *,
    company: Company,
    txn: Transaction,
    line_accounts: Sequence[int | None] = (),
    ref: Reference,
    gl: GLAccountSettings | None = None,
) -> list[str]:
    """Everything Tripletex would refuse about this (unsaved or stored) transaction's date,
    accounts and currency, as messages for the person; [] when it can go ahead."""
    return (
        date_problems(txn, ref)
        + account_problems(company=company, txn=txn, line_accounts=line_accounts, ref=ref, gl=gl)
        + currency_problems(txn, ref, line_accounts)
    )


def column_problems(instance: Model, names: Iterable[str]) -> list[str]:
    """What the database would refuse in these columns of a row, as messages.

    Checked before saving: PostgreSQL refuses a text longer than its max_length, a number with
    more digits than its column, an integer out of range or a NUL character with a DataError (a
    500), and SQLite stores an over-long text silently. The model fields' own validators say what
    is wrong (Django's messages, translated); the NUL check is the one forms.CharField makes; the
    note has the length limit NOTE_MAX_LENGTH."""
    wanted = set(names)
    exclude = [f.name for f in instance._meta.concrete_fields if f.name not in wanted]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        found = exc.message_dict
    else:
        found = {}
    for name in sorted(wanted):
        value = getattr(instance, name, None)
        if isinstance(value, str) and "\x00" in value:
            found.setdefault(name, []).append(str(ProhibitNullCharactersValidator.message))
        if name == "note" and isinstance(value, str) and len(value) > NOTE_MAX_LENGTH:
            found.setdefault(name, []).append(
                _("Ensure this value has at most %(limit)s characters (it has %(length)s).")
                % {"limit": NOTE_MAX_LENGTH, "length": len(value)}
            )
    problems = []
    for name, messages in found.items():
        model_field = instance._meta.get_field(name)
        label = capfirst(str(getattr(model_field, "verbose_name", name)))
        problems += [f"{label}: {message}" for message in messages]
    return problems


# The columns of a stored row whose values can have broken before the column checks existed.
STORED_COLUMNS = (
    "trade_date",
    "settlement_date",
    "description",
    "instrument_name",
    "isin",
    "quantity",
    "price",
    "amount",
    "fees",
    "currency",
    "amount_currency",
    "to_instrument_name",
    "to_isin",
    "to_quantity",
    "note",
)
LINE_COLUMNS = ("debit", "credit", "description", "department_number", "project_number", "vat_code")


def row_problems(
    *, company: Company, txn: Transaction, ref: Reference, gl: GLAccountSettings | None = None
) -> list[str]:
    """Why a stored row needs correction before it can be booked ([] when it does not): values
    its columns cannot hold, and — while its booking is still to come — a date or account that
    Tripletex would refuse now. Journal lines are read through `txn.lines` (prefetch them)."""
    problems = column_problems(txn, STORED_COLUMNS)
    lines = list(txn.lines.all()) if txn.kind == Transaction.Kind.JOURNAL else []
    for line in lines:
        problems += [
            _("Journal line %(row)s: %(problem)s") % {"row": line.row, "problem": problem}
            for problem in column_problems(line, LINE_COLUMNS)
        ]
    if txn.status in TO_BE_BOOKED:
        problems += entry_problems(
            company=company,
            txn=txn,
            line_accounts=[line.account_number for line in lines],
            ref=ref,
            gl=gl,
        )
    return problems


def rows_needing_correction(
    *, company: Company, rows: Iterable[Transaction]
) -> dict[int, list[str]]:
    """{id: problems} of the rows that need correction (row_problems), against the stored chart
    and periods (a list page never calls Tripletex); journal lines read through `txn.lines`."""
    ref = reference_stored(company=company)
    gl = gl_settings_get(company=company)
    found = {}
    for txn in rows:
        if problems := row_problems(company=company, txn=txn, ref=ref, gl=gl):
            found[txn.pk] = problems
    return found

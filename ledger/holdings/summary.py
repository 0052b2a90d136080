"""The holdings page's figures beyond the lots: each realisation split inside and outside the
exemption method, the year's tax summary, and the tie-out of the holdings' cost with the synced
balance of the securities account(s).

Counting: the same rows as the lots (ledger/holdings/services.py, "What counts"): queued, being
booked, booked, and needing attention after a booking attempt. A dividend counts the same way.

The 3 % rule (skatteloven § 2-38 (6) a; Skatte-ABC F-32-4.1.1): 3 % of the dividends inside the
method is taxable income; gains and losses are not in its basis. Gains inside are not taxable and
losses inside not deductible; outside, gains are taxable and losses deductible. Dividends within a
tax group (over 90 %) are exempt from the 3 % rule, which Dynamik does not track (README,
"Fritaksmetoden").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.holdings.exemption import ExemptionRuling, exemption_ruling, instrument_for
from ledger.holdings.selectors import Realisation, realisations
from ledger.models import AccountBalance, Lot, LotUse, MonthSync, Transaction
from ledger.periods import month_end

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
THREE_PERCENT = Decimal("0.03")
Status = Transaction.Status
# The rows that count (the lots' RESERVED in ledger/holdings/services.py).
COUNTED = (Status.QUEUED, Status.BOOKING, Status.BOOKED, Status.FAILED)


def quantity_text(value: Decimal) -> str:
    """Units for people: 1234.5000 → '1 234,5' (no trailing zeros, a real minus)."""
    text = format(value.normalize(), "f")
    whole, _sep, fraction = text.lstrip("-").partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    sign = "\u2212" if value < 0 else ""
    return sign + "\u00a0".join(groups or ["0"]) + ("," + fraction if fraction else "")


def _inside(amount: Decimal, share: Decimal) -> Decimal:
    """The part inside the method, to the øre, half up: the same rounding as the voucher's split."""
    return amount if share >= 1 else (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SplitRealisation:
    """A sale or switch with its result split inside and outside the method."""

    realisation: Realisation
    ruling: ExemptionRuling
    result_inside: Decimal
    result_outside: Decimal

    @property
    def quantity(self) -> str:
        return quantity_text(self.realisation.quantity)


@dataclass(frozen=True)
class DividendRow:
    """A dividend of the year, split inside and outside the method."""

    transaction_id: int
    trade_date: datetime.date
    instrument_name: str
    amount: Decimal
    inside: Decimal
    outside: Decimal
    ruling: ExemptionRuling


@dataclass
class TaxYear:
    """The year's figures under the exemption method (all NOK, losses as positive amounts)."""

    year: int
    dividends_inside: Decimal = ZERO
    dividends_outside: Decimal = ZERO
    gains_inside: Decimal = ZERO
    losses_inside: Decimal = ZERO
    gains_outside: Decimal = ZERO
    losses_outside: Decimal = ZERO
    realisations: list[SplitRealisation] = field(default_factory=list)
    dividends: list[DividendRow] = field(default_factory=list)

    @property
    def three_percent(self) -> Decimal:
        """3 % of the dividends inside the method: taxable income (to the øre, half up)."""
        return (self.dividends_inside * THREE_PERCENT).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def result_outside(self) -> Decimal:
        """Gains less losses outside the method: the taxable net."""
        return self.gains_outside - self.losses_outside

    @property
    def proceeds(self) -> Decimal:
        return sum((r.realisation.proceeds for r in self.realisations), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((r.realisation.cost for r in self.realisations), ZERO)

    @property
    def result(self) -> Decimal:
        return sum((r.realisation.result for r in self.realisations), ZERO)


def tax_lines(summary: TaxYear) -> list[tuple[str, str, Decimal]]:
    """The year's summary as (key, label, amount) lines, for the page and the workbook alike."""
    return [
        ("dividends-inside", _("Dividends inside the exemption method"), summary.dividends_inside),
        ("three-percent", _("3 % of them: taxable income"), summary.three_percent),
        (
            "dividends-outside",
            _("Dividends outside the exemption method (taxable)"),
            summary.dividends_outside,
        ),
        (
            "gains-inside",
            _("Gains inside the exemption method (not taxable)"),
            summary.gains_inside,
        ),
        (
            "losses-inside",
            _("Losses inside the exemption method (not deductible)"),
            summary.losses_inside,
        ),
        ("gains-outside", _("Gains outside the exemption method (taxable)"), summary.gains_outside),
        (
            "losses-outside",
            _("Losses outside the exemption method (deductible)"),
            summary.losses_outside,
        ),
    ]


def three_percent_note() -> str:
    """What the summary leaves to the accountant, for people."""
    return _(
        "The 3 % rule does not apply to dividends within a tax group (over 90 % of capital and "
        "votes); Dynamik does not track that, so check such dividends yourself. Each "
        "instrument's method is on the instruments page."
    )


def _ruling_by_key(company: Company, txn: Transaction, cache: dict[str, ExemptionRuling]):
    key = txn.instrument_key
    if key not in cache:
        cache[key] = exemption_ruling(instrument_for(company=company, txn=txn))
    return cache[key]


def tax_year(*, company: Company, year: int) -> TaxYear:
    """The year's realisations and dividends split inside and outside the method, with totals."""
    summary = TaxYear(year=year)
    rulings: dict[str, ExemptionRuling] = {}
    found = realisations(company=company, year=year)
    txns = Transaction.objects.in_bulk([r.transaction_id for r in found])
    for item in found:
        ruling = _ruling_by_key(company, txns[item.transaction_id], rulings)
        inside = _inside(item.result, ruling.inside_share)
        outside = item.result - inside
        summary.realisations.append(SplitRealisation(item, ruling, inside, outside))
        summary.gains_inside += max(inside, ZERO)
        summary.losses_inside += max(-inside, ZERO)
        summary.gains_outside += max(outside, ZERO)
        summary.losses_outside += max(-outside, ZERO)
    dividends = Transaction.objects.filter(
        company=company,
        kind=Transaction.Kind.DIVIDEND,
        status__in=COUNTED,
        trade_date__gte=datetime.date(year, 1, 1),
        trade_date__lt=datetime.date(year + 1, 1, 1),
    ).order_by("trade_date", "pk")
    for txn in dividends:
        ruling = _ruling_by_key(company, txn, rulings)
        amount = txn.amount or ZERO
        inside = _inside(amount, ruling.inside_share)
        summary.dividends.append(
            DividendRow(
                txn.pk,
                txn.trade_date,
                txn.instrument_name or txn.isin,
                amount,
                inside,
                amount - inside,
                ruling,
            )
        )
        summary.dividends_inside += inside
        summary.dividends_outside += amount - inside
    return summary


def years_with_activity(*, company: Company, today: datetime.date) -> list[int]:
    """The years the year picker offers: from the firm's first securities transaction to now."""
    first = (
        Transaction.objects.filter(company=company)
        .exclude(kind=Transaction.Kind.JOURNAL)
        .order_by("trade_date")
        .values_list("trade_date", flat=True)
        .first()
    )
    start = first.year if first else today.year
    return list(range(today.year, min(start, today.year) - 1, -1))


# ---- tie-out with the synced ledger ---------------------------------------------------------


@dataclass(frozen=True)
class HoldingsTieout:
    """The holdings' booked cost beside the synced balance of the securities account(s)."""

    accounts: tuple[int, ...]
    as_of: datetime.date | None
    synced_at: datetime.datetime | None
    ledger_balance: Decimal | None
    booked_cost: Decimal
    booked_since_sync: int
    not_booked: int

    @property
    def difference(self) -> Decimal | None:
        if self.ledger_balance is None:
            return None
        return self.booked_cost - self.ledger_balance

    @property
    def state(self) -> str:
        """'no-sync', 'match', 'not-synced-yet' (bookings since the sync) or 'outside'."""
        if self.ledger_balance is None:
            return "no-sync"
        if self.difference == 0:
            return "match"
        return "not-synced-yet" if self.booked_since_sync else "outside"


def _booked_cost(*, company: Company, on: datetime.date) -> Decimal:
    """What the booked vouchers put on the securities account up to `on`: the cost of the lots
    booked purchases opened, less what booked sales, switches and repayments took."""
    booked = Status.BOOKED
    opened = Lot.objects.filter(
        company=company, opened_by__status=booked, acquired__lte=on
    ).aggregate(total=Sum("cost"))["total"]
    taken = LotUse.objects.filter(
        company=company, transaction__status=booked, transaction__trade_date__lte=on
    ).aggregate(total=Sum("cost"))["total"]
    return (Decimal(opened or 0) - Decimal(taken or 0)).quantize(ZERO)


def holdings_tieout(*, company: Company, accounts: tuple[int, ...]) -> HoldingsTieout:
    """Compare the booked holdings' cost with the synced balance of `accounts` at the end of the
    latest synced month (or the day it was synced, in a month not over yet)."""
    latest = MonthSync.objects.filter(company=company).aggregate(month=Max("month"))["month"]
    not_booked = (
        Transaction.objects.filter(company=company, status__in=COUNTED)
        .exclude(status=Status.BOOKED)
        .filter(kind__in=[k for k in Transaction.Kind.values if k != Transaction.Kind.JOURNAL])
        .count()
    )
    if latest is None:
        today = timezone.localdate()
        return HoldingsTieout(
            accounts, None, None, None, _booked_cost(company=company, on=today), 0, not_booked
        )
    sync = MonthSync.objects.get(company=company, month=latest)
    as_of = min(month_end(latest), timezone.localdate(sync.synced_at))
    balance = AccountBalance.objects.filter(
        company=company, month=latest, account_number__in=accounts
    ).aggregate(total=Sum("balance_out"))["total"]
    booked_since = Transaction.objects.filter(
        company=company, status=Status.BOOKED, booked_at__gt=sync.synced_at
    ).count()
    return HoldingsTieout(
        accounts=accounts,
        as_of=as_of,
        synced_at=sync.synced_at,
        ledger_balance=Decimal(balance or 0).quantize(ZERO),
        booked_cost=_booked_cost(company=company, on=as_of),
        booked_since_sync=booked_since,
        not_booked=not_booked,
    )

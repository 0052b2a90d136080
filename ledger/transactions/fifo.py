"""First in, first out: the cost of what a sale disposes of, per instrument, from earlier purchases.

Norwegian tax rules (skatteloven § 10-36 for shares and fund units) require FIFO: the oldest
lots are sold first. Brokerage fees are part of a lot's cost. A repayment of paid-in capital
lowers the cost of the lots still held, in proportion to their quantity. Costs stay exact to the
øre: a partial lot's cost is rounded half up, and the rest of the lot keeps the remainder, so the
lots' costs always add up to what was paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.models import Transaction

CENT = Decimal("0.01")

# What counts as an earlier movement: everything recorded except drafts and undone bookings.
_COUNTED = [s for s in Transaction.Status.values if s not in ("draft", "reversed")]


class FifoError(ValueError):
    """A sale, switch or repayment that the holdings cannot cover (message for the user)."""


@dataclass
class Lot:
    """Units bought together and what they cost in total (NOK, fees included)."""

    quantity: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Movement:
    """One transaction's effect on holdings, in the order they happened."""

    kind: str
    instrument: str
    quantity: Decimal
    cost: Decimal = Decimal(0)  # purchase: what the lot cost; repayment: amount repaid
    to_instrument: str = ""
    to_quantity: Decimal = Decimal(0)


class Holdings:
    """Open lots per instrument, oldest first."""

    def __init__(self) -> None:
        self.lots: dict[str, list[Lot]] = {}

    def held(self, instrument: str) -> Decimal:
        """Units of the instrument held now."""
        return sum((lot.quantity for lot in self.lots.get(instrument, [])), Decimal(0))

    def buy(self, instrument: str, quantity: Decimal, cost: Decimal) -> None:
        """Add a lot."""
        if quantity <= 0:
            raise FifoError(_("A purchase needs a quantity above zero."))
        self.lots.setdefault(instrument, []).append(Lot(quantity, cost))

    def sell(self, instrument: str, quantity: Decimal, *, label: str = "") -> Decimal:
        """Take `quantity` units out, oldest lots first; returns their cost. Raises FifoError."""
        held = self.held(instrument)
        if quantity <= 0:
            raise FifoError(_("A sale needs a quantity above zero."))
        if quantity > held:
            raise FifoError(
                _("Cannot sell %(quantity)s of %(instrument)s: only %(held)s held on that date.")
                % {
                    "quantity": _plain(quantity),
                    "instrument": label or instrument,
                    "held": _plain(held),
                }
            )
        lots = self.lots[instrument]
        cost = Decimal(0)
        left = quantity
        while left > 0:
            lot = lots[0]
            if lot.quantity <= left:
                cost += lot.cost
                left -= lot.quantity
                lots.pop(0)
                continue
            part = (lot.cost * left / lot.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            cost += part
            lot.cost -= part
            lot.quantity -= left
            left = Decimal(0)
        return cost

    def repay(self, instrument: str, amount: Decimal, *, label: str = "") -> None:
        """Lower the cost of the open lots by `amount`, pro rata by quantity. Raises FifoError."""
        lots = self.lots.get(instrument, [])
        total_cost = sum((lot.cost for lot in lots), Decimal(0))
        if not lots or amount > total_cost:
            raise FifoError(
                _("A repayment of %(amount)s exceeds the cost of %(instrument)s held (%(cost)s).")
                % {
                    "amount": _plain(amount),
                    "instrument": label or instrument,
                    "cost": _plain(total_cost),
                }
            )
        held = self.held(instrument)
        remaining = amount
        for i, lot in enumerate(lots):
            if i == len(lots) - 1:
                share = remaining
            else:
                share = (amount * lot.quantity / held).quantize(CENT, rounding=ROUND_HALF_UP)
                share = min(share, lot.cost, remaining)
            lot.cost -= share
            remaining -= share

    def apply(self, movement: Movement) -> Decimal | None:
        """Apply one movement; returns the disposed cost for sales and switches."""
        if movement.kind == Transaction.Kind.PURCHASE:
            self.buy(movement.instrument, movement.quantity, movement.cost)
        elif movement.kind == Transaction.Kind.SALE:
            return self.sell(movement.instrument, movement.quantity)
        elif movement.kind == Transaction.Kind.REPAYMENT:
            self.repay(movement.instrument, movement.cost)
        elif movement.kind == Transaction.Kind.FUND_SWITCH:
            cost = self.sell(movement.instrument, movement.quantity)
            self.buy(movement.to_instrument, movement.to_quantity, movement.cost)
            return cost
        return None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def movement_of(txn: Transaction) -> Movement | None:
    """The holdings effect of a transaction, or None when it has none (income, fees, journals)."""
    quantity = txn.quantity or Decimal(0)
    amount = txn.amount or Decimal(0)
    if txn.kind == Transaction.Kind.PURCHASE:
        return Movement(txn.kind, txn.instrument_key, quantity, amount + txn.fees)
    if txn.kind == Transaction.Kind.SALE:
        return Movement(txn.kind, txn.instrument_key, quantity)
    if txn.kind == Transaction.Kind.REPAYMENT:
        return Movement(txn.kind, txn.instrument_key, quantity, amount)
    if txn.kind == Transaction.Kind.FUND_SWITCH:
        to_key = (txn.to_isin or txn.to_instrument_name).strip().upper()
        # The new fund's cost is the value switched plus the fees of the switch.
        return Movement(
            txn.kind,
            txn.instrument_key,
            quantity,
            amount + txn.fees,
            to_key,
            txn.to_quantity or Decimal(0),
        )
    return None


def _earlier(*, company: Company, txn: Transaction) -> Iterable[Transaction]:
    rows = Transaction.objects.filter(company=company, status__in=_COUNTED).exclude(
        kind=Transaction.Kind.JOURNAL
    )
    if txn.pk:
        rows = rows.exclude(pk=txn.pk)
        before = Q(trade_date__lt=txn.trade_date) | Q(trade_date=txn.trade_date, pk__lt=txn.pk)
    else:
        # A new row goes after everything already recorded on its date.
        before = Q(trade_date__lte=txn.trade_date)
    return rows.filter(before).order_by("trade_date", "pk")


def holdings_before(*, company: Company, txn: Transaction) -> Holdings:
    """The company's lots just before `txn` (by trade date, then recording order)."""
    holdings = Holdings()
    for earlier in _earlier(company=company, txn=txn):
        movement = movement_of(earlier)
        if movement is None:
            continue
        try:
            holdings.apply(movement)
        except FifoError:
            # An earlier row that no longer fits (e.g. a purchase reversed since) was already
            # refused or booked; it must not block every later sale's preview.
            continue
    return holdings


def fifo_cost(*, company: Company, txn: Transaction) -> Decimal:
    """FIFO cost of what a sale or fund switch disposes of. Raises FifoError if not held."""
    holdings = holdings_before(company=company, txn=txn)
    quantity = txn.quantity or Decimal(0)
    return holdings.sell(txn.instrument_key, quantity, label=txn.instrument_name or txn.isin)


def fifo_check(*, company: Company, txn: Transaction) -> None:
    """Raise FifoError unless the holdings before `txn` cover it (sale, switch, repayment)."""
    movement = movement_of(txn)
    if movement is None or movement.kind == Transaction.Kind.PURCHASE:
        return
    holdings = holdings_before(company=company, txn=txn)
    label = txn.instrument_name or txn.isin
    if movement.kind == Transaction.Kind.REPAYMENT:
        holdings.repay(movement.instrument, movement.cost, label=label)
    else:
        holdings.sell(movement.instrument, movement.quantity, label=label)

"""First in, first out, in memory: lots per instrument and what a sale, switch or repayment takes.

Norwegian tax rules (skatteloven § 10-36 for shares and fund units) require FIFO: the oldest
lots are sold first. Brokerage fees are part of a lot's cost. A repayment of paid-in capital
lowers the cost of the lots still held, in proportion to their quantity. Costs stay exact to the
øre: a partial lot's cost is rounded half up, and the rest of the lot keeps the remainder, so the
lots' costs always add up to what was paid.

This module computes; it stores nothing and reads no database. The stored ledger (lots written
when a purchase is queued for booking, and what each sale took from them) is
ledger/holdings/services.py, which uses these classes for its checks and for what it writes;
ledger/transactions/fifo.py is the face the transaction code imports.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from ledger.models import Transaction

CENT = Decimal("0.01")
ZERO = Decimal(0)


class FifoError(ValueError):
    """A sale, switch or repayment that the holdings cannot cover (message for the user)."""


@dataclass
class Lot:
    """Units bought together and what they still cost in total (NOK, fees included).

    `ref` names the lot for whoever keeps a ledger of it (the transaction that opened it)."""

    quantity: Decimal
    cost: Decimal
    ref: Hashable = None


@dataclass(frozen=True)
class Take:
    """What one sale, switch or repayment took from one lot: units (0 for a repayment), cost."""

    ref: Hashable
    quantity: Decimal
    cost: Decimal


def takes_total(takes: list[Take]) -> Decimal:
    """The cost of what the takes took (a sale's FIFO cost, a repayment's amount)."""
    return sum((take.cost for take in takes), ZERO)


def takes_map(takes: list[Take] | None) -> dict[Hashable, tuple[Decimal, Decimal]] | None:
    """{lot: (quantity, cost)}: takes in a form that compares equal when they took the same."""
    if takes is None:
        return None
    return {take.ref: (take.quantity, take.cost) for take in takes}


@dataclass(frozen=True)
class Movement:
    """One transaction's effect on holdings, in the order they happened."""

    kind: str
    instrument: str
    quantity: Decimal
    cost: Decimal = ZERO  # purchase: what the lot cost; repayment: amount repaid
    to_instrument: str = ""
    to_quantity: Decimal = ZERO
    label: str = ""  # the instrument as the user named it, for messages


@dataclass
class Holdings:
    """Open lots per instrument, oldest first."""

    lots: dict[str, list[Lot]] = field(default_factory=dict)

    def held(self, instrument: str) -> Decimal:
        """Units of the instrument held now."""
        return sum((lot.quantity for lot in self.lots.get(instrument, [])), ZERO)

    def buy(
        self, instrument: str, quantity: Decimal, cost: Decimal, *, ref: Hashable = None
    ) -> None:
        """Add a lot."""
        if quantity <= 0:
            raise FifoError(_("A purchase needs a quantity above zero."))
        self.lots.setdefault(instrument, []).append(Lot(quantity, cost, ref))

    def take(self, instrument: str, quantity: Decimal, *, label: str = "") -> list[Take]:
        """Take `quantity` units out, oldest lots first; what came from each lot. Raises
        FifoError (and changes nothing) when fewer are held."""
        held = self.held(instrument)
        if quantity <= 0:
            raise FifoError(_("A sale needs a quantity above zero."))
        if quantity > held:
            raise FifoError(
                _("Cannot sell %(quantity)s of %(instrument)s: only %(held)s held on that date.")
                % {
                    "quantity": plain_number(quantity),
                    "instrument": label or instrument,
                    "held": plain_number(held),
                }
            )
        lots = self.lots[instrument]
        takes: list[Take] = []
        left = quantity
        while left > 0:
            lot = lots[0]
            if lot.quantity <= left:
                takes.append(Take(lot.ref, lot.quantity, lot.cost))
                left -= lot.quantity
                lots.pop(0)
                continue
            part = (lot.cost * left / lot.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
            takes.append(Take(lot.ref, left, part))
            lot.cost -= part
            lot.quantity -= left
            left = ZERO
        return takes

    def sell(self, instrument: str, quantity: Decimal, *, label: str = "") -> Decimal:
        """Take `quantity` units out, oldest lots first; returns their cost. Raises FifoError."""
        return takes_total(self.take(instrument, quantity, label=label))

    def repay(self, instrument: str, amount: Decimal, *, label: str = "") -> list[Take]:
        """Lower the cost of the open lots by `amount`, pro rata by quantity; what each lot gave.
        Raises FifoError (and changes nothing) when the amount exceeds their cost.

        Each lot but the last gets its share rounded half up to the øre, the last the rest, so
        the shares add up to the amount exactly. No lot goes below zero: a share a lot cannot
        carry moves on to the lots after it, then to those before."""
        lots = self.lots.get(instrument, [])
        total_cost = sum((lot.cost for lot in lots), ZERO)
        if amount <= 0:
            raise FifoError(_("A repayment needs an amount above zero."))
        if not lots or amount > total_cost:
            raise FifoError(
                _("A repayment of %(amount)s exceeds the cost of %(instrument)s held (%(cost)s).")
                % {
                    "amount": plain_number(amount),
                    "instrument": label or instrument,
                    "cost": plain_number(total_cost),
                }
            )
        held = self.held(instrument)
        shares = [ZERO] * len(lots)
        remaining = amount
        for i, lot in enumerate(lots):
            if i == len(lots) - 1:
                share = remaining
            else:
                share = (amount * lot.quantity / held).quantize(CENT, rounding=ROUND_HALF_UP)
            share = min(share, lot.cost, remaining)
            shares[i] = share
            remaining -= share
        for i, lot in enumerate(lots):
            if remaining <= 0:
                break
            extra = min(lot.cost - shares[i], remaining)
            shares[i] += extra
            remaining -= extra
        takes = []
        for lot, share in zip(lots, shares, strict=True):
            lot.cost -= share
            if share:
                takes.append(Take(lot.ref, ZERO, share))
        return takes

    def apply(self, movement: Movement, *, ref: Hashable = None) -> list[Take] | None:
        """Apply one movement; what it took from lots (sales, switches, repayments), else None.
        A purchase, or a switch's new fund, opens a lot named `ref`. Raises FifoError."""
        kind = Transaction.Kind
        label = movement.label
        if movement.kind == kind.PURCHASE:
            self.buy(movement.instrument, movement.quantity, movement.cost, ref=ref)
            return None
        if movement.kind == kind.SALE:
            return self.take(movement.instrument, movement.quantity, label=label)
        if movement.kind == kind.REPAYMENT:
            return self.repay(movement.instrument, movement.cost, label=label)
        if movement.kind == kind.FUND_SWITCH:
            if movement.to_quantity <= 0:
                raise FifoError(_("The quantity switched into must be above zero."))
            takes = self.take(movement.instrument, movement.quantity, label=label)
            self.buy(movement.to_instrument, movement.to_quantity, movement.cost, ref=ref)
            return takes
        return None


def plain_number(value: Decimal) -> str:
    """1234.5000 → '1234,5' (for messages)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def to_instrument_key(txn: Transaction) -> str:
    """The key of the fund a switch goes into (as Transaction.instrument_key for the other side)."""
    return (txn.to_isin or txn.to_instrument_name).strip().upper()


def movement_of(txn: Transaction) -> Movement | None:
    """The holdings effect of a transaction, or None when it has none (income, fees, journals)."""
    quantity = txn.quantity or ZERO
    amount = txn.amount or ZERO
    label = txn.instrument_name or txn.isin
    if txn.kind == Transaction.Kind.PURCHASE:
        return Movement(txn.kind, txn.instrument_key, quantity, amount + txn.fees, label=label)
    if txn.kind == Transaction.Kind.SALE:
        return Movement(txn.kind, txn.instrument_key, quantity, label=label)
    if txn.kind == Transaction.Kind.REPAYMENT:
        return Movement(txn.kind, txn.instrument_key, quantity, amount, label=label)
    if txn.kind == Transaction.Kind.FUND_SWITCH:
        # The new fund's cost is the value switched plus the fees of the switch.
        return Movement(
            txn.kind,
            txn.instrument_key,
            quantity,
            amount + txn.fees,
            to_instrument_key(txn),
            txn.to_quantity or ZERO,
            label=label,
        )
    return None

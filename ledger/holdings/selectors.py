"""Reading the stored holdings ledger (ledger/models/lots.py) for pages and exports.

Everything here counts the rows that hold lots (ledger/holdings/services.py, "What counts"):
queued, being booked, booked, and needing attention after a booking attempt. Drafts, ready,
rejected, reversed and deleted rows never count. `Realisation.booked` and `OpenLot.booked` say
whether the row's voucher is in Tripletex yet, so a page can tell the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from companies.models import Company
from ledger.models import Lot, LotUse, Transaction

ZERO = Decimal("0.00")
AVERAGE = Decimal("0.0001")
_SUM: DecimalField[Decimal, Decimal] = DecimalField(max_digits=30, decimal_places=8)


@dataclass(frozen=True)
class OpenLot:
    """What is left of one lot: units and their cost (NOK), acquired on `acquired`."""

    transaction_id: int
    acquired: date
    quantity: Decimal
    cost: Decimal
    booked: bool = True


@dataclass(frozen=True)
class Position:
    """One instrument held: units, FIFO cost, average cost per unit (4 decimals), its lots."""

    instrument_key: str
    instrument_name: str
    isin: str
    quantity: Decimal
    cost: Decimal
    average_cost: Decimal
    lots: list[OpenLot] = field(default_factory=list)


@dataclass(frozen=True)
class Realisation:
    """One sale or fund switch: what it brought in, what it cost (FIFO), the result.

    Proceeds are what the voucher posts against the cost: a sale's amount less its fees; a fund
    switch's value switched (its fees are part of the new fund's cost)."""

    transaction_id: int
    trade_date: date
    kind: str
    instrument_key: str
    instrument_name: str
    quantity: Decimal
    proceeds: Decimal
    cost: Decimal
    result: Decimal
    isin: str = ""
    booked: bool = True


def _lots(*, company: Company, on: date | None) -> list[Lot]:
    uses = Q(uses__transaction__trade_date__lte=on) if on is not None else Q()
    lots = Lot.objects.filter(company=company).select_related("opened_by")
    if on is not None:
        lots = lots.filter(acquired__lte=on)
    return list(
        lots.annotate(
            used_quantity=Coalesce(
                Sum("uses__quantity", filter=uses), Value(Decimal(0)), output_field=_SUM
            ),
            used_cost=Coalesce(
                Sum("uses__cost", filter=uses), Value(Decimal(0)), output_field=_SUM
            ),
        ).order_by("instrument_key", "acquired", "pk")
    )


def positions(*, company: Company, on: date | None = None) -> list[Position]:
    """What the firm holds (at the end of `on`, else now), per instrument with its open lots
    oldest first; instruments with no units left are left out. Sorted by name."""
    by_key: dict[str, list[tuple[Lot, OpenLot]]] = {}
    for lot in _lots(company=company, on=on):
        quantity = lot.quantity - lot.used_quantity  # type: ignore[attr-defined]
        if quantity <= 0:
            continue
        cost = (lot.cost - lot.used_cost).quantize(ZERO)  # type: ignore[attr-defined]
        booked = lot.opened_by.status == Transaction.Status.BOOKED
        open_lot = OpenLot(lot.opened_by_id, lot.acquired, quantity.normalize(), cost, booked)
        by_key.setdefault(lot.instrument_key, []).append((lot, open_lot))
    found = []
    for key, pairs in by_key.items():
        quantity = sum((o.quantity for _l, o in pairs), Decimal(0))
        cost = sum((o.cost for _l, o in pairs), ZERO)
        named = [lot for lot, _o in pairs if lot.instrument_name] or [pairs[-1][0]]
        with_isin = [lot.isin for lot, _o in pairs if lot.isin]
        found.append(
            Position(
                instrument_key=key,
                instrument_name=named[-1].instrument_name or key,
                isin=with_isin[-1] if with_isin else "",
                quantity=quantity,
                cost=cost,
                average_cost=(cost / quantity).quantize(AVERAGE),
                lots=[o for _l, o in pairs],
            )
        )
    return sorted(found, key=lambda p: (p.instrument_name.lower(), p.instrument_key))


def realisations(*, company: Company, year: int | None = None) -> list[Realisation]:
    """The firm's sales and fund switches with their FIFO cost (of `year` by trade date, else
    all), oldest first."""
    rows = (
        Transaction.objects.filter(
            company=company,
            kind__in=[Transaction.Kind.SALE, Transaction.Kind.FUND_SWITCH],
            lot_uses__isnull=False,
        )
        .annotate(
            used_quantity=Sum("lot_uses__quantity", output_field=_SUM),
            used_cost=Sum("lot_uses__cost", output_field=_SUM),
        )
        .order_by("trade_date", "pk")
    )
    if year is not None:
        rows = rows.filter(trade_date__gte=date(year, 1, 1), trade_date__lt=date(year + 1, 1, 1))
    found = []
    for txn in rows:
        amount = txn.amount or ZERO
        proceeds = amount - txn.fees if txn.kind == Transaction.Kind.SALE else amount
        cost = Decimal(txn.used_cost).quantize(ZERO)
        found.append(
            Realisation(
                transaction_id=txn.pk,
                trade_date=txn.trade_date,
                kind=txn.kind,
                instrument_key=txn.instrument_key,
                instrument_name=txn.instrument_name or txn.isin,
                quantity=Decimal(txn.used_quantity).normalize(),
                proceeds=proceeds,
                cost=cost,
                result=proceeds - cost,
                isin=txn.isin,
                booked=txn.status == Transaction.Status.BOOKED,
            )
        )
    return found


def securities_cost_total(*, company: Company) -> Decimal:
    """The cost of everything held (the open lots' cost): what the securities account should
    show once every counted row is booked."""
    opened = Lot.objects.filter(company=company).aggregate(total=Sum("cost"))["total"]
    used = LotUse.objects.filter(company=company).aggregate(total=Sum("cost"))["total"]
    return (Decimal(opened or 0) - Decimal(used or 0)).quantize(ZERO)

"""Holdings as a stored ledger (ledger/models/lots.py): written when a row is queued for booking,
fixed once booked, released when a row leaves the booking pipeline.

**What counts.** Lots and their uses exist for the rows that are *reserved*: queued, being
booked, booked, or needing attention after a booking attempt (their voucher may exist in
Tripletex, so what they took stays taken until they are booked again or rejected). Drafts, ready
rows, rejected, reversed and deleted rows never hold a lot and are never taken from.

**Queueing** (`lots_reserve`, called by ledger/booking/protocol.py when a row is queued, in date
order): a sale or fund switch takes units, oldest lots first (FIFO), from the lots of reserved
rows acquired on or before its trade date; "queued ahead" means exactly that: a purchase can be
sold from once it is itself queued (or booked), even if its voucher is not in Tripletex yet. A
repayment of capital takes cost, pro rata by quantity, from the lots held on its date. A purchase
(and the new fund of a switch) opens a lot. The sale's FIFO cost is what its uses took, frozen
with the row (`Transaction.cost_basis`). A sale whose lots are not booked yet waits before it is
sent to Tripletex (`lots_waiting_for`), so a booked voucher never credits the securities account
with a cost its purchase never debited.

**Releasing** (`lots_release`): a row rejected before or by Tripletex gives back what it took and
loses its lot; the rows not yet booked that took from that lot are rejected too, with a message
naming it. A reversal gives back the same; a purchase whose units a reserved row took cannot be
reversed here (`lots_dependents`: reverse that row first).

**Checking** (`fifo_verdict`): a transaction being saved (the form, an edit, a CSV file) is
checked over the firm's history in date order, the ready rows included (what would be held once
everything waiting is booked). The same walk says whether it changes what a reserved row took: a
transaction dated before a booked sale that would change its cost is refused, naming that sale.
One database query and one walk per check, however many rows a file has.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.holdings.engine import (
    ZERO,
    FifoError,
    Holdings,
    Movement,
    Take,
    movement_of,
    plain_number,
    takes_map,
    takes_total,
    to_instrument_key,
)
from ledger.models import Lot, LotUse, Transaction

Status = Transaction.Status
Kind = Transaction.Kind

# Rows that hold their lots and uses (module docstring).
RESERVED = (Status.QUEUED, Status.BOOKING, Status.BOOKED, Status.FAILED)
# What a transaction being saved is checked against: the reserved rows and those waiting.
PROJECTED = (Status.READY, *RESERVED)
MOVING = (Kind.PURCHASE, Kind.SALE, Kind.REPAYMENT, Kind.FUND_SWITCH)
TAKING = (Kind.SALE, Kind.REPAYMENT, Kind.FUND_SWITCH)
DISPOSING = (Kind.SALE, Kind.FUND_SWITCH)


class LotConflict(FifoError):
    """The transaction would change what a reserved (usually booked) row took (message)."""


def instrument_keys(txn: Transaction) -> set[str]:
    """The instruments whose lots the transaction touches (both funds of a switch)."""
    if txn.kind not in MOVING:
        return set()
    keys = {txn.instrument_key}
    if txn.kind == Kind.FUND_SWITCH:
        keys.add(to_instrument_key(txn))
    return keys - {""}


# ---- the walk in date order ------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """A transaction in the walk: where it sorts, how the walk names it, the row."""

    sort: tuple[object, ...]
    ref: Hashable
    txn: Transaction


def _history_entry(txn: Transaction) -> _Entry:
    # Reserved rows first within their day, in the order they were queued (the order their lots
    # were written); then the waiting rows in recording order; then what is being saved.
    if txn.status in RESERVED:
        stamp = txn.queued_at or txn.booked_at or txn.created_at
        return _Entry((txn.trade_date, 0, stamp, txn.pk), txn.pk, txn)
    return _Entry((txn.trade_date, 1, txn.pk), txn.pk, txn)


def _new_entry(txn: Transaction, index: int) -> _Entry:
    if txn.pk:
        return _Entry((txn.trade_date, 1, txn.pk), txn.pk, txn)
    return _Entry((txn.trade_date, 2, index), ("new", index), txn)


@dataclass
class _Walk:
    """What a walk found: each row's takes, and each row the holdings could not cover."""

    takes: dict[Hashable, dict[Hashable, tuple[Decimal, Decimal]] | None] = field(
        default_factory=dict
    )
    errors: dict[Hashable, FifoError] = field(default_factory=dict)


def _walk(entries: Iterable[_Entry], keys: set[str]) -> _Walk:
    """FIFO over the entries in date order, only for the instruments in `keys` (a switch from
    or into another instrument opens or takes only its side here)."""
    holdings = Holdings()
    walk = _Walk()
    for entry in sorted(entries, key=lambda e: e.sort):
        movement = movement_of(entry.txn)
        if movement is None:
            continue
        try:
            walk.takes[entry.ref] = takes_map(_apply(holdings, movement, entry.ref, keys))
        except FifoError as exc:
            walk.errors[entry.ref] = exc
    return walk


def _apply(
    holdings: Holdings, movement: Movement, ref: Hashable, keys: set[str]
) -> list[Take] | None:
    if movement.kind != Kind.FUND_SWITCH:
        return holdings.apply(movement, ref=ref) if movement.instrument in keys else None
    takes = None
    if movement.instrument in keys:
        takes = holdings.take(movement.instrument, movement.quantity, label=movement.label)
    if movement.to_instrument in keys:
        holdings.buy(movement.to_instrument, movement.to_quantity, movement.cost, ref=ref)
    return takes


def _history(
    *, company: Company, keys: set[str], statuses: Iterable[str], exclude: set[int]
) -> list[Transaction]:
    """The firm's rows in these statuses that touch these instruments (one query)."""
    rows = Transaction.objects.filter(company=company, status__in=list(statuses), kind__in=MOVING)
    if exclude:
        rows = rows.exclude(pk__in=exclude)
    return [t for t in rows if instrument_keys(t) & keys]


def _stored_takes(
    *, company: Company, pks: Iterable[int]
) -> dict[int, dict[Hashable, tuple[Decimal, Decimal]]]:
    """{transaction: {lot's opening transaction: (quantity, cost)}} as stored."""
    stored: dict[int, dict[Hashable, tuple[Decimal, Decimal]]] = {}
    uses = LotUse.objects.filter(company=company, transaction_id__in=list(pks)).values_list(
        "transaction_id", "lot__opened_by_id", "quantity", "cost"
    )
    for txn_id, opener, quantity, cost in uses:
        stored.setdefault(txn_id, {})[opener] = (quantity, cost)
    return stored


@dataclass
class Verdict:
    """What FIFO says about transactions being saved, by their index in the list checked."""

    shortfalls: dict[int, str] = field(default_factory=dict)
    conflicts: dict[int, str] = field(default_factory=dict)
    # The FIFO cost of what each sale or fund switch covered by the holdings would dispose of, in
    # the same walk (the inbox shows each row's voucher with it).
    costs: dict[int, Decimal] = field(default_factory=dict)

    def problems(self) -> dict[int, list[str]]:
        """Every message per index."""
        found: dict[int, list[str]] = {}
        for source in (self.shortfalls, self.conflicts):
            for index, message in source.items():
                found.setdefault(index, []).append(message)
        return found


def fifo_verdict(
    *, company: Company, txns: list[Transaction], statuses: Iterable[str] = PROJECTED
) -> Verdict:
    """Check transactions about to be saved (or queued) against the firm's rows in `statuses`,
    all in one walk in date order (then the list's order within a day): which of them the
    holdings cannot cover, and which would change what a reserved row took.

    An edited row (with a pk) replaces its stored version. A reserved row is "changed" when the
    walk with the new rows gives it other lots, units or cost than it has stored, and the walk
    without them would not: so a difference the new rows did not cause (a sale reversed since a
    later one was booked) blames none of them."""
    verdict = Verdict()
    new = [(i, t) for i, t in enumerate(txns) if movement_of(t) is not None]
    keys: set[str] = set().union(*(instrument_keys(t) for _i, t in new))
    if not keys:
        return verdict
    history = [
        _history_entry(t)
        for t in _history(
            company=company, keys=keys, statuses=statuses, exclude={t.pk for _i, t in new if t.pk}
        )
    ]
    entries = {i: _new_entry(t, i) for i, t in new}
    with_new = _walk([*history, *entries.values()], keys)
    for index, entry in entries.items():
        if entry.ref in with_new.errors:
            verdict.shortfalls[index] = str(with_new.errors[entry.ref])
        elif entry.txn.kind in DISPOSING and (took := with_new.takes.get(entry.ref)) is not None:
            verdict.costs[index] = sum((cost for _quantity, cost in took.values()), ZERO)
    takers = [e for e in history if e.txn.status in RESERVED and e.txn.kind in TAKING]
    if not takers:
        return verdict
    without = _walk(history, keys)
    stored = _stored_takes(company=company, pks=[e.txn.pk for e in takers])
    for taker in sorted(takers, key=lambda e: e.sort):
        got = with_new.takes.get(taker.ref)
        if got == stored.get(taker.txn.pk, {}) or got == without.takes.get(taker.ref):
            continue
        culprits = [
            i
            for i, e in entries.items()
            if e.sort < taker.sort and taker.txn.instrument_key in instrument_keys(e.txn)
        ]
        first = min(culprits, key=lambda i: entries[i].sort, default=None)
        if first is not None and first not in verdict.conflicts:
            verdict.conflicts[first] = conflict_message(taker.txn)
    return verdict


def conflict_message(taker: Transaction) -> str:
    """Why a transaction is refused: it would change what `taker` (reserved) took."""
    values = {
        "kind": str(taker.get_kind_display()).lower(),
        "instrument": taker.instrument_name or taker.isin,
        "date": taker.trade_date.strftime("%d.%m.%Y"),
        "id": taker.pk,
        "quantity": plain_number(taker.quantity or ZERO),
    }
    if taker.status == Status.BOOKED:
        return (
            _(
                "This would change the cost of the booked %(kind)s of %(instrument)s on %(date)s "
                "(transaction %(id)s, %(quantity)s units), which is dated after it. Reverse that "
                "%(kind)s first, then save this again and book the %(kind)s anew."
            )
            % values
        )
    return (
        _(
            "This would change the cost of the %(kind)s of %(instrument)s on %(date)s "
            "(transaction %(id)s, %(quantity)s units), which is dated after it and already on "
            "its way to Tripletex. Wait until it is booked and reverse it, then save this again "
            "and book the %(kind)s anew."
        )
        % values
    )


def fifo_check(*, company: Company, txn: Transaction) -> None:
    """Raise FifoError (LotConflict) unless the firm's history covers `txn` and it changes no
    reserved row's cost (the check before saving a transaction)."""
    verdict = fifo_verdict(company=company, txns=[txn])
    if 0 in verdict.shortfalls:
        raise FifoError(verdict.shortfalls[0])
    if 0 in verdict.conflicts:
        raise LotConflict(verdict.conflicts[0])


def fifo_cost(*, company: Company, txn: Transaction) -> Decimal:
    """FIFO cost of what a sale or fund switch not yet queued would dispose of, counting the
    rows that wait to be booked (the preview). Raises FifoError when not held."""
    keys = {txn.instrument_key}
    history = _history(
        company=company, keys=keys, statuses=PROJECTED, exclude={txn.pk} if txn.pk else set()
    )
    entry = _new_entry(txn, 0)
    walk = _walk([*(_history_entry(t) for t in history), entry], keys)
    if entry.ref in walk.errors:
        raise walk.errors[entry.ref]
    takes = walk.takes.get(entry.ref) or {}
    return sum((cost for _quantity, cost in takes.values()), ZERO)


# ---- writing and releasing ------------------------------------------------------------------


def _open_holdings(*, company: Company, key: str, on: object) -> Holdings:
    """The stored lots of `key` acquired on or before `on` with units left, oldest first, as
    in-memory lots named by their pk."""
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=30, decimal_places=8)
    lots = (
        Lot.objects.filter(company=company, instrument_key=key, acquired__lte=on)
        .annotate(
            used_quantity=Coalesce(Sum("uses__quantity"), Value(ZERO), output_field=money),
            used_cost=Coalesce(Sum("uses__cost"), Value(ZERO), output_field=money),
        )
        .order_by("acquired", "pk")
    )
    holdings = Holdings()
    for lot in lots:
        quantity = lot.quantity - lot.used_quantity
        if quantity > 0:
            holdings.buy(key, quantity, lot.cost - lot.used_cost, ref=lot.pk)
    return holdings


def lots_lock(*, company: Company) -> None:
    """Hold the firm's row until the surrounding transaction ends, so that queueing (which takes
    lots in order) and releasing never interleave for one firm. Take it before any transaction
    row's lock."""
    list(Company.objects.select_for_update().filter(pk=company.pk).values_list("pk", flat=True))


def lots_reserve(*, company: Company, txn: Transaction) -> Decimal | None:
    """Write what a row being queued takes and the lot it opens; its FIFO cost for a sale or
    switch (None for other kinds). Raises FifoError / LotConflict and then writes nothing.

    A row that already holds its lots (it needed attention and is booked again) keeps them: its
    voucher may exist in Tripletex with that cost. The caller holds the firm's queueing lock."""
    movement = movement_of(txn)
    if movement is None:
        return None
    kept = LotUse.objects.filter(company=company, transaction=txn)
    if kept.exists() or Lot.objects.filter(company=company, opened_by=txn).exists():
        return (
            takes_total([Take(u.lot_id, u.quantity, u.cost) for u in kept])
            if (txn.kind in DISPOSING)
            else None
        )
    verdict = fifo_verdict(company=company, txns=[txn], statuses=RESERVED)
    if 0 in verdict.conflicts:
        raise LotConflict(verdict.conflicts[0])
    with transaction.atomic():
        takes = _take(company=company, txn=txn, movement=movement)
        _open(company=company, txn=txn)
    return takes_total(takes) if txn.kind in DISPOSING else None


def _take(*, company: Company, txn: Transaction, movement: Movement) -> list[Take]:
    if txn.kind not in TAKING:
        return []
    holdings = _open_holdings(company=company, key=movement.instrument, on=txn.trade_date)
    if txn.kind == Kind.REPAYMENT:
        takes = holdings.repay(movement.instrument, movement.cost, label=movement.label)
    else:
        takes = holdings.take(movement.instrument, movement.quantity, label=movement.label)
    LotUse.objects.bulk_create(
        LotUse(
            company=company,
            lot_id=cast(int, take.ref),  # the stored lots are named by their pk
            transaction=txn,
            quantity=take.quantity,
            cost=take.cost,
        )
        for take in takes
    )
    return takes


def _open(*, company: Company, txn: Transaction) -> None:
    if txn.kind == Kind.PURCHASE:
        quantity = txn.quantity or ZERO
        if quantity <= 0:
            raise FifoError(_("A purchase needs a quantity above zero."))
        Lot.objects.create(
            company=company,
            opened_by=txn,
            instrument_key=txn.instrument_key,
            instrument_name=txn.instrument_name,
            isin=txn.isin,
            acquired=txn.trade_date,
            quantity=quantity,
            cost=(txn.amount or ZERO) + txn.fees,
        )
    elif txn.kind == Kind.FUND_SWITCH:
        Lot.objects.create(
            company=company,
            opened_by=txn,
            instrument_key=to_instrument_key(txn),
            instrument_name=txn.to_instrument_name,
            isin=txn.to_isin,
            acquired=txn.trade_date,
            quantity=txn.to_quantity or ZERO,
            cost=(txn.amount or ZERO) + txn.fees,
        )


def lots_dependents(*, company: Company, txn: Transaction) -> list[Transaction]:
    """The other rows whose cost depends on `txn` (oldest first): those that took from the lot it
    opened, and for a repayment those that took units from a lot after it lowered that lot's
    cost (reversing the repayment would change what they cost)."""
    uses = LotUse.objects.filter(company=company)
    ids = set(uses.filter(lot__opened_by=txn).values_list("transaction_id", flat=True))
    for lot_id, use_id in uses.filter(transaction=txn).values_list("lot_id", "pk"):
        later = uses.filter(lot_id=lot_id, pk__gt=use_id, quantity__gt=0)
        ids.update(later.values_list("transaction_id", flat=True))
    ids.discard(txn.pk)
    return list(
        Transaction.objects.filter(company=company, pk__in=ids).order_by("trade_date", "pk")
    )


def lots_release(*, company: Company, txn: Transaction, never_booked: bool) -> list[int]:
    """Give back what `txn` took and drop the lot it opened (it was rejected, or reversed); the
    ids of the rows rejected with it.

    Rows that took from its lot and cannot have reached Tripletex are rejected too and release
    in turn: when `txn` was never booked, every row that took from it (a sale is only sent once
    its lots are booked); after a reversal, the rows still queued. A row that took from the lot
    and stays (booked: only a reversal made in Tripletex itself can get here) keeps its use, and
    the lot shrinks to what such rows took, so no unit of it is held any more."""
    LotUse.objects.filter(company=company, transaction=txn).delete()
    rejected: list[int] = []
    pending = (Status.QUEUED, Status.BOOKING, Status.FAILED) if never_booked else (Status.QUEUED,)
    for dependent in lots_dependents(company=company, txn=txn):
        if dependent.status not in pending:
            continue
        message = _dependent_message(txn, never_booked=never_booked)
        updated = Transaction.objects.filter(pk=dependent.pk, status=dependent.status).update(
            status=Status.REJECTED, messages=[message], claim_token="", cost_basis=None
        )
        if updated:
            rejected.append(dependent.pk)
            rejected += lots_release(company=company, txn=dependent, never_booked=True)
    for lot in Lot.objects.filter(company=company, opened_by=txn):
        left = lot.uses.aggregate(quantity=Sum("quantity"), cost=Sum("cost"))
        if left["quantity"] is None:
            lot.delete()
        else:
            lot.quantity, lot.cost = left["quantity"], left["cost"]
            lot.save(update_fields=["quantity", "cost"])
    return rejected


def _dependent_message(source: Transaction, *, never_booked: bool) -> str:
    values = {
        "kind": str(source.get_kind_display()).lower(),
        "instrument": source.instrument_name or source.isin,
        "date": source.trade_date.strftime("%d.%m.%Y"),
        "id": source.pk,
    }
    if never_booked:
        return (
            _(
                "The %(kind)s of %(instrument)s on %(date)s (transaction %(id)s) that this took "
                "its units from was not booked, so those units are not held. Book that %(kind)s "
                "first, then book this again."
            )
            % values
        )
    return (
        _(
            "The %(kind)s of %(instrument)s on %(date)s (transaction %(id)s) that this took its "
            "units from was reversed, so those units are not held. Book it again first, then "
            "book this again."
        )
        % values
    )


def lots_waiting_for(*, company: Company, txn: Transaction) -> list[Transaction]:
    """The rows whose lots `txn` took from that are not booked yet (it waits for them)."""
    openers = LotUse.objects.filter(company=company, transaction=txn).values_list(
        "lot__opened_by_id", flat=True
    )
    return list(
        Transaction.objects.filter(company=company, pk__in=openers)
        .exclude(pk=txn.pk)
        .exclude(status=Status.BOOKED)
        .order_by("trade_date", "pk")
    )


def waiting_message(source: Transaction) -> str:
    """Why a sale is not sent yet: the purchase it takes its units from is not booked."""
    return _(
        "Waiting for the %(kind)s of %(instrument)s on %(date)s (transaction %(id)s), which "
        "this takes its units from, to be booked first."
    ) % {
        "kind": str(source.get_kind_display()).lower(),
        "instrument": source.instrument_name or source.isin,
        "date": source.trade_date.strftime("%d.%m.%Y"),
        "id": source.pk,
    }


def dependents_message(dependents: list[Transaction]) -> str:
    """Why a purchase (or switch) cannot be reversed: these rows took units from it."""
    first = dependents[0]
    return _(
        "Units of this were taken by the %(kind)s of %(instrument)s on %(date)s (transaction "
        "%(id)s). Reverse that first, then reverse this."
    ) % {
        "kind": str(first.get_kind_display()).lower(),
        "instrument": first.instrument_name or first.isin,
        "date": first.trade_date.strftime("%d.%m.%Y"),
        "id": first.pk,
    }

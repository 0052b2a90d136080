"""Holdings as a stored ledger (ledger/holdings/): lots written when a row is queued, fixed once
booked, released on rejection and reversal; checks in date order that refuse a change to a
booked sale's cost; the CSV import's verdict independent of row order; the read API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.booking.protocol import BookingRetry, BookingStateError, booking_queue, booking_run
from ledger.booking.reversal import booking_reverse
from ledger.holdings.selectors import positions, realisations, securities_cost_total
from ledger.models import Lot, LotUse, Transaction
from ledger.transactions.csv_import import transactions_import
from ledger.transactions.services import TransactionInvalid, transaction_update
from tests.ledger.support import record, reload, vouchers_with

pytestmark = pytest.mark.django_db
D = Decimal


def _day(n: int) -> date:
    """Day n of the previous month (open in the sandbox: it closes the months before that)."""
    first = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    return first + timedelta(days=n - 1)


def _buy(company, day: int, quantity="100", amount="1000.00", **extra) -> Transaction:
    return record(
        company,
        trade_date=_day(day),
        quantity=D(quantity),
        amount=D(amount),
        fees=D(extra.pop("fees", "0")),
        **extra,
    )


def _sell(company, day: int, quantity: str, amount: str = "5000.00", **extra) -> Transaction:
    return _buy(company, day, quantity, amount, kind="sale", **extra)


def _queue(company, *txns) -> dict[str, int]:
    with scope(company=company):
        return booking_queue(company=company, transaction_ids=[t.pk for t in txns], enqueue=False)


def _run(company, txn) -> str:
    with scope(company=company):
        return booking_run(company=company, transaction_id=txn.pk)


def _book(company, *txns) -> None:
    """Queue and book each row in turn; each must end booked."""
    for txn in txns:
        assert _queue(company, txn)["queued"] == 1, reload(txn).messages
        assert _run(company, txn) == "booked", reload(txn).messages


def _uses(txn) -> list[tuple[int, Decimal, Decimal]]:
    with scope(company=txn.company):
        return sorted(
            (u.lot.opened_by_id, u.quantity, u.cost)
            for u in LotUse.objects.filter(transaction=txn).select_related("lot")
        )


def _fail_next_voucher_post(server, status: int = 422) -> None:
    server.faults.update({"fail_path": "POST /ledger/voucher", "fail_path_statuses": (status,)})


# ---- the rejected purchase (the bug this fixes) ----------------------------------------------


def test_a_purchase_tripletex_rejected_never_feeds_a_later_sale(sandbox_acme, tripletex_sandbox):
    purchase = _buy(sandbox_acme, 2)
    sale = _sell(sandbox_acme, 5, "40")
    # "Book all": both queued in date order; the sale takes the queued purchase's lot.
    assert _queue(sandbox_acme, purchase, sale)["queued"] == 2
    assert _uses(sale) == [(purchase.pk, D("40"), D("400.00"))]
    # The sale is not sent before its purchase is booked.
    with pytest.raises(BookingRetry):
        _run(sandbox_acme, sale)
    assert vouchers_with(tripletex_sandbox, reload(sale).external_voucher_number) == []
    assert "Waiting for the purchase" in reload(sale).messages[0]
    _fail_next_voucher_post(tripletex_sandbox)
    assert _run(sandbox_acme, purchase) == "rejected"
    # The purchase's lot is gone, and the sale that took from it is rejected with it.
    row = reload(sale)
    assert row.status == "rejected"
    assert f"(transaction {purchase.pk})" in row.messages[0]
    assert row.cost_basis is None
    assert _uses(sale) == []
    with scope(company=sandbox_acme):
        assert not Lot.objects.filter(company=sandbox_acme).exists()
        assert positions(company=sandbox_acme) == []
        assert securities_cost_total(company=sandbox_acme) == D("0.00")
    # Booking the sale again alone: nothing is held, refused before Tripletex.
    assert _queue(sandbox_acme, sale)["rejected"] == 1
    assert "only 0 held" in reload(sale).messages[0]
    assert vouchers_with(tripletex_sandbox, reload(sale).external_voucher_number) == []


def test_a_rejected_purchase_does_not_count_when_a_sale_is_recorded(
    sandbox_acme, tripletex_sandbox
):
    purchase = _buy(sandbox_acme, 2)
    _queue(sandbox_acme, purchase)
    _fail_next_voucher_post(tripletex_sandbox)
    assert _run(sandbox_acme, purchase) == "rejected"
    with pytest.raises(TransactionInvalid, match="only 0 held"):
        _sell(sandbox_acme, 5, "40")


# ---- back-dated rows before a booked sale ----------------------------------------------------


def test_a_back_dated_purchase_before_a_booked_sale_is_refused_naming_it(sandbox_acme):
    first = _buy(sandbox_acme, 3, "100", "1000.00")
    sale = _sell(sandbox_acme, 10, "50")
    _book(sandbox_acme, first, sale)
    assert reload(sale).cost_basis == D("500.00")
    # Older than the lot the sale took from: FIFO would have sold it first.
    with pytest.raises(TransactionInvalid) as refused:
        _buy(sandbox_acme, 1, "10", "50.00")
    message = refused.value.messages[0]
    assert f"booked sale of Equinor ASA on {_day(10):%d.%m.%Y}" in message
    assert f"transaction {sale.pk}" in message
    assert "Reverse that sale first" in message
    # Newer than what the sale took (still before the sale): its cost stays, so it is fine.
    later = _buy(sandbox_acme, 5, "10", "50.00")
    # Editing that one to before the sale's lot is refused as well, and changes nothing.
    with scope(company=sandbox_acme), pytest.raises(TransactionInvalid, match="Reverse that"):
        transaction_update(company=sandbox_acme, txn=later, data={"trade_date": _day(1)})
    assert reload(later).trade_date == _day(5)
    assert _uses(sale) == [(first.pk, D("50"), D("500.00"))]


def test_a_back_dated_sale_before_a_booked_sale_is_refused(sandbox_acme):
    first = _buy(sandbox_acme, 3, "100", "1000.00")
    second = _buy(sandbox_acme, 4, "100", "3000.00")
    sale = _sell(sandbox_acme, 10, "100")
    _book(sandbox_acme, first, second, sale)
    # Dated before the booked sale, it would take the oldest units, which that sale has.
    with pytest.raises(TransactionInvalid, match=f"transaction {sale.pk}"):
        _sell(sandbox_acme, 8, "10")
    # After it, it takes from the second lot: fine.
    after = _sell(sandbox_acme, 12, "10")
    _book(sandbox_acme, after)
    assert reload(after).cost_basis == D("300.00")


def test_a_back_dated_purchase_saved_before_the_sale_was_booked_is_refused_when_queued(
    sandbox_acme,
):
    first = _buy(sandbox_acme, 3, "100", "1000.00")
    early = _buy(sandbox_acme, 1, "10", "50.00")  # ready, not queued
    sale = _sell(sandbox_acme, 10, "50")
    _book(sandbox_acme, first, sale)  # the sale takes from the queued lot only
    assert _uses(sale) == [(first.pk, D("50"), D("500.00"))]
    assert _queue(sandbox_acme, early)["rejected"] == 1
    assert "Reverse that sale first" in reload(early).messages[0]
    assert _uses(sale) == [(first.pk, D("50"), D("500.00"))]


# ---- frozen once booked ----------------------------------------------------------------------


def test_a_lot_is_frozen_at_booking_while_later_edits_happen(sandbox_acme):
    first = _buy(sandbox_acme, 2, "100", "1000.00")
    sale = _sell(sandbox_acme, 6, "60")
    _book(sandbox_acme, first, sale)
    frozen = _uses(sale)
    assert frozen == [(first.pk, D("60"), D("600.00"))]
    # Later rows come and change; the booked sale keeps what it took.
    later = _buy(sandbox_acme, 8, "10", "500.00")
    with scope(company=sandbox_acme):
        for amount in ("700.00", "800.00"):
            later = transaction_update(company=sandbox_acme, txn=later, data={"amount": D(amount)})
    another = _sell(sandbox_acme, 9, "45")  # 40 of the first lot, 5 of the later one
    _book(sandbox_acme, later, another)
    assert reload(another).cost_basis == D("400.00") + D("400.00")
    assert _uses(sale) == frozen
    assert reload(sale).cost_basis == D("600.00")
    with scope(company=sandbox_acme):
        [position] = positions(company=sandbox_acme)
        assert (position.quantity, position.cost) == (D("5"), D("400.00"))
        assert [(lot.transaction_id, lot.quantity) for lot in position.lots] == [(later.pk, D("5"))]
        assert [r.cost for r in realisations(company=sandbox_acme)] == [
            D("600.00"),
            D("800.00"),
        ]


# ---- repayments, fund switches, reversals ----------------------------------------------------


def test_a_repayment_lowers_the_stored_lots_and_a_reversal_gives_it_back(sandbox_acme):
    first = _buy(sandbox_acme, 2, "10", "1000.00")
    second = _buy(sandbox_acme, 3, "30", "3000.00")
    repayment = _buy(sandbox_acme, 4, "0", "400.00", kind="repayment")
    _book(sandbox_acme, first, second, repayment)
    assert _uses(repayment) == sorted(
        [(first.pk, D("0"), D("100.00")), (second.pk, D("0"), D("300.00"))]
    )
    with scope(company=sandbox_acme):
        assert securities_cost_total(company=sandbox_acme) == D("3600.00")
        [position] = positions(company=sandbox_acme)
        assert [lot.cost for lot in position.lots] == [D("900.00"), D("2700.00")]
        assert position.average_cost == D("90.0000")
    sale = _sell(sandbox_acme, 6, "10")
    _book(sandbox_acme, sale)
    assert reload(sale).cost_basis == D("900.00")
    with scope(company=sandbox_acme):
        # The sale took units whose cost the repayment lowered: reverse the sale first.
        with pytest.raises(BookingStateError, match=f"transaction {sale.pk}"):
            booking_reverse(company=sandbox_acme, txn=reload(repayment), on=_day(7), by=None)
        booking_reverse(company=sandbox_acme, txn=reload(sale), on=_day(7), by=None)
        booking_reverse(company=sandbox_acme, txn=reload(repayment), on=_day(7), by=None)
        assert _uses(repayment) == []
        assert securities_cost_total(company=sandbox_acme) == D("4000.00")
        [position] = positions(company=sandbox_acme)
        assert [lot.cost for lot in position.lots] == [D("1000.00"), D("3000.00")]


def test_a_fund_switch_moves_the_lot_and_its_reversal_releases_both_sides(sandbox_acme):
    fund_a = _buy(sandbox_acme, 2, "100", "1000.00", isin="", instrument_name="Fond A")
    switch = _buy(
        sandbox_acme,
        5,
        "60",
        "900.00",
        kind="fund_switch",
        isin="",
        instrument_name="Fond A",
        to_instrument_name="Fond B",
        to_quantity=D("30"),
        fees="5.00",
    )
    _book(sandbox_acme, fund_a, switch)
    assert reload(switch).cost_basis == D("600.00")
    with scope(company=sandbox_acme):
        held = {p.instrument_name: (p.quantity, p.cost) for p in positions(company=sandbox_acme)}
        assert held == {"Fond A": (D("40"), D("400.00")), "Fond B": (D("30"), D("905.00"))}
        [realised] = realisations(company=sandbox_acme, year=_day(5).year)
        assert (realised.kind, realised.proceeds, realised.cost, realised.result) == (
            "fund_switch",
            D("900.00"),
            D("600.00"),
            D("300.00"),
        )
    sale_b = _sell(sandbox_acme, 8, "10", isin="", instrument_name="Fond B")
    _book(sandbox_acme, sale_b)
    # Units of Fond B were sold: the switch cannot be reversed before that sale is.
    with scope(company=sandbox_acme), pytest.raises(BookingStateError, match="Reverse that first"):
        booking_reverse(company=sandbox_acme, txn=reload(switch), on=_day(9), by=None)
    with scope(company=sandbox_acme):
        booking_reverse(company=sandbox_acme, txn=reload(sale_b), on=_day(9), by=None)
        booking_reverse(company=sandbox_acme, txn=reload(switch), on=_day(9), by=None)
        held = {p.instrument_name: (p.quantity, p.cost) for p in positions(company=sandbox_acme)}
        assert held == {"Fond A": (D("100"), D("1000.00"))}
        assert realisations(company=sandbox_acme) == []


def test_a_reversed_sale_is_booked_again_with_the_same_lots(sandbox_acme):
    first = _buy(sandbox_acme, 2, "100", "1000.00")
    second = _buy(sandbox_acme, 3, "100", "2000.00")
    sale = _sell(sandbox_acme, 5, "100")
    later = _sell(sandbox_acme, 6, "50")
    _book(sandbox_acme, first, second, sale, later)
    with scope(company=sandbox_acme):
        booking_reverse(company=sandbox_acme, txn=reload(sale), on=_day(7), by=None)
        # Corrected proceeds, same units: the later booked sale's cost is not touched.
        transaction_update(company=sandbox_acme, txn=reload(sale), data={"amount": D("5100.00")})
    _book(sandbox_acme, sale)
    assert _uses(sale) == [(first.pk, D("100"), D("1000.00"))]
    assert _uses(later) == [(second.pk, D("50"), D("1000.00"))]


# ---- CSV import ------------------------------------------------------------------------------

HEADER = "type;trade_date;instrument;isin;quantity;amount\n"


def _csv_row(kind: str, day: int, quantity: str, amount: str) -> str:
    return f"{kind};{_day(day).isoformat()};Equinor ASA;NO0010096985;{quantity};{amount}\n"


@pytest.mark.parametrize(
    ("rows", "ok"),
    [
        ([("sale", 9, "30", "900"), ("purchase", 2, "100", "1000")], True),
        ([("sale", 9, "130", "900"), ("purchase", 2, "100", "1000")], False),
    ],
)
def test_csv_row_order_never_changes_the_verdict(acme, rows, ok):
    verdicts = []
    for ordered in (rows, list(reversed(rows))):
        content = (HEADER + "".join(_csv_row(*r) for r in ordered)).encode()
        with scope(company=acme):
            result = transactions_import(company=acme, content=content, by=None)
            verdicts.append((result.ok, [m for _line, m in result.errors], len(result.created)))
            Transaction.objects.filter(company=acme).delete()
    assert verdicts[0] == verdicts[1]
    assert verdicts[0][0] is ok
    if not ok:
        assert "only 100 held" in verdicts[0][1][0]


def test_csv_import_refuses_a_row_dated_before_a_booked_sale(sandbox_acme):
    first = _buy(sandbox_acme, 3, "100", "1000.00")
    sale = _sell(sandbox_acme, 10, "50")
    _book(sandbox_acme, first, sale)
    content = (
        HEADER + _csv_row("purchase", 12, "5", "60") + _csv_row("purchase", 1, "5", "50")
    ).encode()
    with scope(company=sandbox_acme):
        result = transactions_import(company=sandbox_acme, content=content, by=None)
    assert not result.ok
    assert [line for line, _m in result.errors] == [3]
    assert f"transaction {sale.pk}" in result.errors[0][1]


def test_csv_import_walks_the_history_once_not_per_row(acme, monkeypatch):
    from ledger.transactions import csv_import, services

    _buy(acme, 1, "1000", "10000.00")
    rows = "".join(_csv_row("sale", 2 + i % 20, "1", "20") for i in range(200))
    walked: list[int] = []
    real = csv_import.fifo_verdict

    def counting(**kwargs):
        walked.append(len(kwargs["txns"]))
        return real(**kwargs)

    def per_row(**kwargs):
        raise AssertionError("a row walked FIFO on its own")

    monkeypatch.setattr(csv_import, "fifo_verdict", counting)
    monkeypatch.setattr(services, "fifo_check", per_row)
    with scope(company=acme):
        result = transactions_import(company=acme, content=(HEADER + rows).encode(), by=None)
    assert result.ok, result.errors[:3]
    assert walked == [200]

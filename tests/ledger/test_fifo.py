"""FIFO cost per instrument: oldest lots first, exact to the øre, refusals with clear messages."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from ledger.models import Transaction
from ledger.transactions.fifo import FifoError, Holdings, fifo_cost
from ledger.transactions.services import TransactionInvalid
from tests.ledger.support import record

D = Decimal


def test_partial_sales_across_several_lots():
    h = Holdings()
    h.buy("X", D("100"), D("1000.00"))  # 10.00 each
    h.buy("X", D("50"), D("600.00"))  # 12.00 each
    h.buy("X", D("30"), D("450.00"))  # 15.00 each
    # 120 units: all of lot 1 (1000) and 20 of lot 2 (240)
    assert h.sell("X", D("120")) == D("1240.00")
    # 40 more: the 30 left of lot 2 (360) and 10 of lot 3 (150)
    assert h.sell("X", D("40")) == D("510.00")
    assert h.held("X") == D("20")
    # what is left costs exactly what was paid minus what was sold
    assert h.sell("X", D("20")) == D("2050.00") - D("1240.00") - D("510.00")


def test_rounding_of_a_partial_lot_never_loses_an_ore():
    h = Holdings()
    h.buy("X", D("3"), D("100.00"))
    parts = [h.sell("X", D("1")) for _ in range(3)]
    assert parts == [D("33.33"), D("33.34"), D("33.33")]
    assert sum(parts) == D("100.00")


def test_instruments_are_kept_apart():
    h = Holdings()
    h.buy("A", D("10"), D("100.00"))
    h.buy("B", D("10"), D("999.00"))
    assert h.sell("A", D("5")) == D("50.00")


def test_selling_more_than_held_is_refused_with_the_numbers():
    h = Holdings()
    h.buy("X", D("10"), D("100.00"))
    with pytest.raises(FifoError, match="only 10 held"):
        h.sell("X", D("10.5"), label="Equinor ASA")
    assert h.held("X") == D("10")


def test_repayment_lowers_the_cost_of_what_is_held():
    h = Holdings()
    h.buy("X", D("10"), D("1000.00"))
    h.buy("X", D("30"), D("3000.00"))
    h.repay("X", D("400.00"))
    assert h.sell("X", D("10")) == D("900.00")
    assert h.sell("X", D("30")) == D("2700.00")


@pytest.mark.django_db
def test_fifo_cost_from_the_companys_earlier_purchases(acme):
    record(acme, quantity=D("100"), amount=D("1000.00"), fees=D("0"), trade_date=date(2026, 1, 5))
    record(
        acme, quantity=D("100"), amount=D("2000.00"), fees=D("10.00"), trade_date=date(2026, 2, 5)
    )
    sale = record(
        acme,
        kind="sale",
        quantity=D("150"),
        amount=D("3000.00"),
        fees=D("0"),
        trade_date=date(2026, 3, 1),
    )
    with scope(company=acme):
        assert fifo_cost(company=acme, txn=sale) == D("1000.00") + D("1005.00")


@pytest.mark.django_db
def test_later_purchases_and_reversed_rows_do_not_count(acme):
    first = record(
        acme, quantity=D("10"), amount=D("100.00"), fees=D("0"), trade_date=date(2026, 1, 1)
    )
    record(acme, quantity=D("10"), amount=D("500.00"), fees=D("0"), trade_date=date(2026, 6, 1))
    with scope(company=acme):
        sale = Transaction(
            company=acme,
            kind="sale",
            trade_date=date(2026, 3, 1),
            isin="NO0010096985",
            instrument_name="Equinor ASA",
            quantity=D("10"),
            amount=D("300.00"),
        )
        assert fifo_cost(company=acme, txn=sale) == D("100.00")
        Transaction.objects.filter(pk=first.pk).update(status="reversed")
        with pytest.raises(FifoError):
            fifo_cost(company=acme, txn=sale)


@pytest.mark.django_db
def test_recording_a_sale_of_more_than_held_is_refused_and_saves_nothing(acme):
    record(acme, quantity=D("10"), amount=D("100.00"), trade_date=date(2026, 1, 1))
    with pytest.raises(TransactionInvalid, match="only 10 held"):
        record(acme, kind="sale", quantity=D("11"), amount=D("200.00"), trade_date=date(2026, 2, 1))
    with scope(company=acme):
        assert Transaction.objects.filter(company=acme).count() == 1


@pytest.mark.django_db
def test_fund_switch_moves_cost_to_the_new_fund(acme):
    record(
        acme,
        isin="",
        instrument_name="Fond A",
        quantity=D("100"),
        amount=D("1000.00"),
        fees=D("0"),
        trade_date=date(2026, 1, 1),
    )
    switch = record(
        acme,
        kind="fund_switch",
        isin="",
        instrument_name="Fond A",
        quantity=D("60"),
        amount=D("900.00"),
        fees=D("5.00"),
        to_instrument_name="Fond B",
        to_quantity=D("30"),
        trade_date=date(2026, 2, 1),
    )
    with scope(company=acme):
        assert fifo_cost(company=acme, txn=switch) == D("600.00")
        sale = Transaction(
            company=acme,
            kind="sale",
            trade_date=date(2026, 3, 1),
            instrument_name="Fond B",
            quantity=D("30"),
            amount=D("1000.00"),
        )
        # The new fund costs the value switched plus the switch's fees.
        assert fifo_cost(company=acme, txn=sale) == D("905.00")

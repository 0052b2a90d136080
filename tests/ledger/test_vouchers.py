"""Transaction → voucher lines: every type balances to exactly 0.00 in Decimal, rows from 1, no
float anywhere; the preview names accounts; GL defaults exist in an NS 4102 chart."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import GLAccountSettings, Transaction
from ledger.transactions.vouchers import (
    BookingReferences,
    ChartAccount,
    VoucherBuildError,
    VoucherLine,
    build_lines,
    chart_fetch,
    gl_settings_check,
    voucher_payload,
    voucher_preview,
)
from tests.ledger.support import record
from tripletex.schemas import encode_json

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)
fees_st = st.one_of(
    st.just(D("0.00")), st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2)
)
quantity = st.decimals(min_value=D("0.0001"), max_value=D("1000000"), places=4)
# Deposits and withdrawals need a broker account: tests/ledger/brokers/test_cash_transfers.py;
# a currency exchange two: tests/ledger/brokers/test_currency_exchange.py.
NEEDS_BROKER_ACCOUNTS = ("cash_deposit", "cash_withdrawal", "currency_exchange")
KINDS = [k for k in Transaction.Kind.values if k not in ("journal", *NEEDS_BROKER_ACCOUNTS)]


def _chart(gl: GLAccountSettings) -> dict[int, ChartAccount]:
    numbers = {getattr(gl, role) for role in gl.ROLES}
    return {n: ChartAccount(id=10_000 + n, number=n, name=f"Account {n}") for n in numbers}


def _assert_sound(lines: list[VoucherLine]) -> None:
    assert len(lines) >= 2
    assert [line.row for line in lines] == list(range(1, len(lines) + 1))
    for line in lines:
        assert isinstance(line.amount, Decimal)
        assert line.amount != 0
        assert line.amount == line.amount.quantize(D("0.01"))
    assert sum((line.amount for line in lines), D("0")) == 0


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    amount=money,
    fees=fees_st,
    cost=money,
    qty=quantity,
    loan=st.booleans(),
)
def test_random_transactions_always_give_balanced_decimal_vouchers(
    kind, amount, fees, cost, qty, loan
):
    if kind == "sale" and fees > amount:
        fees = amount
    txn = Transaction(
        company_id=1,
        pk=7,
        kind=kind,
        trade_date=date(2026, 3, 31),
        instrument_name="Fund A",
        isin="NO0010096985",
        quantity=qty,
        amount=amount,
        fees=fees,
        to_instrument_name="Fund B",
        to_quantity=qty,
        settle_via="loan" if loan else "bank",
        external_voucher_number="DYN-1-7",
    )
    gl = GLAccountSettings()
    lines = build_lines(txn=txn, gl=gl, cost=cost)
    _assert_sound(lines)
    payload = voucher_payload(txn=txn, lines=lines, chart=_chart(gl), refs=BookingReferences())
    body = payload.to_api()
    text = encode_json(body).decode()
    # Exactly the Decimal text goes out (fixed point, two decimals): never a float's repr.
    for posting in body["postings"]:
        assert f'"amountGross":{posting["amountGross"]:f}' in text
    for posting in body["postings"]:
        assert isinstance(posting["amountGross"], Decimal)
        assert posting["row"] >= 1
    assert sum(p["amountGross"] for p in body["postings"]) == 0


@given(amounts=st.lists(money, min_size=1, max_size=8))
def test_any_balanced_journal_becomes_a_balanced_payload(amounts):
    lines = [VoucherLine(i + 1, 6800, a) for i, a in enumerate(amounts)]
    lines.append(VoucherLine(len(lines) + 1, 1920, -sum(amounts, D("0"))))
    chart = {6800: ChartAccount(1, 6800, "x"), 1920: ChartAccount(2, 1920, "y")}
    txn = Transaction(trade_date=date(2026, 1, 1), kind="journal", external_voucher_number="K")
    payload = voucher_payload(txn=txn, lines=lines, chart=chart, refs=BookingReferences())
    assert sum(p.amount_gross for p in payload.postings) == 0


def test_sale_books_gain_and_loss_against_fifo_cost():
    gl = GLAccountSettings()
    sale = Transaction(
        kind="sale",
        trade_date=date(2026, 1, 1),
        instrument_name="X",
        quantity=D("10"),
        amount=D("1500.00"),
        fees=D("20.00"),
    )
    gain = build_lines(txn=sale, gl=gl, cost=D("1000.00"))
    assert [(line.account_number, line.amount) for line in gain] == [
        (1920, D("1480.00")),
        (1810, D("-1000.00")),
        (8077, D("-480.00")),
    ]
    loss = build_lines(txn=sale, gl=gl, cost=D("2000.00"))
    assert [(line.account_number, line.amount) for line in loss] == [
        (1920, D("1480.00")),
        (1810, D("-2000.00")),
        (8177, D("520.00")),
    ]


def test_purchase_through_the_instrument_loan_and_fees_in_cost():
    gl = GLAccountSettings()
    buy = Transaction(
        kind="purchase",
        trade_date=date(2026, 1, 1),
        instrument_name="X",
        quantity=D("1"),
        amount=D("100.00"),
        fees=D("1.50"),
        settle_via="loan",
    )
    lines = build_lines(txn=buy, gl=gl)
    assert [(line.account_number, line.amount) for line in lines] == [
        (1810, D("100.00")),
        (1810, D("1.50")),
        (2220, D("-101.50")),
    ]


def test_amounts_with_more_than_two_decimals_are_refused():
    txn = Transaction(kind="dividend", trade_date=date(2026, 1, 1), amount=D("10.001"))
    with pytest.raises(VoucherBuildError):
        build_lines(txn=txn, gl=GLAccountSettings())


def test_unknown_or_inactive_accounts_are_refused_before_sending():
    gl = GLAccountSettings()
    txn = Transaction(
        kind="interest", trade_date=date(2026, 1, 1), amount=D("10.00"), external_voucher_number="K"
    )
    lines = build_lines(txn=txn, gl=gl)
    chart = {1920: ChartAccount(1, 1920, "Bank", is_inactive=True)}
    with pytest.raises(VoucherBuildError) as info:
        voucher_payload(txn=txn, lines=lines, chart=chart, refs=BookingReferences())
    assert "1920" in str(info.value)
    assert "8050" in str(info.value)


@pytest.mark.django_db
def test_preview_shows_lines_names_and_balance(acme, local_cache):
    txn = record(acme)
    with scope(company=acme):
        preview = voucher_preview(company=acme, txn=txn)
    assert preview.is_balanced
    assert preview.total == 0
    assert [(line.account_number, line.debit, line.credit) for line in preview.lines] == [
        (1810, D("25000.00"), None),
        (1810, D("49.00"), None),
        (1920, None, D("25049.00")),
    ]
    assert preview.lines[2].account_name == "Bankinnskudd"


@pytest.mark.django_db
def test_preview_of_an_uncovered_sale_lists_the_problem(acme, local_cache):
    with scope(company=acme):
        txn = Transaction(
            company=acme,
            kind="sale",
            trade_date=date(2026, 1, 1),
            instrument_name="Nothing",
            quantity=D("1"),
            amount=D("1.00"),
        )
        preview = voucher_preview(company=acme, txn=txn)
    assert not preview.is_balanced
    assert preview.problems


@pytest.mark.django_db
def test_gl_defaults_exist_and_are_active_in_the_sandbox_chart(sandbox_acme):
    from companies.credentials import tripletex_client_for

    with scope(company=sandbox_acme):
        chart = chart_fetch(company=sandbox_acme, client=tripletex_client_for(sandbox_acme))
        gl = GLAccountSettings(company=sandbox_acme)
        assert gl_settings_check(company=sandbox_acme, gl=gl, chart=chart) == dict.fromkeys(
            gl.ROLES, ""
        )
        gl.fees = 9999
        assert "9999" in gl_settings_check(company=sandbox_acme, gl=gl, chart=chart)["fees"]


def test_fund_switch_goes_through_the_clearing_account_and_books_the_gain():
    gl = GLAccountSettings()
    switch = Transaction(
        kind="fund_switch",
        trade_date=date(2026, 1, 1),
        instrument_name="Fond A",
        to_instrument_name="Fond B",
        quantity=D("60"),
        to_quantity=D("30"),
        amount=D("900.00"),
        fees=D("5.00"),
    )
    lines = build_lines(txn=switch, gl=gl, cost=D("600.00"))
    assert [(line.account_number, line.amount) for line in lines] == [
        (1889, D("900.00")),
        (1810, D("-600.00")),
        (8077, D("-300.00")),
        (1810, D("905.00")),
        (1889, D("-900.00")),
        (1920, D("-5.00")),
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("dividend", [(1920, D("95.00")), (8179, D("5.00")), (8071, D("-100.00"))]),
        ("interest", [(1920, D("95.00")), (8179, D("5.00")), (8050, D("-100.00"))]),
        ("repayment", [(1920, D("95.00")), (8179, D("5.00")), (1810, D("-100.00"))]),
        ("fee", [(8179, D("100.00")), (1920, D("-100.00"))]),
        ("withholding_tax", [(8300, D("100.00")), (1920, D("-100.00"))]),
    ],
)
def test_income_and_expense_postings(kind, expected):
    fees = D("5.00") if kind in ("dividend", "interest", "repayment") else D("0")
    txn = Transaction(
        kind=kind, trade_date=date(2026, 1, 1), instrument_name="X", amount=D("100.00"), fees=fees
    )
    lines = build_lines(txn=txn, gl=GLAccountSettings())
    assert [(line.account_number, line.amount) for line in lines] == expected


@pytest.mark.django_db
def test_a_new_cache_configuration_starts_without_this_process_copy_of_the_chart(
    sandbox_acme, settings
):
    from companies.credentials import tripletex_client_for
    from ledger.transactions.vouchers import chart_for_booking

    client = tripletex_client_for(sandbox_acme)
    with scope(company=sandbox_acme):
        chart_for_booking(company=sandbox_acme, client=client, numbers={1920})
        mark = client.stats.mark()
        chart_for_booking(company=sandbox_acme, client=client, numbers={1920})
        assert client.stats.since(mark).calls == 0, "the process copy answers within its minute"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "test-another-cache",
            }
        }
        chart_for_booking(company=sandbox_acme, client=client, numbers={1920})
        assert client.stats.since(mark).calls == 1, "an empty cache means reading the chart again"

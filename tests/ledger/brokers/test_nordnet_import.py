"""Nordnet files in: each row becomes the voucher an accountant would write by hand.

Broker account Nordnet 12345678 keeps its cash on 1921; the firm's bank is 1920 (GL default).
Other defaults: securities 1810, gain 8077, dividend 8071, interest 8050, withholding tax 8300,
fees 8179 (README, "Default accounts"). Amounts in NOK, Dr positive, Cr negative.
"""

from decimal import Decimal

import pytest
from django_scopes import scope

from ledger.imports.registry import format_detect
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, Transaction
from ledger.transactions.vouchers import voucher_preview
from tests.ledger.brokers.files import APPLE, EQUINOR, nordnet_22, nordnet_30, row

pytestmark = pytest.mark.django_db
D = Decimal

# Chronological, each Saldo the previous plus Beløp (the fact sheet's integrity rule).
ROWS = [
    # Deposit from the firm's bank: Dr 1921 100 000,00 / Cr 1920 100 000,00.
    row(1001, "2026-01-02", "INNSKUDD", "100 000,00", "100 000,00"),
    # 100 Equinor at 250,00 + 49,00 fees: Beløp −25 049,00 = −(25 000,00 + 49,00).
    # Dr 1810 25 000,00, Dr 1810 49,00 (fees are cost) / Cr 1921 25 049,00.
    row(1002, "2026-01-05", "KJØPT", "-25 049,00", "74 951,00", instrument=EQUINOR,
        quantity="100", price="250,00", fees="49,00", note="SN-1002"),
    # 10 Apple at 150,00 USD, rate 10,50: 1 500,00 USD = 15 750,00 NOK, + 99,00 NOK fees.
    # Beløp −15 849,00 NOK. Dr 1810 15 750,00, Dr 1810 99,00 / Cr 1921 15 849,00.
    row(1003, "2026-01-06", "KJØPT", "-15 849,00", "59 102,00", instrument=APPLE,
        quantity="10", price="150,00", fees="99,00", instrument_currency="USD",
        purchase_value="-1 500,00", fx="10,50"),
    # Sell 40 Equinor at 270,00 less 29,00: Beløp 10 771,00. FIFO cost 40/100 × 25 049,00 =
    # 10 019,60; gain 10 800,00 − 29,00 − 10 019,60 = 751,40.
    # Dr 1921 10 771,00 / Cr 1810 10 019,60, Cr 8077 751,40.
    row(1004, "2026-03-10", "SALG", "10 771,00", "69 873,00", instrument=EQUINOR,
        quantity="-40", price="270,00", fees="29,00"),
    # Apple dividend 10 × 2,50 USD = 25,00 USD × 10,50 = 262,50 NOK, and 15 % US tax withheld
    # (39,375 → 39,38) on its own row: one voucher. Dr 1921 223,12, Dr 8300 39,38 / Cr 8071 262,50.
    row(1005, "2026-05-15", "UTBYTTE", "262,50", "70 135,50", instrument=APPLE, quantity="10",
        price="2,50", instrument_currency="USD", fx="10,50"),
    row(1006, "2026-05-15", "KUPONGSKATT", "-39,38", "70 096,12", instrument=APPLE,
        instrument_currency="USD", fx="10,50"),
    # Debit interest, a finance cost: Dr 8179 12,50 / Cr 1921 12,50.
    row(1007, "2026-06-30", "DEBETRENTE", "-12,50", "70 083,62"),
    # Platform fee: Dr 8179 25,00 / Cr 1921 25,00.
    row(1008, "2026-06-30", "PLATTFORMAVGIFT", "-25,00", "70 058,62"),
    # The fee refunded (AVG KORR, money in): Dr 1921 25,00 / Cr 8179 25,00.
    row(1009, "2026-07-01", "AVG KORR", "25,00", "70 083,62"),
    # Interest earned (a type containing RENTE, money in): Dr 1921 8,40 / Cr 8050 8,40.
    row(1010, "2026-07-31", "KREDITRENTE", "8,40", "70 092,02"),
    # Withdrawal to the bank: Dr 1920 20 000,00 / Cr 1921 20 000,00.
    row(1011, "2026-08-01", "UTTAK INTERNET", "-20 000,00", "50 092,02"),
    # A purchase and its cancellation: neither is imported.
    row(1012, "2026-08-05", "KJØPT", "-2 600,00", "47 492,02", instrument=EQUINOR,
        quantity="10", price="260,00"),
    row(1013, "2026-08-05", "KJØPT", "2 600,00", "50 092,02", instrument=EQUINOR,
        quantity="10", price="260,00", cancelled="2026-08-06"),
    # A type we do not know: listed with its count, not imported.
    row(1014, "2026-08-10", "BYTTE INNLEGG VP", "0,00", "50 092,02", instrument=EQUINOR,
        quantity="5"),
    # Deposit through Trustly: Dr 1921 5 000,00 / Cr 1920 5 000,00.
    row(1015, "2026-08-11", "OVERFØRING VIA TRUSTLY", "5 000,00", "55 092,02"),
    # Sell 10 Equinor at 280,00, no fees. Left: 60 units costing 15 029,40; 10 of them cost
    # 2 504,90; gain 295,10. Dr 1921 2 800,00 / Cr 1810 2 504,90, Cr 8077 295,10.
    row(1016, "2026-09-01", "SOLGT", "2 800,00", "57 892,02", instrument=EQUINOR,
        quantity="-10", price="280,00"),
    # A fee: Dr 8179 10,00 / Cr 1921 10,00.
    row(1017, "2026-09-02", "AVGIFT", "-10,00", "57 882,02"),
    # Withdrawal: Dr 1920 1 000,00 / Cr 1921 1 000,00.
    row(1018, "2026-09-03", "UTTAK", "-1 000,00", "56 882,02"),
    # Redemption of the last 50 at 300,00: cost 12 524,50, gain 2 475,50.
    # Dr 1921 15 000,00 / Cr 1810 12 524,50, Cr 8077 2 475,50.
    row(1019, "2026-09-04", "INNLØSN. UTTAK VP", "15 000,00", "71 882,02", instrument=EQUINOR,
        quantity="-50", price="300,00"),
]  # fmt: skip

EXPECTED = {
    "1001": [(1921, D("100000.00")), (1920, D("-100000.00"))],
    "1002": [(1810, D("25000.00")), (1810, D("49.00")), (1921, D("-25049.00"))],
    "1003": [(1810, D("15750.00")), (1810, D("99.00")), (1921, D("-15849.00"))],
    "1004": [(1921, D("10771.00")), (1810, D("-10019.60")), (8077, D("-751.40"))],
    "1005": [(1921, D("223.12")), (8300, D("39.38")), (8071, D("-262.50"))],
    "1007": [(8179, D("12.50")), (1921, D("-12.50"))],
    "1008": [(8179, D("25.00")), (1921, D("-25.00"))],
    "1009": [(1921, D("25.00")), (8179, D("-25.00"))],
    "1010": [(1921, D("8.40")), (8050, D("-8.40"))],
    "1011": [(1921, D("-20000.00")), (1920, D("20000.00"))],
    "1015": [(1921, D("5000.00")), (1920, D("-5000.00"))],
    "1016": [(1921, D("2800.00")), (1810, D("-2504.90")), (8077, D("-295.10"))],
    "1017": [(8179, D("10.00")), (1921, D("-10.00"))],
    "1018": [(1921, D("-1000.00")), (1920, D("1000.00"))],
    "1019": [(1921, D("15000.00")), (1810, D("-12524.50")), (8077, D("-2475.50"))],
}


@pytest.fixture
def nordnet_account(acme) -> BrokerAccount:
    with scope(company=acme):
        return BrokerAccount.objects.create(
            company=acme, broker="nordnet", number="12345678", cash_account=1921
        )


def _import(company, content: bytes, **kwargs):
    with scope(company=company):
        return file_import(company=company, content=content, by=None, **kwargs)


def _vouchers(company) -> dict[str, list[tuple[int, Decimal]]]:
    with scope(company=company):
        found = {}
        for txn in Transaction.objects.filter(company=company).select_related("broker_account"):
            ident = txn.broker_ref.rsplit(":", 1)[-1]
            lines = voucher_preview(company=company, txn=txn).lines
            found[ident] = [(line.account_number, line.amount) for line in lines]
        return found


@pytest.mark.parametrize(
    "content",
    [nordnet_30(ROWS), nordnet_30(ROWS, resaved=True)],
    ids=["utf16-tab", "utf8-semicolon"],
)
def test_every_nordnet_type_becomes_its_hand_written_voucher(acme, nordnet_account, content):
    assert getattr(format_detect(content), "key", None) == "nordnet"
    result = _import(acme, content)
    assert result.ok, result.errors
    assert result.saved
    assert _vouchers(acme) == EXPECTED
    # 19 rows: 2 cancel out, 1 unknown, the tax merged into its dividend. (A compensation,
    # ERSTATNING, needs its account chosen in the inbox: tests/ledger/brokers/
    # test_currency_exchange.py.)
    assert (result.new, result.already, result.cancelled) == (15, 0, 2)
    assert result.unknown_types == {"BYTTE INNLEGG VP": 1}
    assert result.manual_types == {}
    assert len(result.created) == 15
    assert not [w for w in result.warnings if "Saldo" in w[1]]


def test_a_foreign_trade_keeps_its_currency_amount_and_the_brokers_rate(acme, nordnet_account):
    result = _import(acme, nordnet_30(ROWS))
    assert result.ok, result.errors
    with scope(company=acme):
        apple = Transaction.objects.get(company=acme, broker_ref="nordnet:12345678:1003")
        dividend = Transaction.objects.get(company=acme, broker_ref="nordnet:12345678:1005")
        sale = Transaction.objects.get(company=acme, broker_ref="nordnet:12345678:1004")
    assert (apple.currency, apple.amount_currency, apple.fx_rate) == (
        "USD",
        D("1500.00"),
        D("10.5"),
    )
    assert (apple.amount, apple.fees, apple.quantity) == (D("15750.00"), D("99.00"), D("10"))
    assert (dividend.amount, dividend.tax_withheld) == (D("262.50"), D("39.38"))
    assert dividend.broker_ref_other == "nordnet:12345678:1006"
    assert (sale.currency, sale.fx_rate, sale.source) == ("NOK", None, "broker")
    assert sale.broker_account == nordnet_account
    with scope(company=acme):
        purchase = Transaction.objects.get(company=acme, broker_ref="nordnet:12345678:1002")
    assert purchase.contract_note_number == "SN-1002"


def test_reimporting_an_overlapping_file_adds_only_the_new_rows(acme, nordnet_account):
    first = _import(acme, nordnet_30(ROWS[:8]))
    assert first.ok
    assert first.new == 7
    again = _import(acme, nordnet_30(ROWS))
    assert again.ok, again.errors
    assert (again.new, again.already) == (8, 7)
    assert _vouchers(acme) == EXPECTED


def test_the_older_22_column_layout_imports_into_the_only_nordnet_account(acme, nordnet_account):
    content = nordnet_22(ROWS[:4])
    assert getattr(format_detect(content), "key", None) == "nordnet"
    result = _import(acme, content)
    assert result.ok, result.errors
    assert "older layout" in result.format_label
    # The old layout has one Valuta column: the Apple purchase's Beløp is NOK there.
    assert _vouchers(acme) == {k: EXPECTED[k] for k in ("1001", "1002", "1003", "1004")}


def test_an_unknown_portfolio_is_an_error_and_nothing_is_saved(acme, nordnet_account):
    rows = [*ROWS[:2], row(2001, "2026-01-03", "INNSKUDD", "1,00", "1,00", portfolio="999")]
    result = _import(acme, nordnet_30(rows))
    assert not result.ok
    assert any("999" in message for _line, message in result.errors)
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()


def test_a_saldo_gap_is_a_warning_naming_the_line(acme, nordnet_account):
    rows = [ROWS[0], row(1002, "2026-01-05", "AVGIFT", "-10,00", "99 000,00")]
    result = _import(acme, nordnet_30(rows), save=False)
    assert result.ok
    assert [line for line, message in result.warnings if "Saldo" in message] == [3]


def test_a_preview_saves_nothing(acme, nordnet_account):
    result = _import(acme, nordnet_30(ROWS), save=False)
    assert result.ok
    assert result.new == 15
    assert not result.saved
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()

"""Foreign currency done right: amounts are posted in NOK, and the line on a broker cash account
Tripletex keeps in USD also carries USD and its amount in USD (the only postings such an account
takes; tripletex/sandbox/endpoints.py `_validate_currency` has the sources).

Nordnet portfolio 87654321 is the firm's USD account: its cash is GL 1925 "Bankinnskudd i valuta,
USD" (kept in USD in the sandbox's chart), its `Beløp` and `Saldo` are in USD and each row gives
the rate (Vekslingskurs, NOK per USD). The bank is 1920; securities 1810, dividend 8071, withholding
tax 8300 (GL defaults). Every figure below is computed by hand, to the øre and the cent. Messages
are asserted in English (tests/conftest.py runs code outside requests in English); the page test
reads the bokmål page.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from companies.credentials import tripletex_client_for
from ledger.booking.protocol import booking_queue, booking_run
from ledger.holdings.services import lots_reserve
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, GLAccountSettings, LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from ledger.sync.reference import accounts_pull
from ledger.transactions.checks import currency_problems, reference_stored
from ledger.transactions.services import TransactionInvalid, transaction_create
from ledger.transactions.vouchers import (
    BookingReferences,
    ChartAccount,
    VoucherBuildError,
    build_lines,
    voucher_payload,
    voucher_preview,
)
from tests.ledger.brokers.files import APPLE, nordnet_30, row
from tests.ledger.support import HOLDING_ID, reload, vouchers_with
from tripletex.sandbox import seed

D = Decimal
PORTFOLIO = "87654321"
USD_CASH = 1925
USD_ID = 40  # a Tripletex currency id as the chart gives it (never hard-coded in the app)


def _day(offset: int) -> str:
    return (timezone.localdate() - timedelta(days=offset)).isoformat()


def _usd(r: dict[str, str]) -> dict[str, str]:
    """A row of the USD account: Beløp and fees in USD."""
    r["currency"] = "USD"
    if r["fees"]:
        r["fees_currency"] = "USD"
    return r


# Saldo in USD: 2 000,00 → 498,50 → 523,50 → 519,75 (each the previous plus Beløp).
USD_ROWS = [
    # USD 2 000,00 bought from the bank at 10,40: 20 800,00 NOK.
    # Dr 1925 20 800,00 (USD 2 000,00) / Cr 1920 20 800,00.
    _usd(row(3001, _day(20), "INNSKUDD", "2 000,00", "2 000,00", fx="10,40",
             portfolio=PORTFOLIO)),
    # 10 Apple at USD 150,00 = USD 1 500,00, fees USD 1,50; Beløp −1 501,50 USD at 10,50.
    # Cash 1 501,50 × 10,50 = 15 765,75 NOK; fees 1,50 × 10,50 = 15,75; cost 15 750,00.
    # Dr 1810 15 750,00, Dr 1810 15,75 / Cr 1925 15 765,75 (USD 1 501,50).
    _usd(row(3002, _day(15), "KJØPT", "-1 501,50", "498,50", instrument=APPLE, quantity="10",
             price="150,00", fees="1,50", instrument_currency="USD", fx="10,50",
             portfolio=PORTFOLIO)),
    # Dividend 10 × USD 2,50 = USD 25,00 at 10,50 = 262,50 NOK, and 15 % US tax withheld on its
    # own row: USD 3,75 × 10,50 = 39,375 → 39,38 NOK. One voucher with both lines; the cash is
    # USD 25,00 − 3,75 = USD 21,25, 262,50 − 39,38 = 223,12 NOK.
    # Dr 1925 223,12 (USD 21,25), Dr 8300 39,38 / Cr 8071 262,50.
    _usd(row(3003, _day(10), "UTBYTTE", "25,00", "523,50", instrument=APPLE, quantity="10",
             price="2,50", instrument_currency="USD", fx="10,50", portfolio=PORTFOLIO)),
    _usd(row(3004, _day(10), "UTL. KUPSKATT", "-3,75", "519,75", instrument=APPLE,
             instrument_currency="USD", fx="10,50", portfolio=PORTFOLIO)),
]  # fmt: skip

EXPECTED = {
    "3001": [(USD_CASH, D("20800.00"), "USD", D("2000.00")), (1920, D("-20800.00"), "", None)],
    "3002": [
        (1810, D("15750.00"), "", None),
        (1810, D("15.75"), "", None),
        (USD_CASH, D("-15765.75"), "USD", D("-1501.50")),
    ],
    "3003": [
        (USD_CASH, D("223.12"), "USD", D("21.25")),
        (8300, D("39.38"), "", None),
        (8071, D("-262.50"), "", None),
    ],
}


def _account(company, *, currency: str = "USD", cash: int = USD_CASH) -> BrokerAccount:
    with scope(company=company):
        return BrokerAccount.objects.create(
            company=company, broker="nordnet", number=PORTFOLIO, cash_account=cash,
            currency=currency,
        )  # fmt: skip


def _lines(company, txn):
    with scope(company=company):
        preview = voucher_preview(company=company, txn=txn)
    return [(x.account_number, x.amount, x.currency, x.amount_currency) for x in preview.lines]


def _purchase(**extra) -> Transaction:
    values = {
        "kind": "purchase",
        "trade_date": date(2026, 3, 2),
        "instrument_name": "Apple Inc",
        "quantity": D("10"),
        "amount": D("15750.00"),
        "fees": D("15.75"),
        "currency": "USD",
        "amount_currency": D("1500.00"),
        "fx_rate": D("10.5"),
        "external_voucher_number": "FX-1",
    }
    values.update(extra)
    return Transaction(**values)


def _broker(currency: str) -> BrokerAccount:
    """An unsaved broker account with an id, as a transaction's row refers to it."""
    return BrokerAccount(
        pk=7, broker="nordnet", number=PORTFOLIO, cash_account=USD_CASH, currency=currency
    )


def _chart(currency: str = "USD") -> dict[int, ChartAccount]:
    chart = {n: ChartAccount(id=10_000 + n, number=n, name=f"Konto {n}") for n in (1810, 1920)}
    foreign = currency != "NOK"
    chart[USD_CASH] = ChartAccount(
        id=10_000 + USD_CASH,
        number=USD_CASH,
        name="USD",
        currency=currency if foreign else "",
        currency_id=USD_ID if foreign else None,
    )
    return chart


# ---- the voucher builder and the payload --------------------------------------------------


def test_a_usd_purchase_on_a_usd_broker_account_pays_its_cash_line_in_usd():
    broker = _broker("USD")
    txn = _purchase(broker_account=broker)
    lines = build_lines(txn=txn, gl=GLAccountSettings())
    assert [(x.account_number, x.amount, x.currency, x.amount_currency) for x in lines] == [
        (1810, D("15750.00"), "", None),
        (1810, D("15.75"), "", None),
        (USD_CASH, D("-15765.75"), "USD", D("-1501.50")),
    ]
    payload = voucher_payload(txn=txn, lines=lines, chart=_chart(), refs=BookingReferences())
    postings = [p.to_api() for p in payload.postings]
    # NOK accounts as before: no currency, amountGrossCurrency = amountGross.
    assert postings[0] == {
        "row": 1,
        "account": {"id": 11810},
        "amountGross": D("15750.00"),
        "amountGrossCurrency": D("15750.00"),
        "description": "Apple Inc",
    }
    assert "currency" not in postings[1]
    assert postings[2] == {
        "row": 3,
        "account": {"id": 10_000 + USD_CASH},
        "amountGross": D("-15765.75"),
        "amountGrossCurrency": D("-1501.50"),
        "description": "Apple Inc",
        "currency": {"id": USD_ID},
    }


def test_without_the_brokers_rate_the_rate_is_the_amounts_own():
    """A form-entered trade gives NOK and USD amounts but no rate: 15 750,00 / 1 500,00 = 10,5."""
    broker = _broker("USD")
    lines = build_lines(txn=_purchase(broker_account=broker, fx_rate=None), gl=GLAccountSettings())
    assert (lines[-1].amount, lines[-1].amount_currency) == (D("-15765.75"), D("-1501.50"))


def test_a_trade_in_another_currency_or_without_its_usd_amount_is_refused():
    broker = _broker("USD")
    with pytest.raises(VoucherBuildError, match="kept in USD, but this transaction is in EUR"):
        build_lines(txn=_purchase(broker_account=broker, currency="EUR"), gl=GLAccountSettings())
    with pytest.raises(VoucherBuildError, match="The amount in USD is needed"):
        build_lines(
            txn=_purchase(broker_account=broker, amount_currency=None), gl=GLAccountSettings()
        )


def test_a_usd_cash_account_with_a_nok_broker_account_is_refused_before_tripletex():
    """The broker account says NOK, Tripletex keeps 1925 in USD: Tripletex would refuse it."""
    broker = _broker("NOK")
    txn = _purchase(broker_account=broker)
    lines = build_lines(txn=txn, gl=GLAccountSettings())
    assert lines[-1].currency == ""
    with pytest.raises(VoucherBuildError, match="Account 1925 is kept in USD in Tripletex"):
        voucher_payload(txn=txn, lines=lines, chart=_chart(), refs=BookingReferences())


def test_a_usd_broker_account_on_a_nok_cash_account_is_refused_before_tripletex():
    broker = _broker("USD")
    txn = _purchase(broker_account=broker)
    lines = build_lines(txn=txn, gl=GLAccountSettings())
    with pytest.raises(VoucherBuildError, match="Account 1925 is kept in NOK in Tripletex"):
        voucher_payload(txn=txn, lines=lines, chart=_chart("NOK"), refs=BookingReferences())


# ---- a Nordnet USD account, imported ------------------------------------------------------


@pytest.mark.django_db
def test_a_nordnet_usd_account_becomes_the_vouchers_written_by_hand(acme):
    account = _account(acme)
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(USD_ROWS), by=None)
    assert result.ok, result.errors
    assert not [w for w in result.warnings if "Saldo" in w[1]]
    with scope(company=acme):
        rows = {
            t.broker_ref.rsplit(":", 1)[-1]: t
            for t in Transaction.objects.filter(company=acme).select_related("broker_account")
        }
    assert sorted(rows) == ["3001", "3002", "3003"]
    assert {ident: _lines(acme, txn) for ident, txn in rows.items()} == EXPECTED
    dividend = rows["3003"]
    assert (dividend.currency, dividend.amount_currency, dividend.fx_rate) == (
        "USD",
        D("25.00"),
        D("10.5"),
    )
    assert (dividend.amount, dividend.tax_withheld) == (D("262.50"), D("39.38"))
    assert dividend.broker_ref_other == f"nordnet:{PORTFOLIO}:3004"
    assert rows["3002"].broker_account == account


@pytest.mark.django_db
def test_the_preview_shows_the_usd_amount_beside_the_nok(client, alice, acme):
    _account(acme)
    with scope(company=acme):
        file_import(company=acme, content=nordnet_30(USD_ROWS[:2]), by=None)
        txn = Transaction.objects.get(company=acme, broker_ref=f"nordnet:{PORTFOLIO}:3002")
    client.force_login(alice)
    url = reverse("ledger:transaction_detail", kwargs={"company_slug": acme.slug, "pk": txn.pk})
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="muted" data-testid="line-currency">USD 1\u00a0501,50</span>' in html
    assert "15\u00a0765,75" in html


# ---- the checks at entry --------------------------------------------------------------------


def _synced(company, currency: str) -> None:
    """The chart as a sync an hour ago stored it, with 1925 kept in `currency`."""
    at = timezone.now() - timedelta(hours=1)
    with scope(company=company):
        for number in {*GL_DEFAULTS.values(), USD_CASH}:
            LedgerAccount.objects.create(
                company=company,
                tripletex_id=100_000 + number,
                number=number,
                name=f"Konto {number}",
                currency=currency if number == USD_CASH else "NOK",
                currency_tripletex_id=USD_ID if number == USD_CASH else 1,
                synced_at=at,
            )


def _problems(company, account: BrokerAccount, **extra) -> list[str]:
    """The currency checks at entry of a USD purchase on `account` (as an import makes it)."""
    values = {
        "kind": "purchase",
        "trade_date": timezone.localdate(),
        "instrument_name": "Apple Inc",
        "quantity": D("10"),
        "amount": D("15750.00"),
        "fees": D("15.75"),
        "currency": "USD",
        "amount_currency": D("1500.00"),
        **extra,
    }
    with scope(company=company):
        txn = Transaction(company=company, broker_account_id=account.pk, **values)
        return currency_problems(txn, reference_stored(company=company))


@pytest.mark.django_db
def test_checks_at_entry_say_when_the_broker_account_and_its_cash_account_differ(acme):
    _synced(acme, "USD")
    broker = _account(acme, currency="NOK")
    assert _problems(acme, broker) == [
        f"Nordnet {PORTFOLIO} is set up in NOK, but its cash account 1925 is kept in USD in "
        "Tripletex, which takes only USD on it. Correct the broker account's currency or cash "
        "account on the Broker accounts page."
    ]
    with scope(company=acme):
        BrokerAccount.objects.filter(pk=broker.pk).update(currency="USD")
    assert _problems(acme, broker) == []
    (problem,) = _problems(acme, broker, currency="EUR")
    assert problem.startswith(
        f"Nordnet {PORTFOLIO} USD is kept in USD, but this transaction is in EUR"
    )


@pytest.mark.django_db
def test_a_usd_file_into_a_broker_account_set_up_in_nok_is_refused_whole(acme):
    """The cash account is USD in Tripletex, the broker account says NOK: nothing is saved."""
    _synced(acme, "USD")
    _account(acme, currency="NOK")
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(USD_ROWS), by=None)
        assert not Transaction.objects.filter(company=acme).exists()
    assert not result.saved
    assert any("is set up in NOK, but its cash account 1925" in m for _line, m in result.errors)


# ---- the holdings page: cost in NOK ----------------------------------------------------------


@pytest.mark.django_db
def test_the_holdings_page_shows_a_usd_purchase_at_its_cost_in_nok(client, anders, acme):
    _account(acme)
    with scope(company=acme):
        file_import(company=acme, content=nordnet_30(USD_ROWS[:2]), by=None)
        txn = Transaction.objects.get(company=acme, broker_ref=f"nordnet:{PORTFOLIO}:3002")
        lots_reserve(company=acme, txn=txn)
        Transaction.objects.filter(pk=txn.pk).update(status=Transaction.Status.BOOKED)
    client.force_login(anders)
    page = client.get(reverse("ledger:holdings", kwargs={"company_slug": acme.slug}))
    (position,) = [r.position for r in page.context["positions"]]
    # Cost = 15 750,00 + 15,75 fees in NOK (not USD 1 501,50); 1 576,575 → 1 576,5750 a share.
    assert (position.quantity, position.cost) == (D("10"), D("15765.75"))
    assert position.average_cost == D("1576.5750")
    assert 'data-testid="total-cost">15\u00a0765,75<' in page.content.decode()


# ---- booked against the sandbox ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_usd_purchase_is_booked_with_tripletexs_currency_fields(sandbox_acme, tripletex_sandbox):
    acme = sandbox_acme
    _account(acme)
    with scope(company=acme):
        # The chart sync stores each account's currency (1925 is kept in USD in the sandbox).
        accounts_pull(acme, tripletex_client_for(acme))
        stored = LedgerAccount.objects.get(company=acme, number=USD_CASH)
        assert (stored.currency, stored.currency_tripletex_id) == ("USD", seed.CURRENCY_IDS["USD"])
        assert LedgerAccount.objects.get(company=acme, number=1920).currency == "NOK"
        result = file_import(company=acme, content=nordnet_30(USD_ROWS[:2]), by=None)
        assert result.ok, result.errors
        txn = Transaction.objects.get(company=acme, broker_ref=f"nordnet:{PORTFOLIO}:3002")
        assert booking_queue(company=acme, transaction_ids=[txn.pk], enqueue=False)["queued"] == 1
        assert booking_run(company=acme, transaction_id=txn.pk) == "booked"
    booked = reload(txn)
    (voucher,) = vouchers_with(tripletex_sandbox, booked.external_voucher_number)
    postings = [tripletex_sandbox.store.posting(HOLDING_ID, ref.id) for ref in voucher["postings"]]
    numbers = {a["id"]: a["number"] for a in tripletex_sandbox.store.accounts(HOLDING_ID)}
    got = sorted(
        (
            p["row"],
            numbers[p["account"].id],
            p["amountGross"],
            p["amountGrossCurrency"],
            seed.CURRENCIES[p["currency"].id][0],
        )
        for p in postings
    )
    assert got == [
        (1, 1810, D("15750.00"), D("15750.00"), "NOK"),
        (2, 1810, D("15.75"), D("15.75"), "NOK"),
        (3, USD_CASH, D("-15765.75"), D("-1501.50"), "USD"),
    ]


@pytest.mark.django_db
def test_without_antall_and_kurs_the_usd_amount_is_the_cash_less_its_fees(acme):
    """A USD purchase row without Kurs: Beløp −1 501,50 USD with USD 1,50 fees is USD 1 500,00
    before fees, the counterpart of the NOK amount 15 750,00 (the voucher's cash line is still
    USD 1 501,50)."""
    _account(acme)
    no_price = _usd(
        row(3005, _day(5), "KJØPT", "-1 501,50", "-1 501,50", instrument=APPLE, quantity="10",
            fees="1,50", instrument_currency="USD", fx="10,50", portfolio=PORTFOLIO)
    )  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30([no_price]), by=None)
        assert result.ok, result.errors
        txn = Transaction.objects.get(company=acme, broker_ref=f"nordnet:{PORTFOLIO}:3005")
    assert (txn.amount, txn.fees, txn.amount_currency) == (D("15750.00"), D("15.75"), D("1500.00"))
    assert _lines(acme, txn)[-1] == (USD_CASH, D("-15765.75"), "USD", D("-1501.50"))


@pytest.mark.django_db
def test_a_journal_entry_on_the_usd_account_is_not_saved(acme):
    """Journal entries are posted in NOK; Tripletex takes only USD on 1925."""
    _synced(acme, "USD")
    data = {"kind": "journal", "trade_date": timezone.localdate(), "description": "Gebyr"}
    lines = [
        {"account_number": 8179, "debit": D("25.00")},
        {"account_number": USD_CASH, "credit": D("25.00")},
    ]
    with scope(company=acme), pytest.raises(TransactionInvalid) as info:
        transaction_create(company=acme, data=data, lines=lines, by=None)
    assert info.value.messages == [
        "Journal line 2: account 1925 is kept in USD in Tripletex, which takes only USD on it, "
        "and a journal entry is posted in NOK. Choose a NOK account."
    ]
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()

"""Nordnet currency accounts and exchanges between them (SALG VALUTA + KJØP VALUTA).

Portfolio 87654321 has two broker accounts: NOK on GL 1921 and USD on GL 1925 ("Bankinnskudd i
valuta, USD", kept in USD). In a currency account `Beløp` and `Saldo` are in that currency and
`Vekslingskurs` is NOK per unit (nordnet.no, Valutakonto; our reading of the rate). Fees go to
8179, securities to 1810 (GL defaults). Portfolio 12345678 has one broker account only (NOK, GL
1921). Every figure below is computed by hand, to the øre and the cent; messages in English
(tests/conftest.py runs code outside requests in English).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope
from hypothesis import given
from hypothesis import strategies as st

from companies.credentials import tripletex_client_for
from ledger.booking.protocol import booking_queue, booking_run
from ledger.imports.forms import BrokerAccountForm
from ledger.imports.inbox import batch_accept, inbox_upload
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, GLAccountSettings, ImportedRow, InboxRow, Transaction
from ledger.sync.reference import accounts_pull
from ledger.transactions.vouchers import ChartAccount, build_lines, voucher_preview
from tests.ledger.brokers.files import APPLE, nordnet_30, row
from tests.ledger.support import HOLDING_ID, reload, vouchers_with
from tripletex.sandbox import seed

pytestmark = pytest.mark.django_db
D = Decimal
TWO = "87654321"
ONE = "12345678"


def _day(offset: int) -> str:
    return (timezone.localdate() - timedelta(days=offset)).isoformat()


def _usd(r: dict[str, str]) -> dict[str, str]:
    """A row of the USD currency account: Beløp and fees in USD."""
    r["currency"] = "USD"
    if r["fees"]:
        r["fees_currency"] = "USD"
    return r


def _accounts(company, *, nok_cash: int = 1921) -> tuple[BrokerAccount, BrokerAccount]:
    with scope(company=company):
        nok = BrokerAccount.objects.create(
            company=company, broker="nordnet", number=TWO, cash_account=nok_cash
        )
        usd = BrokerAccount.objects.create(
            company=company, broker="nordnet", number=TWO, cash_account=1925, currency="USD"
        )
    return nok, usd


def _single(company) -> BrokerAccount:
    with scope(company=company):
        return BrokerAccount.objects.create(
            company=company, broker="nordnet", number=ONE, cash_account=1921
        )


# NOK Saldo 20 000,00 → 9 500,00; USD Saldo 1 000,00 → −1,50.
ROWS = [
    # From the bank to the NOK account: Dr 1921 20 000,00 / Cr 1920 20 000,00.
    row(4001, _day(20), "INNSKUDD", "20 000,00", "20 000,00", portfolio=TWO),
    # NOK 10 500,00 exchanged into USD 1 000,00 at 10,50: one voucher, both legs NOK 10 500,00.
    # Dr 1925 10 500,00 (USD 1 000,00) / Cr 1921 10 500,00.
    row(4002, _day(15), "SALG VALUTA", "-10 500,00", "9 500,00", fx="10,50", portfolio=TWO),
    _usd(row(4003, _day(15), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=TWO)),
    # 10 Apple at USD 100,00 + USD 1,50 fees from the USD account, at 10,50: cash 1 001,50 ×
    # 10,50 = 10 515,75 NOK, fees 15,75, cost 10 500,00.
    # Dr 1810 10 500,00, Dr 1810 15,75 / Cr 1925 10 515,75 (USD 1 001,50).
    _usd(row(4004, _day(10), "KJØPT", "-1 001,50", "-1,50", instrument=APPLE, quantity="10",
             price="100,00", fees="1,50", instrument_currency="USD", fx="10,50",
             portfolio=TWO)),
]  # fmt: skip


def _lines(company, txn: Transaction) -> list[tuple[int, Decimal, str, Decimal | None]]:
    with scope(company=company):
        preview = voucher_preview(company=company, txn=txn)
    assert not preview.problems, preview.problems
    return [(x.account_number, x.amount, x.currency, x.amount_currency) for x in preview.lines]


def _by_id(company) -> dict[str, Transaction]:
    with scope(company=company):
        txns = Transaction.objects.filter(company=company).select_related(
            "broker_account", "to_broker_account"
        )
        return {t.broker_ref.rsplit(":", 1)[-1]: t for t in txns}


def test_each_row_goes_to_the_account_of_its_currency_and_the_exchange_is_one_voucher(acme):
    nok, usd = _accounts(acme)
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(ROWS), by=None)
    assert result.ok, result.errors
    assert not [w for w in result.warnings if "Saldo" in w[1]]
    rows = _by_id(acme)
    assert sorted(rows) == ["4001", "4002", "4004"]
    assert rows["4001"].broker_account == nok
    assert rows["4004"].broker_account == usd
    exchange = rows["4002"]
    assert exchange.kind == Transaction.Kind.CURRENCY_EXCHANGE
    assert (exchange.broker_account, exchange.to_broker_account) == (nok, usd)
    assert exchange.broker_ref_other == f"nordnet:{TWO}:4003"
    assert (exchange.amount, exchange.fees, exchange.fx_rate) == (D("10500.00"), D("0"), D("10.5"))
    assert (exchange.currency, exchange.amount_currency) == ("NOK", None)
    assert (exchange.to_currency, exchange.to_amount_currency) == ("USD", D("1000.00"))
    assert _lines(acme, exchange) == [
        (1925, D("10500.00"), "USD", D("1000.00")),
        (1921, D("-10500.00"), "", None),
    ]
    assert _lines(acme, rows["4004"]) == [
        (1810, D("10500.00"), "", None),
        (1810, D("15.75"), "", None),
        (1925, D("-10515.75"), "USD", D("-1001.50")),
    ]
    with scope(company=acme):
        again = file_import(company=acme, content=nordnet_30(ROWS), by=None)
    # The pair is one row of ours: 3 already imported, nothing new.
    assert (again.new, again.already, again.ok) == (0, 3, True)


def test_an_exchange_with_a_fee_and_one_back_into_nok(acme):
    _accounts(acme)
    rows = [
        # NOK 5 012,50 out, 12,50 of it Nordnet's fee: NOK 5 000,00 buys USD 476,19.
        # Dr 1925 5 000,00 (USD 476,19), Dr 8179 12,50 / Cr 1921 5 012,50.
        row(4101, _day(9), "SALG VALUTA", "-5 012,50", "-5 012,50", fees="12,50", fx="10,50",
            portfolio=TWO),
        _usd(row(4102, _day(9), "KJØP VALUTA", "476,19", "476,19", fx="10,50", portfolio=TWO)),
        # USD 100,00 back into NOK 1 040,00 at 10,40.
        # Dr 1921 1 040,00 / Cr 1925 1 040,00 (USD 100,00).
        _usd(row(4103, _day(5), "SALG VALUTA", "-100,00", "376,19", fx="10,40", portfolio=TWO)),
        row(4104, _day(5), "KJØP VALUTA", "1 040,00", "-3 972,50", fx="10,40", portfolio=TWO),
    ]  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
    assert result.ok, result.errors
    found = _by_id(acme)
    assert sorted(found) == ["4101", "4103"]
    assert _lines(acme, found["4101"]) == [
        (1925, D("5000.00"), "USD", D("476.19")),
        (8179, D("12.50"), "", None),
        (1921, D("-5012.50"), "", None),
    ]
    assert _lines(acme, found["4103"]) == [
        (1921, D("1040.00"), "", None),
        (1925, D("-1040.00"), "USD", D("-100.00")),
    ]


def test_with_one_account_the_pair_is_nothing_to_book_and_remembered(acme):
    _single(acme)
    rows = [
        row(4201, _day(8), "SALG VALUTA", "-10 500,00", "-10 500,00", fx="10,50", portfolio=ONE),
        _usd(row(4202, _day(8), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=ONE)),
    ]  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
        assert result.ok, result.errors
        assert (result.new, result.nothing_to_book, result.created) == (1, 1, [])
        assert not Transaction.objects.filter(company=acme).exists()
        assert sorted(ImportedRow.objects.values_list("broker_ref", flat=True)) == [
            f"nordnet:{ONE}:4201",
            f"nordnet:{ONE}:4202",
        ]
        again = file_import(company=acme, content=nordnet_30(rows), by=None)
    assert (again.new, again.already, again.nothing_to_book) == (0, 1, 0)


def test_with_one_account_a_pair_with_a_fee_is_that_fee(acme):
    account = _single(acme)
    rows = [
        # NOK 10 512,50 out (12,50 fee), USD 1 000,00 in, both on GL 1921: in NOK the account
        # lost the fee. Dr 8179 12,50 / Cr 1921 12,50.
        row(4301, _day(8), "SALG VALUTA", "-10 512,50", "-10 512,50", fees="12,50", fx="10,50",
            portfolio=ONE),
        _usd(row(4302, _day(8), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=ONE)),
    ]  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
    assert result.ok, result.errors
    (fee,) = _by_id(acme).values()
    assert (fee.kind, fee.broker_account, fee.amount) == ("fee", account, D("12.50"))
    assert fee.broker_ref_other == f"nordnet:{ONE}:4302"
    assert _lines(acme, fee) == [(8179, D("12.50"), "", None), (1921, D("-12.50"), "", None)]


def test_an_unpaired_leg_is_listed_and_nothing_is_saved(acme):
    _accounts(acme)
    rows = [
        row(4401, _day(8), "SALG VALUTA", "-10 500,00", "-10 500,00", fx="10,50", portfolio=TWO),
        # Another day: not its partner.
        _usd(row(4402, _day(7), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=TWO)),
    ]  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
        assert not Transaction.objects.filter(company=acme).exists()
    assert not result.saved
    messages = [m for _line, m in result.errors]
    assert any(m.startswith("SALG VALUTA Id 4401 has no matching leg") for m in messages)
    assert any(m.startswith("KJØP VALUTA Id 4402 has no matching leg") for m in messages)


def test_a_row_in_a_currency_without_its_account_is_an_error(acme):
    _accounts(acme)
    rows = [
        row(4501, _day(8), "INNSKUDD", "1 000,00", "1 000,00", currency="SEK", fx="0,98",
            portfolio=TWO),
    ]  # fmt: skip
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
    assert [m for _line, m in result.errors] == [
        f"The row's money is in SEK, but account {TWO} has broker accounts in NOK, USD only: add "
        "its SEK account under Broker accounts first."
    ]


def test_the_inbox_keeps_the_pair_as_one_row_and_accepts_it(acme):
    nok, usd = _accounts(acme)
    with scope(company=acme):
        upload = inbox_upload(company=acme, content=nordnet_30(ROWS[:3]), file_name="f", by=None)
        assert upload.ok, upload.errors
        assert upload.batch is not None
        row_ = InboxRow.objects.get(company=acme, kind="currency_exchange")
        assert row_.problems == []
        assert row_.broker_account == nok
        assert batch_accept(company=acme, batch=upload.batch, by=None).created == 2
    exchange = _by_id(acme)["4002"]
    assert (exchange.broker_account, exchange.to_broker_account) == (nok, usd)


def test_the_inbox_remembers_a_pair_within_one_account(acme):
    _single(acme)
    rows = [
        row(4601, _day(8), "SALG VALUTA", "-10 500,00", "-10 500,00", fx="10,50", portfolio=ONE),
        _usd(row(4602, _day(8), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=ONE)),
    ]  # fmt: skip
    with scope(company=acme):
        upload = inbox_upload(company=acme, content=nordnet_30(rows), file_name="f", by=None)
        assert upload.batch is not None
        (inbox_row,) = InboxRow.objects.filter(company=acme)
        assert inbox_row.problems == []
        assert batch_accept(company=acme, batch=upload.batch, by=None).created == 0
        assert not Transaction.objects.filter(company=acme).exists()
        assert ImportedRow.objects.filter(company=acme).count() == 2
        again = inbox_upload(company=acme, content=nordnet_30(rows), file_name="f", by=None)
    assert (again.new, again.already) == (0, 1)


def test_the_usd_account_of_the_same_portfolio_can_be_added(acme):
    _single(acme)
    chart = {n: ChartAccount(id=n, number=n, name=f"Konto {n}") for n in (1921, 1925)}
    data = {"broker": "nordnet", "number": ONE, "name": "", "cash_account": "1925"}
    with scope(company=acme):
        assert not BrokerAccountForm(
            {**data, "currency": "NOK"}, company=acme, chart=chart
        ).is_valid()
        form = BrokerAccountForm({**data, "currency": "usd"}, company=acme, chart=chart)
        assert form.is_valid(), form.errors
        form.instance.company = acme
        added = form.save()
    assert (added.currency, added.label) == ("USD", f"Nordnet {ONE} USD")


def test_an_exchange_is_booked_with_both_currencies(sandbox_acme, tripletex_sandbox):
    """The sandbox's chart has 1920 (NOK) and 1925 (USD): the NOK leg on 1920 here."""
    acme = sandbox_acme
    _accounts(acme, nok_cash=1920)
    with scope(company=acme):
        accounts_pull(acme, tripletex_client_for(acme))
        result = file_import(company=acme, content=nordnet_30(ROWS[1:3]), by=None)
        assert result.ok, result.errors
        (txn,) = Transaction.objects.filter(company=acme)
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
        (1, 1925, D("10500.00"), D("1000.00"), "USD"),
        (2, 1920, D("-10500.00"), D("-10500.00"), "NOK"),
    ]


def test_the_pages_show_the_exchange_and_the_pair_with_nothing_to_book(client, alice, acme):
    from django.urls import reverse

    _accounts(acme)
    with scope(company=acme):
        file_import(company=acme, content=nordnet_30(ROWS[1:3]), by=None)
    exchange = _by_id(acme)["4002"]
    client.force_login(alice)
    url = reverse(
        "ledger:transaction_detail", kwargs={"company_slug": acme.slug, "pk": exchange.pk}
    )
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Valutaveksling NOK → USD" in html
    assert (
        f'data-testid="paid-through">Fra Nordnet {TWO}, konto 1921, til Nordnet {TWO} USD, '
        "konto 1925<"
    ) in html
    assert '<span class="muted" data-testid="line-currency">USD 1\u00a0000,00</span>' in html
    _single(acme)
    rows = [
        row(4701, _day(8), "SALG VALUTA", "-10 500,00", "-10 500,00", fx="10,50", portfolio=ONE),
        _usd(row(4702, _day(8), "KJØP VALUTA", "1 000,00", "1 000,00", fx="10,50", portfolio=ONE)),
    ]  # fmt: skip
    with scope(company=acme):
        upload = inbox_upload(company=acme, content=nordnet_30(rows), file_name="f", by=None)
    assert upload.batch is not None
    url = reverse(
        "ledger:inbox_batch", kwargs={"company_slug": acme.slug, "batch_id": upload.batch.pk}
    )
    page = client.get(url)
    assert page.status_code == 200
    assert "Valutaveksling innenfor kontoen, ingenting å bokføre." in page.content.decode()


# ---- ERSTATNING: a compensation, its account chosen in the inbox -----------------------------

COMPENSATION_ROWS = [
    # NOK 250,00 paid in by Nordnet: Dr 1921 250,00 / Cr the chosen account (8090) 250,00.
    row(4801, _day(6), "ERSTATNING", "250,00", "250,00", text="Kompensasjon", portfolio=ONE),
]


def test_a_direct_import_refuses_a_compensation_pointing_to_the_inbox(acme):
    _single(acme)
    with scope(company=acme):
        result = file_import(company=acme, content=nordnet_30(COMPENSATION_ROWS), by=None)
        assert not Transaction.objects.filter(company=acme).exists()
    assert [m for _line, m in result.errors] == [
        "ERSTATNING (a compensation) needs a person to choose the account it is income on: "
        "import the file through the inbox (Transactions → Inbox, or import_transactions "
        "--inbox) and choose it there."
    ]


def test_a_compensation_waits_in_the_inbox_until_its_account_is_chosen(client, alice, acme):
    from django.urls import reverse

    from ledger.models import LedgerAccount
    from ledger.models.transactions import GL_DEFAULTS

    account = _single(acme)
    at = timezone.now() - timedelta(hours=1)
    with scope(company=acme):
        for number in {*GL_DEFAULTS.values(), 1921, 8090, 1925}:
            LedgerAccount.objects.create(
                company=acme, tripletex_id=200_000 + number, number=number,
                name="Annen finansinntekt" if number == 8090 else f"Konto {number}",
                currency="USD" if number == 1925 else "NOK", synced_at=at,
            )  # fmt: skip
        upload = inbox_upload(
            company=acme, content=nordnet_30(COMPENSATION_ROWS), file_name="f", by=None
        )
        assert upload.batch is not None
        (inbox_row,) = InboxRow.objects.filter(company=acme)
    assert inbox_row.problems == [
        "Choose the account the compensation is income on (Choose the account, on this row): "
        "the file does not say what Nordnet paid it for."
    ]
    client.force_login(alice)
    batch_url = reverse(
        "ledger:inbox_batch", kwargs={"company_slug": acme.slug, "batch_id": upload.batch.pk}
    )
    url = reverse(
        "ledger:inbox_row_account", kwargs={"company_slug": acme.slug, "row_id": inbox_row.pk}
    )
    assert 'data-testid="inbox-choose-account"' in client.get(batch_url).content.decode()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="8090">8090 Annen finansinntekt</option>' in html
    assert 'value="1925"' not in html  # kept in USD: a journal entry is posted in NOK
    assert client.post(url, {"account": "9999"}).status_code == 400
    assert client.post(url, {"account": "8090"}).status_code == 302
    inbox_row.refresh_from_db()
    assert (inbox_row.problems, inbox_row.data["counter_account"]) == ([], 8090)
    with scope(company=acme):
        assert batch_accept(company=acme, batch=upload.batch, by=None).created == 1
        txn = Transaction.objects.get(company=acme)
        lines = [(x.account_number, x.debit, x.credit) for x in txn.lines.order_by("row")]
        again = inbox_upload(
            company=acme, content=nordnet_30(COMPENSATION_ROWS), file_name="f", by=None
        )
    assert (txn.kind, txn.broker_account, txn.broker_ref) == (
        "journal",
        account,
        f"nordnet:{ONE}:4801",
    )
    assert lines == [(1921, D("250.00"), D("0.00")), (8090, D("0.00"), D("250.00"))]
    assert (again.new, again.already) == (0, 1)


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2),
    fees=st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2),
    usd=st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2),
)
def test_any_exchange_gives_a_balanced_voucher_with_its_usd(amount, fees, usd):
    nok = BrokerAccount(pk=1, company_id=1, broker="nordnet", number=TWO, cash_account=1921)
    dollars = BrokerAccount(
        pk=2, company_id=1, broker="nordnet", number=TWO, cash_account=1925, currency="USD"
    )
    txn = Transaction(
        company_id=1, kind="currency_exchange", trade_date=date(2026, 3, 2), amount=amount,
        fees=fees, currency="NOK", to_currency="USD", to_amount_currency=usd,
        broker_account=nok, to_broker_account=dollars,
    )  # fmt: skip
    lines = build_lines(txn=txn, gl=GLAccountSettings())
    assert sum((line.amount for line in lines), D("0")) == 0
    got = {
        line.account_number: (line.amount, line.currency, line.amount_currency) for line in lines
    }
    assert got[1925] == (amount, "USD", usd)
    assert got[1921] == (-(amount + fees), "", None)
    assert got.get(8179, (D("0"),))[0] == fees


def test_an_account_exchanged_into_counts_as_used_and_is_not_removed(acme):
    from ledger.imports.accounts import broker_account_delete, broker_accounts_list

    nok, usd = _accounts(acme)
    with scope(company=acme):
        file_import(company=acme, content=nordnet_30(ROWS[1:3]), by=None)
        used = {a.currency: a.used for a in broker_accounts_list(company=acme)}
        assert used == {"NOK": 1, "USD": 1}
        assert broker_account_delete(company=acme, account=usd) is False
        assert BrokerAccount.objects.filter(pk=usd.pk).exists()


def test_the_transaction_form_does_not_offer_a_currency_exchange(client, alice, acme):
    from django.urls import reverse

    client.force_login(alice)
    page = client.get(reverse("ledger:transaction_new", kwargs={"company_slug": acme.slug}))
    assert page.status_code == 200
    assert 'value="currency_exchange"' not in page.content.decode()
    assert 'value="cash_deposit"' in page.content.decode()
    _accounts(acme)
    with scope(company=acme):
        file_import(company=acme, content=nordnet_30(ROWS[1:3]), by=None)
    exchange = _by_id(acme)["4002"]
    url = reverse("ledger:transaction_edit", kwargs={"company_slug": acme.slug, "pk": exchange.pk})
    # Its edit form opens (the type is not offered: a saved change is refused as an invalid type).
    assert client.get(url).status_code == 200


def test_the_correction_form_refuses_an_exchange_and_a_compensation(client, alice, acme):
    """Their rows have no "Correct" button; typed by address, the securities form is refused
    (it cannot hold two broker accounts, nor a compensation's chosen account) and nothing
    changes."""
    from django.urls import reverse

    _accounts(acme)
    _single(acme)
    with scope(company=acme):
        for rows in (ROWS[:3], COMPENSATION_ROWS):
            upload = inbox_upload(company=acme, content=nordnet_30(rows), file_name="f", by=None)
            assert upload.batch is not None, upload.errors
    client.force_login(alice)
    for kind in ("currency_exchange", "compensation"):
        with scope(company=acme):
            inbox_row = InboxRow.objects.get(company=acme, kind=kind)
        before = (dict(inbox_row.data), list(inbox_row.problems))
        url = reverse(
            "ledger:inbox_row", kwargs={"company_slug": acme.slug, "row_id": inbox_row.pk}
        )
        for response in (client.get(url), client.post(url, {"kind": "purchase"}, follow=True)):
            if response.status_code == 302:
                assert f"row-{inbox_row.pk}" in response["Location"]
            else:
                assert response.status_code == 200
                assert "Denne raden kan ikke endres her." in response.content.decode()
        with scope(company=acme):
            inbox_row.refresh_from_db()
        assert (inbox_row.data, inbox_row.problems) == before

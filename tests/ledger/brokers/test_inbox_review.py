"""Found in review of the inbox: a row's correction shows amounts as the pages do, the batch page
offers to accept only rows that can be, a transaction of a broker account names that account as
what it was paid through, and a row's problems read in each person's own language.

Broker account Nordnet 12345678 keeps its cash on 1921; the firm's bank is 1920 (GL default).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from ledger.imports.inbox import inbox_upload
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, ImportBatch, InboxRow, Transaction
from tests.ledger.brokers.files import APPLE, EQUINOR, nordnet_30, row
from tests.ledger.support import record

pytestmark = pytest.mark.django_db
D = Decimal
NBSP = "\u00a0"

DEPOSIT = row(1001, "2026-01-02", "INNSKUDD", "100 000,00", "100 000,00")
# 10 Apple at 150,00 USD, rate 10,50: 15 750,00 NOK + 99,00 NOK fees, 1 500,00 USD.
APPLE_BUY = row(1003, "2026-01-06", "KJØPT", "-15 849,00", "84 151,00", instrument=APPLE,
                quantity="10", price="150,00", fees="99,00", instrument_currency="USD",
                purchase_value="-1 500,00", fx="10,50")  # fmt: skip


def _sale(ident: int, quantity: str = "-40") -> dict[str, str]:
    """A sale of Equinor, which the firm does not hold: FIFO refuses it."""
    return row(ident, "2026-03-10", "SALG", "10 771,00", "110 771,00", instrument=EQUINOR,
               quantity=quantity, price="270,00", fees="29,00")  # fmt: skip


@pytest.fixture
def review_nordnet(acme) -> BrokerAccount:
    with scope(company=acme):
        return BrokerAccount.objects.create(
            company=acme, broker="nordnet", number="12345678", cash_account=1921
        )


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def _upload(company, rows, language: str = "nb") -> ImportBatch:
    """The file into the inbox as a person reading `language` uploads it."""
    with translation.override(language), scope(company=company):
        upload = inbox_upload(company=company, content=nordnet_30(rows), file_name="f", by=None)
    assert upload.batch is not None, upload.errors
    return upload.batch


def _row(company, batch, ident: int) -> InboxRow:
    with scope(company=company):
        return InboxRow.objects.get(batch=batch, broker_ref=f"nordnet:12345678:{ident}")


def _inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="text" name="(\w+)" value="([^"]*)"', page))


# ---- a. amounts in the row's correction as the pages show them -----------------------------------


def test_the_row_form_shows_amounts_as_the_pages_do(client, fiona, acme, review_nordnet):
    batch = _upload(acme, [DEPOSIT, APPLE_BUY])
    apple = _row(acme, batch, 1003)
    client.force_login(fiona)
    page = client.get(_url("inbox_row", acme, row_id=apple.pk)).content.decode()
    shown = _inputs(page)
    assert shown["amount"] == f"15{NBSP}750,00"
    assert shown["fees"] == "99,00"
    assert shown["amount_currency"] == f"1{NBSP}500,00"
    assert (shown["quantity"], shown["price"]) == ("10", "150")
    # Saved back as shown, the row keeps its amounts to the øre.
    form = {**shown, "kind": "purchase", "currency": "USD", "settle_via": "bank"}
    assert client.post(_url("inbox_row", acme, row_id=apple.pk), form).status_code == 302
    apple.refresh_from_db()
    assert (apple.values["amount"], apple.values["fees"], apple.values["amount_currency"]) == (
        D("15750.00"),
        D("99.00"),
        D("1500.00"),
    )


def test_the_transaction_form_shows_amounts_the_same_way(client, fiona, acme):
    txn = record(acme, amount=D("1234567.50"), fees=D("49.00"), quantity=D("1.5"))
    client.force_login(fiona)
    page = client.get(_url("transaction_edit", acme, pk=txn.pk)).content.decode()
    shown = _inputs(page)
    assert shown["amount"] == f"1{NBSP}234{NBSP}567,50"
    assert (shown["fees"], shown["quantity"], shown["price"]) == ("49,00", "1,5", "250")


# ---- b. accept only what can be accepted ---------------------------------------------------------


def test_a_file_whose_every_row_has_a_problem_offers_no_accept(client, fiona, acme, review_nordnet):
    batch = _upload(acme, [_sale(2001), _sale(2002, "-10"), _sale(2003, "-5")])
    client.force_login(fiona)
    page = client.get(_url("inbox_batch", acme, batch_id=batch.pk)).content.decode()
    assert 'data-testid="inbox-accept"' not in page
    assert "Godta" not in page
    assert "Ingen rad kan godtas ennå: hver rad som er med, har en feil." in page
    assert "0 rad(er), 0 utelatt, 3 med feil" in page


def test_with_one_bad_row_the_page_says_so_and_offers_accept_once_it_is_left_out(
    client, fiona, acme, review_nordnet
):
    batch = _upload(acme, [DEPOSIT, _sale(2001)])
    client.force_login(fiona)
    url = _url("inbox_batch", acme, batch_id=batch.pk)
    page = client.get(url).content.decode()
    assert 'data-testid="inbox-accept"' not in page
    assert "1 rad har en feil: rett den eller utelat den, så kan filen godtas." in page
    assert "1 rad(er), 0 utelatt, 1 med feil" in page
    sale = _row(acme, batch, 2001)
    client.post(_url("inbox_row_exclude", acme, row_id=sale.pk), {"excluded": "1"})
    page = client.get(url).content.decode()
    assert "Godta 1 rad som klar" in page
    assert 'data-testid="inbox-cannot-accept"' not in page
    client.post(
        _url("inbox_row_exclude", acme, row_id=_row(acme, batch, 1001).pk), {"excluded": "1"}
    )
    page = client.get(url).content.decode()
    assert 'data-testid="inbox-accept"' not in page
    assert "Alle rader er utelatt: det er ingenting å godta." in page


# ---- c. paid through the broker account ----------------------------------------------------------


def test_a_broker_accounts_row_names_that_account_as_paid_through(
    client, fiona, acme, review_nordnet
):
    with scope(company=acme):
        review_nordnet.name = "Aksjesparekonto"
        review_nordnet.save()
        assert file_import(company=acme, content=nordnet_30([DEPOSIT, APPLE_BUY]), by=None).saved
        deposit = Transaction.objects.get(company=acme, kind="cash_deposit")
        purchase = Transaction.objects.get(company=acme, kind="purchase")
    own = record(acme)  # from the form: no broker account, paid from the bank
    client.force_login(fiona)

    def paid_through(txn) -> str:
        page = client.get(_url("transaction_detail", acme, pk=txn.pk)).content.decode()
        return re.search(r'data-testid="paid-through">([^<]*)<', page).group(1)

    assert paid_through(purchase) == "Nordnet 12345678 (Aksjesparekonto), konto 1921"
    assert paid_through(deposit) == (
        "Fra bankkontoen (1920) til Nordnet 12345678 (Aksjesparekonto), konto 1921"
    )
    assert paid_through(own) == "Bankkonto"


# ---- d. problems in the reader's language --------------------------------------------------------

NB_PROBLEM = "Kan ikke selge 40 av Equinor ASA: beholdningen på datoen er bare 0."
EN_PROBLEM = "Cannot sell 40 of Equinor ASA: only 0 held on that date."


@pytest.mark.parametrize("uploader", ["nb", "en"])
def test_each_reader_sees_a_rows_problems_in_their_language(
    client, fiona, acme, review_nordnet, uploader
):
    batch = _upload(acme, [DEPOSIT, _sale(2001)], language=uploader)
    sale = _row(acme, batch, 2001)
    assert sale.problems == [EN_PROBLEM if uploader == "en" else NB_PROBLEM]
    client.force_login(fiona)
    for language, problem, other in (
        ("nb", NB_PROBLEM, EN_PROBLEM),
        ("en", EN_PROBLEM, NB_PROBLEM),
    ):
        client.cookies["django_language"] = language
        for url in (
            _url("inbox_batch", acme, batch_id=batch.pk),
            _url("inbox_row", acme, row_id=sale.pk),
        ):
            page = client.get(url).content.decode()
            assert problem in page, (language, url)
            assert other not in page, (language, url)
    # What the check could not check (no chart or periods read yet) is said in each language too.
    notes = {"nb": "Firmaets regnskapsperioder og kontoplan er ikke lest", "en": "This firm's"}
    for language, note in notes.items():
        client.cookies["django_language"] = language
        page = client.get(_url("inbox_batch", acme, batch_id=batch.pk)).content.decode()
        assert note in page.replace("&#x27;", "'"), language
    # Reading changes nothing stored.
    sale.refresh_from_db()
    assert sale.problems == [EN_PROBLEM if uploader == "en" else NB_PROBLEM]


def test_a_batch_checked_before_the_language_was_kept_is_checked_again_for_its_reader(
    client, fiona, acme, review_nordnet
):
    batch = _upload(acme, [DEPOSIT, _sale(2001)], language="nb")
    with scope(company=acme):
        ImportBatch.objects.filter(pk=batch.pk).update(checked_language="")
    client.force_login(fiona)
    client.cookies["django_language"] = "en"
    page = client.get(_url("inbox_batch", acme, batch_id=batch.pk)).content.decode()
    assert EN_PROBLEM in page
    assert NB_PROBLEM not in page

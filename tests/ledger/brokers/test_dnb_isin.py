"""A DNB file has no ISIN (instruments by ticker and MIC): the inbox asks it once per instrument,
fills every row of that instrument and remembers it on the firm's Instrument, so the next file
(inbox or direct import) has it. The page speaks Norwegian.

DNB account 1234.56.78901 keeps its cash on 1922.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from ledger.imports.inbox import batch_accept, inbox_upload, row_update
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, ImportBatch, InboxRow, Instrument, Transaction
from tests.ledger.brokers.files import dnb_workbook

pytestmark = pytest.mark.django_db
D = Decimal
EQUINOR_ISIN = "NO0010096985"

FIRST_FILE = [
    ["EQNR", "Equinor ASA", date(2026, 2, 2), "Kjøpt", 20, 250, 5000, "XOSL", "NOK", 1,
     "T-1", date(2026, 2, 4), 5000, 29],
    ["AAPL", "Apple Inc", date(2026, 2, 3), "KJØP", 5, 150, 750, "XNAS", "USD", 10.5,
     "T-2", date(2026, 2, 5), 7875, 99],
    ["EQNR", "Equinor ASA", date(2026, 3, 2), "SOLGT", 10, 270, 2700, "XOSL", "NOK", 1,
     "T-3", date(2026, 3, 4), 2700, 29],
]  # fmt: skip
# A later export: one new Equinor purchase (another name spelling, so only the ticker + MIC
# can find the ISIN, not the name of earlier transactions).
LATER_FILE = [
    ["EQNR", "EQUINOR", date(2026, 4, 1), "Kjøpt", 5, 260, 1300, "XOSL", "NOK", 1,
     "T-5", date(2026, 4, 3), 1300, 29],
]  # fmt: skip


@pytest.fixture
def dnb_isin_account(acme) -> BrokerAccount:
    with scope(company=acme):
        return BrokerAccount.objects.create(
            company=acme, broker="dnb", number="1234.56.78901", cash_account=1922
        )


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def _first_batch(client, company) -> ImportBatch:
    upload = SimpleUploadedFile("dnb.xlsx", dnb_workbook(FIRST_FILE))
    response = client.post(_url("inbox", company), {"file": upload}, follow=True)
    assert response.status_code == 200
    with scope(company=company):
        return ImportBatch.objects.get(company=company)


def _isins(company, batch) -> dict[str, set[str]]:
    with scope(company=company):
        found: dict[str, set[str]] = {}
        for row in InboxRow.objects.filter(company=company, batch=batch):
            found.setdefault(row.instrument_ref, set()).add(row.data.get("isin", ""))
        return found


def test_the_isin_given_once_fills_every_row_of_the_instrument_and_is_remembered(
    client, fiona, acme, dnb_isin_account
):
    client.force_login(fiona)
    batch = _first_batch(client, acme)
    page = client.get(_url("inbox_batch", acme, batch_id=batch.pk)).content.decode()
    assert "Verdipapirer uten ISIN" in page
    assert 'data-ref="EQNR.XOSL"' in page
    assert 'data-ref="AAPL.XNAS"' in page
    assert _isins(acme, batch) == {"EQNR.XOSL": {""}, "AAPL.XNAS": {""}}

    response = client.post(
        _url("inbox_isin", acme, batch_id=batch.pk),
        {"instrument_ref": "EQNR.XOSL", "isin": " no0010096985 "},
        follow=True,
    )
    page = response.content.decode()
    assert "ISIN lagret for EQNR.XOSL: 2 rad(er) fylt ut" in page
    # Both Equinor rows have it; Apple is still asked.
    assert _isins(acme, batch) == {"EQNR.XOSL": {EQUINOR_ISIN}, "AAPL.XNAS": {""}}
    assert 'data-ref="EQNR.XOSL"' not in page
    assert 'data-ref="AAPL.XNAS"' in page
    with scope(company=acme):
        instrument = Instrument.objects.get(company=acme, instrument_ref="EQNR.XOSL")
        assert (instrument.key, instrument.isin, instrument.name) == (
            EQUINOR_ISIN,
            EQUINOR_ISIN,
            "Equinor ASA",
        )
        assert instrument.country == "NO"


def test_a_wrong_isin_is_refused_and_nothing_changes(client, fiona, acme, dnb_isin_account):
    client.force_login(fiona)
    batch = _first_batch(client, acme)
    response = client.post(
        _url("inbox_isin", acme, batch_id=batch.pk),
        # The check digit is wrong (…985 is Equinor's).
        {"instrument_ref": "EQNR.XOSL", "isin": "NO0010096986"},
        follow=True,
    )
    assert "NO0010096986 er ikke en gyldig ISIN" in response.content.decode()
    unknown = client.post(
        _url("inbox_isin", acme, batch_id=batch.pk),
        {"instrument_ref": "NHY.XOSL", "isin": EQUINOR_ISIN},
        follow=True,
    )
    assert "Ingen rad i denne filen gjelder verdipapiret NHY.XOSL" in unknown.content.decode()
    assert _isins(acme, batch) == {"EQNR.XOSL": {""}, "AAPL.XNAS": {""}}
    with scope(company=acme):
        assert not Instrument.objects.filter(company=acme).exists()


def test_a_later_file_takes_the_remembered_isin(client, fiona, acme, dnb_isin_account):
    client.force_login(fiona)
    batch = _first_batch(client, acme)
    client.post(
        _url("inbox_isin", acme, batch_id=batch.pk),
        {"instrument_ref": "EQNR.XOSL", "isin": EQUINOR_ISIN},
    )
    # In the inbox: the next file's Equinor row has the ISIN and is not asked again.
    with scope(company=acme):
        later = inbox_upload(
            company=acme, content=dnb_workbook(LATER_FILE), file_name="later.xlsx", by=fiona
        )
    assert later.ok
    assert later.batch is not None
    assert _isins(acme, later.batch) == {"EQNR.XOSL": {EQUINOR_ISIN}}
    page = client.get(_url("inbox_batch", acme, batch_id=later.batch.pk)).content.decode()
    assert 'data-testid="missing-isins"' not in page
    # The direct import too: the ISIN, and no "no ISIN" warning for it.
    with scope(company=acme):
        result = file_import(company=acme, content=dnb_workbook(LATER_FILE), by=fiona)
        assert result.ok, result.errors
        assert not [text for _line, text in result.warnings if "no ISIN" in text]
        txn = Transaction.objects.get(company=acme, broker_ref="dnb:T-5")
        assert (txn.isin, txn.instrument_key) == (EQUINOR_ISIN, EQUINOR_ISIN)


def test_a_direct_import_remembers_the_isin_it_found_by_name(acme, dnb_isin_account):
    with scope(company=acme):
        first = file_import(company=acme, content=dnb_workbook(FIRST_FILE[:1]), by=None)
        assert first.ok
        assert first.saved
        # Imported by name: nothing to remember yet.
        assert not Instrument.objects.filter(company=acme).exclude(instrument_ref="").exists()
        Transaction.objects.filter(company=acme, broker_ref="dnb:T-1").update(isin=EQUINOR_ISIN)
        second = file_import(company=acme, content=dnb_workbook(FIRST_FILE[2:]), by=None)
        assert second.ok
        assert second.saved
        assert Transaction.objects.get(company=acme, broker_ref="dnb:T-3").isin == EQUINOR_ISIN
        remembered = Instrument.objects.get(company=acme, instrument_ref="EQNR.XOSL")
        assert remembered.key == EQUINOR_ISIN


def test_another_firms_batch_cannot_be_given_an_isin(client, alice, acme, bergen):
    with scope(company=bergen):
        BrokerAccount.objects.create(
            company=bergen, broker="dnb", number="1234.56.78901", cash_account=1922
        )
        theirs = inbox_upload(
            company=bergen, content=dnb_workbook(FIRST_FILE), file_name="dnb.xlsx", by=None
        )
    assert theirs.batch is not None
    client.force_login(alice)
    response = client.post(
        _url("inbox_isin", acme, batch_id=theirs.batch.pk),
        {"instrument_ref": "EQNR.XOSL", "isin": EQUINOR_ISIN},
    )
    assert response.status_code == 404
    assert _isins(bergen, theirs.batch) == {"EQNR.XOSL": {""}, "AAPL.XNAS": {""}}
    with scope(company=bergen):
        assert not Instrument.objects.filter(company=bergen).exists()


def test_an_isin_typed_on_a_rows_form_is_remembered_when_the_batch_is_accepted(
    acme, fiona, dnb_isin_account
):
    apple = "US0378331005"
    with scope(company=acme):
        upload = inbox_upload(
            company=acme, content=dnb_workbook(FIRST_FILE), file_name="dnb.xlsx", by=fiona
        )
        assert upload.batch is not None
        row = InboxRow.objects.get(company=acme, batch=upload.batch, instrument_ref="AAPL.XNAS")
        row_update(company=acme, row=row, form_data={"isin": apple})
        assert not Instrument.objects.filter(company=acme).exists()
        accepted = batch_accept(company=acme, batch=upload.batch, by=fiona)
        assert accepted.ok, accepted.refused
        assert accepted.created == 3
        assert Instrument.objects.get(company=acme, instrument_ref="AAPL.XNAS").key == apple
        # Equinor got no ISIN: nothing is remembered for it.
        assert not Instrument.objects.filter(company=acme, instrument_ref="EQNR.XOSL").exists()

"""The import inbox: a Nordnet file becomes rows to check, fixed or left out, accepted all or
nothing; an overlapping file adds only what is new; a Saldo gap is shown with its rows.

Broker account Nordnet 12345678 keeps its cash on 1921; the firm's bank is 1920, securities 1810,
gain 8077, fees 8179 (GL defaults, README "Default accounts"). The page speaks Norwegian.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from ledger.imports.inbox import batch_accept, inbox_upload
from ledger.imports.inbox_pages import _preview
from ledger.models import AccountingPeriod, BrokerAccount, ImportBatch, InboxRow, Transaction
from tests.ledger.brokers.files import APPLE, EQUINOR, nordnet_22, nordnet_30, row

pytestmark = pytest.mark.django_db
D = Decimal

ROWS = [
    # Deposit: Dr 1921 100 000,00 / Cr 1920 100 000,00.
    row(1001, "2026-01-02", "INNSKUDD", "100 000,00", "100 000,00"),
    # 100 Equinor at 250,00 + 49,00: Dr 1810 25 000,00, Dr 1810 49,00 / Cr 1921 25 049,00.
    row(1002, "2026-01-05", "KJØPT", "-25 049,00", "74 951,00", instrument=EQUINOR,
        quantity="100", price="250,00", fees="49,00", note="SN-1002"),
    # 10 Apple at 150,00 USD, rate 10,50: 1 500,00 USD = 15 750,00 NOK, + 99,00 NOK fees.
    row(1003, "2026-01-06", "KJØPT", "-15 849,00", "59 102,00", instrument=APPLE,
        quantity="10", price="150,00", fees="99,00", instrument_currency="USD",
        purchase_value="-1 500,00", fx="10,50", note="SN-1003"),
    # Sell 40 Equinor at 270,00 less 29,00: FIFO cost 40/100 × 25 049,00 = 10 019,60 (from the
    # purchase in the same file), gain 10 800,00 − 29,00 − 10 019,60 = 751,40.
    row(1004, "2026-03-10", "SALG", "10 771,00", "69 873,00", instrument=EQUINOR,
        quantity="-40", price="270,00", fees="29,00", note="SN-1004"),
    # A fee: Dr 8179 10,00 / Cr 1921 10,00.
    row(1005, "2026-03-11", "AVGIFT", "-10,00", "69 863,00"),
]  # fmt: skip
SALE_VOUCHER = [(1921, D("10771.00")), (1810, D("-10019.60")), (8077, D("-751.40"))]


@pytest.fixture
def inbox_nordnet(acme) -> BrokerAccount:
    with scope(company=acme):
        return BrokerAccount.objects.create(
            company=acme, broker="nordnet", number="12345678", cash_account=1921
        )


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def _upload(client, company, content, name="transactions-and-notes-export.csv"):
    upload = SimpleUploadedFile(name, content)
    return client.post(_url("inbox", company), {"file": upload}, follow=True)


def _batch(company) -> ImportBatch:
    with scope(company=company):
        return ImportBatch.objects.filter(company=company).latest("pk")


def _rows(company, batch) -> dict[int, InboxRow]:
    with scope(company=company):
        return {r.broker_ref.rsplit(":", 1)[-1]: r for r in InboxRow.objects.filter(batch=batch)}


def _transactions(company) -> int:
    with scope(company=company):
        return Transaction.objects.filter(company=company).count()


def test_an_upload_becomes_rows_to_check_and_nothing_is_ready(client, fiona, acme, inbox_nordnet):
    client.force_login(fiona)
    response = _upload(client, acme, nordnet_30(ROWS))
    assert response.status_code == 200
    page = response.content.decode()
    assert "5 nye, 0 allerede importert" in page
    assert _transactions(acme) == 0
    batch = _batch(acme)
    assert batch.status == "open"
    rows = _rows(acme, batch)
    assert sorted(rows) == ["1001", "1002", "1003", "1004", "1005"]
    assert all(r.problems == [] for r in rows.values())
    # The sale's cost comes from the purchase in the same file (one FIFO walk of the batch).
    assert rows["1004"].cost == D("10019.60")
    with scope(company=acme):
        sale = InboxRow.objects.select_related("broker_account").get(pk=rows["1004"].pk)
        lines = [(line.account_number, line.amount) for line in _preview(acme, sale).lines]
    assert lines == SALE_VOUCHER
    # Grouped per broker account, with the amounts in NOK, in currency, fees and the FX rate.
    assert "Nordnet 12345678" in page
    assert page.count('data-testid="inbox-row"') == 5
    assert "15\u00a0750,00" in page
    assert "1\u00a0500,00 USD" in page
    assert "10,5000" in page
    assert "10\u00a0019,60" in page  # the sale's voucher: Cr 1810 at the FIFO cost


def test_a_row_is_corrected_with_the_transaction_forms_validation(
    client, fiona, acme, inbox_nordnet
):
    bad = [*ROWS[:3], row(1004, "2026-03-10", "SALG", "10 771,00", "69 873,00",
                          instrument=EQUINOR, quantity="-400", price="27,00", fees="29,00")]  # fmt: skip
    client.force_login(fiona)
    _upload(client, acme, nordnet_30(bad))
    batch = _batch(acme)
    sale = _rows(acme, batch)["1004"]
    assert sale.problems, "a sale of 400 when 100 are held"
    # The form refuses what the transaction form refuses (a negative quantity) and changes nothing.
    form = {
        "kind": "sale", "trade_date": "10.03.2026", "instrument_name": "Equinor ASA",
        "isin": "NO0010096985", "quantity": "-40", "price": "270", "amount": "10800",
        "fees": "29", "currency": "NOK", "settle_via": "bank",
    }  # fmt: skip
    url = _url("inbox_row", acme, row_id=sale.pk)
    assert client.post(url, form).status_code == 400
    sale.refresh_from_db()
    assert sale.values["quantity"] == D("400")
    assert not sale.edited
    response = client.post(url, {**form, "quantity": "40"}, follow=True)
    assert response.status_code == 200
    sale.refresh_from_db()
    assert (sale.values["quantity"], sale.values["amount"], sale.edited) == (
        D("40"),
        D("10800"),
        True,
    )
    assert sale.problems == []
    assert sale.cost == D("10019.60")
    assert _transactions(acme) == 0
    assert batch_accept_via_page(client, acme, batch).status_code == 200
    with scope(company=acme):
        saved = Transaction.objects.get(company=acme, broker_ref="nordnet:12345678:1004")
    assert (saved.quantity, saved.amount, saved.status) == (D("40"), D("10800.00"), "ready")


def batch_accept_via_page(client, company, batch):
    return client.post(_url("inbox_accept", company, batch_id=batch.pk), follow=True)


def test_a_row_left_out_is_not_saved_and_the_rest_is(client, fiona, acme, inbox_nordnet):
    client.force_login(fiona)
    _upload(client, acme, nordnet_30(ROWS))
    batch = _batch(acme)
    fee = _rows(acme, batch)["1005"]
    client.post(_url("inbox_row_exclude", acme, row_id=fee.pk), {"excluded": "1"})
    fee.refresh_from_db()
    assert fee.excluded
    response = batch_accept_via_page(client, acme, batch)
    assert "4 transaksjon(er) lagret som klare til bokføring" in response.content.decode()
    with scope(company=acme):
        saved = Transaction.objects.filter(company=acme).order_by("trade_date", "pk")
        assert [t.broker_ref.rsplit(":", 1)[-1] for t in saved] == ["1001", "1002", "1003", "1004"]
        assert {t.status for t in saved} == {"ready"}
        assert all(t.external_voucher_number == f"DYN-{acme.pk}-{t.pk}" for t in saved)
        apple = saved.get(broker_ref="nordnet:12345678:1003")
        assert (apple.currency, apple.amount_currency, apple.fx_rate) == (
            "USD",
            D("1500.00"),
            D("10.5"),
        )
        assert (apple.broker_account, apple.source, apple.contract_note_number) == (
            inbox_nordnet,
            "broker",
            "SN-1003",
        )
        fee.refresh_from_db()
        assert fee.transaction is None
    batch.refresh_from_db()
    assert batch.status == "accepted"
    # Accepted once: a second accept saves nothing more.
    with scope(company=acme):
        assert not batch_accept(company=acme, batch=batch, by=fiona).ok
    assert _transactions(acme) == 4


def test_one_bad_row_refuses_the_whole_batch(client, fiona, acme, inbox_nordnet):
    with scope(company=acme):
        AccountingPeriod.objects.create(
            company=acme,
            tripletex_id=1,
            start=date(2026, 1, 1),
            end=date(2026, 2, 1),
            is_closed=True,
            synced_at=timezone.now(),
        )
    client.force_login(fiona)
    _upload(client, acme, nordnet_30(ROWS))
    batch = _batch(acme)
    rows = _rows(acme, batch)
    # January is closed in Tripletex: the three January rows cannot be posted.
    assert [k for k, r in sorted(rows.items()) if r.problems] == ["1001", "1002", "1003"]
    assert "er lukket i Tripletex" in rows["1002"].problems[0]
    response = batch_accept_via_page(client, acme, batch)
    page = response.content.decode()
    assert "Ingenting ble lagret: 3 rad(er) har problemer" in page
    assert _transactions(acme) == 0
    batch.refresh_from_db()
    assert batch.status == "open"
    # Left out, the rest goes in (the sale then sells what is not held: refused too).
    for key in ("1001", "1002", "1003"):
        client.post(_url("inbox_row_exclude", acme, row_id=rows[key].pk), {"excluded": "1"})
    assert _rows(acme, batch)["1004"].problems
    assert _transactions(acme) == 0
    client.post(_url("inbox_row_exclude", acme, row_id=rows["1004"].pk), {"excluded": "1"})
    batch_accept_via_page(client, acme, batch)
    assert _transactions(acme) == 1


def test_an_overlapping_file_adds_only_what_is_new(client, fiona, acme, inbox_nordnet):
    client.force_login(fiona)
    _upload(client, acme, nordnet_30(ROWS[:3]))
    first = _batch(acme)
    # While the first file waits in the inbox, its rows count as imported already.
    response = _upload(client, acme, nordnet_30(ROWS))
    assert "2 nye, 3 allerede importert" in response.content.decode()
    second = _batch(acme)
    assert sorted(_rows(acme, second)) == ["1004", "1005"]
    batch_accept_via_page(client, acme, first)
    batch_accept_via_page(client, acme, second)
    assert _transactions(acme) == 5
    # Everything is in: the same file again has nothing new ...
    response = _upload(client, acme, nordnet_30(ROWS))
    assert "0 nye, 5 allerede importert" in response.content.decode()
    # ... and the older layout (ids without the portfolio) is known by its contract-note numbers,
    # except the deposit and the fee, which have none.
    with scope(company=acme):
        upload = inbox_upload(company=acme, content=nordnet_22(ROWS), file_name="old", by=None)
    assert (upload.new, upload.already) == (2, 3)


def test_a_saldo_gap_is_a_warning_with_the_rows_around_it(client, fiona, acme, inbox_nordnet):
    rows = [
        ROWS[0],
        ROWS[1],
        # 74 951,00 − 10,00 is 74 941,00: the file says 70 000,00 (rows missing before it).
        row(1003, "2026-01-06", "AVGIFT", "-10,00", "70 000,00"),
        row(1004, "2026-01-07", "AVGIFT", "-10,00", "69 990,00"),
    ]
    client.force_login(fiona)
    page = _upload(client, acme, nordnet_30(rows)).content.decode()
    batch = _batch(acme)
    assert [gap["line"] for gap in batch.saldo_gaps] == [4]
    gap = batch.saldo_gaps[0]
    assert [r["line"] for r in gap["rows"]] == ["2", "3", "4", "5"]
    assert gap["expected"] == "74941.00"
    assert 'data-testid="saldo-gap"' in page
    assert "Saldo" in page
    assert "Saldoen på linje 4 følger ikke av raden før: forventet 74\u00a0941,00" in page
    assert "70\u00a0000,00" in page
    assert "forventet 74\u00a0941,00" in page
    assert page.count('data-testid="saldo-gap-row"') == 1
    # A warning, not an error: the rows can still be accepted.
    assert not any(r.problems for r in _rows(acme, batch).values())


def test_another_firms_batch_and_rows_are_404(client, alice, acme, bergen, inbox_nordnet):
    with scope(company=bergen):
        BrokerAccount.objects.create(
            company=bergen, broker="nordnet", number="12345678", cash_account=1921
        )
        theirs = inbox_upload(company=bergen, content=nordnet_30(ROWS), file_name="b.csv", by=None)
    assert theirs.ok
    their_row = _rows(bergen, theirs.batch)["1005"]
    client.force_login(alice)
    for name, kwargs in (
        ("inbox_batch", {"batch_id": theirs.batch.pk}),
        ("inbox_accept", {"batch_id": theirs.batch.pk}),
        ("inbox_discard", {"batch_id": theirs.batch.pk}),
        ("inbox_row", {"row_id": their_row.pk}),
        ("inbox_row_exclude", {"row_id": their_row.pk}),
    ):
        url = _url(name, acme, **kwargs)
        # The page itself answers 404 (a method it does not take may answer 405 first).
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"excluded": "1"}).status_code in (404, 405)
        assert 404 in (client.get(url).status_code, client.post(url).status_code)
    their_row.refresh_from_db()
    theirs.batch.refresh_from_db()
    assert (their_row.excluded, theirs.batch.status) == (False, "open")
    assert "b.csv" not in client.get(_url("inbox", acme)).content.decode()


def test_the_command_with_inbox_leaves_the_rows_to_check(acme, inbox_nordnet, tmp_path, capsys):
    path = tmp_path / "transactions-and-notes-export.csv"
    path.write_bytes(nordnet_30(ROWS))
    call_command("import_transactions", "923609016", str(path), "--inbox")
    out = capsys.readouterr().out
    assert "New: 5, already imported: 0" in out
    assert "Nothing was saved as ready" in out
    assert _transactions(acme) == 0
    batch = _batch(acme)
    assert len(_rows(acme, batch)) == 5
    assert batch.file_name == path.name
    # What is stored for the pages is in the site's language, not the command's English.
    assert batch.check_note.startswith("Firmaets regnskapsperioder og kontoplan er ikke lest")
    # Again: everything is waiting in the inbox already.
    call_command("import_transactions", "923609016", str(path), "--inbox")
    assert "New: 0, already imported: 5" in capsys.readouterr().out
    # Without --inbox the rows are imported as ready (the rows waiting do not stop it).
    call_command("import_transactions", "923609016", str(path))
    assert _transactions(acme) == 5


def test_the_command_refuses_a_file_for_an_unknown_account(acme, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(nordnet_30(ROWS))
    with pytest.raises(CommandError, match="Nothing put in the inbox"):
        call_command("import_transactions", "923609016", str(path), "--inbox")
    with scope(company=acme):
        assert not ImportBatch.objects.filter(company=acme).exists()


def test_accepting_a_batch_whose_row_was_imported_since_is_refused(acme, inbox_nordnet):
    with scope(company=acme):
        waiting = inbox_upload(company=acme, content=nordnet_30(ROWS), file_name="a", by=None)
        from ledger.imports.service import file_import

        assert file_import(company=acme, content=nordnet_30(ROWS[:1]), by=None).saved
        refused = batch_accept(company=acme, batch=waiting.batch, by=None)
    assert not refused.ok
    assert _transactions(acme) == 1
    assert _rows(acme, waiting.batch)["1001"].problems

"""Transaction pages: recording with the decimal comma, preview, edit rules, the role matrix for
booking (accountants cannot book), live status JSON, import, GL settings and the firm panel."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.booking import tasks as booking_tasks
from ledger.models import LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from tests.ledger.support import record, reload

pytestmark = pytest.mark.django_db


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", lambda **kw: sent.append(kw))
    return sent


def test_finance_records_a_purchase_with_decimal_comma(client, fiona, acme, local_cache):
    client.force_login(fiona)
    response = client.post(
        _url("transaction_new", acme),
        {
            "kind": "purchase",
            "trade_date": timezone.localdate().isoformat(),
            "instrument_name": "Equinor ASA",
            "isin": "no0010096985",
            "quantity": "1 000",
            "price": "250,5",
            "amount": "250 500,00",
            "fees": "99,50",
            "currency": "NOK",
            "settle_via": "bank",
        },
    )
    assert response.status_code == 302
    with scope(company=acme):
        txn = Transaction.objects.get(company=acme)
    assert (txn.quantity, txn.amount, txn.fees, txn.isin) == (
        Decimal("1000"),
        Decimal("250500.00"),
        Decimal("99.50"),
        "NO0010096985",
    )
    assert txn.status == "ready"
    assert txn.external_voucher_number == f"DYN-{acme.pk}-{txn.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="preview-line"') == 3
    assert "Bankinnskudd" in html
    assert 'data-testid="book"' in html


def test_bad_input_is_explained_and_changes_nothing(client, fiona, acme):
    client.force_login(fiona)
    response = client.post(
        _url("transaction_new", acme),
        {
            "kind": "sale",
            "trade_date": timezone.localdate().isoformat(),
            "isin": "NO0010096986",
            "quantity": "5",
            "amount": "12,345",
            "currency": "USD",
            "settle_via": "bank",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"isin", "amount", "amount_currency"} <= set(errors)
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()


def test_journal_entry_must_balance(client, fiona, acme):
    client.force_login(fiona)
    base = {
        "trade_date": timezone.localdate().isoformat(),
        "description": "Honorar",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "2",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-account_number": "6720",
        "lines-0-debit": "1 000,00",
        "lines-1-account_number": "1920",
        "lines-1-credit": "999,00",
    }
    response = client.post(_url("journal_new", acme), base)
    assert response.status_code == 200
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()
    response = client.post(_url("journal_new", acme), {**base, "lines-1-credit": "1 000,00"})
    assert response.status_code == 302
    with scope(company=acme):
        txn = Transaction.objects.get(company=acme)
        assert [(line.account_number, line.amount) for line in txn.lines.all()] == [
            (6720, Decimal("1000.00")),
            (1920, Decimal("-1000.00")),
        ]


def test_accountant_cannot_book_and_nothing_is_queued(client, anders, acme, enqueued):
    txn = record(acme)
    client.force_login(anders)
    assert client.post(_url("transaction_book", acme, pk=txn.pk)).status_code == 403
    assert client.post(_url("transactions_book_all", acme)).status_code == 403
    assert reload(txn).status == "ready"
    assert enqueued == []
    # ...but sees the transaction, without a book button.
    page = client.get(_url("transaction_detail", acme, pk=txn.pk))
    assert page.status_code == 200
    assert 'data-testid="book"' not in page.content.decode()


@pytest.mark.parametrize("user", ["fiona", "alice"])
def test_finance_and_admin_can_book(
    client, acme, enqueued, request, user, django_capture_on_commit_callbacks
):
    txn = record(acme)
    client.force_login(request.getfixturevalue(user))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("transaction_book", acme, pk=txn.pk))
    assert response.status_code == 302
    assert reload(txn).status == "queued"
    assert enqueued == [{"company_id": acme.pk, "transaction_id": txn.pk}]


def test_book_all_ready_queues_each_ready_row_once_in_one_batch(
    client, fiona, acme, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    batches = []
    monkeypatch.setattr(
        booking_tasks.transactions_book_batch_task, "delay", lambda **kw: batches.append(kw)
    )
    rows = [record(acme), record(acme)]
    client.force_login(fiona)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("transactions_book_all", acme))
        client.post(_url("transactions_book_all", acme))
    assert batches == [{"company_id": acme.pk, "transaction_ids": [t.pk for t in rows]}]
    assert enqueued == []
    assert {reload(t).status for t in rows} == {"queued"}


def test_booked_rows_cannot_be_edited_or_deleted(client, fiona, acme):
    txn = record(acme)
    with scopes_disabled():
        Transaction.objects.filter(pk=txn.pk).update(
            status="booked", voucher_number=7, voucher_year=2026, tripletex_voucher_id=5
        )
    client.force_login(fiona)
    response = client.post(_url("transaction_edit", acme, pk=txn.pk), {"kind": "purchase"})
    assert response.status_code == 302
    client.post(_url("transaction_delete", acme, pk=txn.pk))
    assert reload(txn).status == "booked"


def test_status_json_shows_voucher_and_link_and_ignores_other_companies(
    client, anders, acme, bergen, settings
):
    settings.TRIPLETEX_WEB_URL = "https://tripletex.example"
    mine, theirs = record(acme), record(bergen)
    with scopes_disabled():
        Transaction.objects.filter(pk=mine.pk).update(
            status="booked", voucher_number=12, voucher_year=2026, tripletex_voucher_id=300123
        )
    client.force_login(anders)
    data = client.get(_url("transactions_status", acme), {"ids": f"{mine.pk},{theirs.pk}"}).json()
    assert [row["id"] for row in data["rows"]] == [mine.pk]
    row = data["rows"][0]
    assert (row["status"], row["voucher"]) == ("booked", "12/2026")
    assert row["voucher_url"] == "https://tripletex.example/execute/voucher?voucherId=300123"


def test_list_and_firm_panel_show_waiting_and_failed(client, anders, acme):
    record(acme)
    failed = record(acme)
    with scopes_disabled():
        Transaction.objects.filter(pk=failed.pk).update(status="rejected", messages=["nope"])
    client.force_login(anders)
    listing = client.get(_url("transactions", acme)).content.decode()
    assert listing.count('data-testid="transaction-row"') == 2
    home = client.get(
        reverse("companies:company_home", kwargs={"company_slug": acme.slug})
    ).content.decode()
    assert 'data-testid="booking-panel"' in home
    assert 'data-testid="waiting-count">1<' in home


def test_import_page_lists_bad_lines_and_imports_nothing(client, fiona, acme):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(fiona)
    content = b"type;trade_date;amount\ndividend;2026-01-02;abc\n"
    response = client.post(
        _url("transactions_import", acme), {"file": SimpleUploadedFile("t.csv", content)}
    )
    assert response.status_code == 400
    assert 'data-line="2"' in response.content.decode()
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()


def test_gl_settings_default_to_ns4102_and_can_be_changed(client, fiona, acme, local_cache):
    # The firm's synced chart: every default, and 7770 Bank- og kortgebyrer.
    numbers = {*GL_DEFAULTS.values(), 7770}
    with scope(company=acme):
        LedgerAccount.objects.bulk_create(
            LedgerAccount(
                company=acme, tripletex_id=n, number=n, name=f"Konto {n}", synced_at=timezone.now()
            )
            for n in numbers
        )
    client.force_login(fiona)
    page = client.get(_url("gl_settings", acme))
    assert page.status_code == 200
    form = page.context["form"]
    assert (form["bank"].value(), form["securities"].value(), form["profit"].value()) == (
        1920,
        1810,
        8077,
    )
    data = {role: form[role].value() for role in form.fields}
    data["fees"] = 7770
    assert client.post(_url("gl_settings", acme), data).status_code == 302
    with scope(company=acme):
        assert acme.gl_settings.fees == 7770
    # Outside the chart's number range: refused, nothing saved.
    for bad in (5, 100000):
        response = client.post(_url("gl_settings", acme), {**data, "fees": bad})
        assert response.status_code == 200
        assert "Kontonumre går fra 1000 til 99999." in response.content.decode()
    with scope(company=acme):
        acme.gl_settings.refresh_from_db()
        assert acme.gl_settings.fees == 7770


def test_a_never_sent_row_can_be_deleted_but_not_one_that_was_posted(client, fiona, acme):
    keep, gone = record(acme), record(acme)
    with scopes_disabled():
        Transaction.objects.filter(pk=keep.pk).update(
            status="rejected", last_post_at="2026-01-01T00:00Z"
        )
    client.force_login(fiona)
    client.post(_url("transaction_delete", acme, pk=gone.pk))
    client.post(_url("transaction_delete", acme, pk=keep.pk))
    with scopes_disabled():
        assert list(Transaction.objects.values_list("pk", flat=True)) == [keep.pk]


def test_staff_admin_lists_transactions_and_attempts_read_only(client, staff, acme):
    txn = record(acme)
    client.force_login(staff)
    for name in ("transaction", "bookingattempt", "reversal", "glaccountsettings"):
        assert client.get(reverse(f"admin:ledger_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:ledger_transaction_change", args=[txn.pk])).status_code == 200
    assert client.get(reverse("admin:ledger_transaction_add")).status_code == 403

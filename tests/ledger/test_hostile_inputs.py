"""Inputs that used to reach a 500: every parser and every numeric query parameter answers with a
message instead. CI runs this file on PostgreSQL (where an over-long value was a DataError) and on
SQLite (which stored it silently); the answer is the same on both."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from ledger.models import JournalLine, Transaction
from ledger.transactions.services import TransactionInvalid, transaction_create
from tests.ledger.support import purchase_data, record

HEADER = "type;trade_date;instrument;quantity;amount;description;entry;account;debit;credit\n"
PURCHASE = "purchase;2026-01-02;Equinor ASA;10;1000;Kjøp;;;;\n"


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def _import(client, company, content: bytes):
    """POST the file to the import page: (status, [(line, message)])."""
    response = client.post(
        _url("transactions_import", company), {"file": SimpleUploadedFile("t.csv", content)}
    )
    errors = re.findall(
        r'data-line="(\d+)"><td class="num">\d+</td><td>(.*?)</td>', response.content.decode()
    )
    return response.status_code, [(int(line), message) for line, message in errors]


def _count(company) -> int:
    with scope(company=company):
        return Transaction.objects.filter(company=company).count()


@pytest.fixture
def finance(client, fiona):
    """Fiona logged in, reading pages in English (bokmål is checked on its own below)."""
    client.force_login(fiona)
    client.cookies["django_language"] = "en"
    return client


# ---- the CSV import ---------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_a_file_with_any_line_ending_imports(finance, acme, newline):
    text = (HEADER + PURCHASE + PURCHASE.replace("10;1000", "5;600")).replace("\n", newline)
    status, errors = _import(finance, acme, text.encode())
    assert (status, errors) == (302, [])
    assert _count(acme) == 2


def test_a_cr_only_file_reports_a_bad_row_at_its_own_line(finance, acme):
    text = HEADER + PURCHASE + "purchase;2026-13-40;Equinor ASA;10;1000;;;;;\n"
    status, errors = _import(finance, acme, text.replace("\n", "\r").encode())
    assert status == 400
    assert [line for line, _ in errors] == [3]


def test_a_field_over_the_csv_modules_limit_is_reported_not_a_500(finance, acme):
    text = HEADER + PURCHASE + PURCHASE.replace("Kjøp", "x" * 131_073)
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert errors == [(3, "A field is longer than 131\u00a0072 characters.")]
    assert _count(acme) == 0


def test_an_unclosed_quote_is_reported_where_its_row_starts(finance, acme):
    text = HEADER + PURCHASE + 'purchase;2026-01-02;"Equinor ASA;10;1000;;;;;\n' + PURCHASE * 3
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert [line for line, _ in errors] == [3]
    assert "quote" in errors[0][1]
    assert _count(acme) == 0


def test_a_file_with_nul_characters_is_refused_with_a_reason(finance, acme):
    # What a UTF-16 "Unicode text" export or a spreadsheet file looks like here.
    status, errors = _import(finance, acme, (HEADER + PURCHASE).encode("utf-16-le"))
    assert status == 400
    assert "NUL" in errors[0][1]
    text = HEADER + PURCHASE.replace("Kjøp", "Kj\x00øp")
    assert _import(finance, acme, text.encode())[1][0][0] == 2
    assert _count(acme) == 0


@pytest.mark.parametrize("account", ["²", "1920²", "١٩٢٠", "19 20", "-1920", "1e3"])
def test_an_account_that_is_not_ascii_digits_is_explained(finance, acme, account):
    text = HEADER + (
        f"journal;2026-01-02;;;;Honorar;E1;{account};100;\n"
        "journal;2026-01-02;;;;Honorar;E1;1920;;100\n"
    )
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert (2, "The account must be a number such as 1920.") in errors
    assert _count(acme) == 0


def test_an_account_number_of_many_digits_is_no_account(finance, acme):
    text = HEADER + (
        f"journal;2026-01-02;;;;Honorar;E1;{'9' * 5000};100;\n"
        "journal;2026-01-02;;;;Honorar;E1;1920;;100\n"
    )
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert (2, "Give an account number (e.g. 1920).") in errors


TOO_LONG = [
    ("description", 201, "Description: Ensure this value has at most 200 characters (it has 201)."),
    ("instrument", 201, "Instrument: Ensure this value has at most 200 characters (it has 201)."),
    ("to_instrument", 201, "Switched into: Ensure this value has at most 200 characters"),
]


@pytest.mark.parametrize(("column", "length", "message"), TOO_LONG)
def test_an_over_long_text_is_refused_before_the_database_sees_it(
    finance, acme, column, length, message
):
    text = f"type;trade_date;instrument;quantity;amount;{column}\n"
    value = "x" * length
    if column == "instrument":
        text += f"purchase;2026-01-02;{value};10;1000;{value}\n"
    else:
        text += f"purchase;2026-01-02;Equinor ASA;10;1000;{value}\n"
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert errors
    assert all(line == 2 for line, _ in errors)
    assert any(found.startswith(message) for _, found in errors), errors
    assert _count(acme) == 0


@pytest.mark.parametrize(
    ("column", "length", "message"),
    [
        ("description", 201, "Journal line 1: Description: Ensure this value has at most 200"),
        ("department", 41, "Journal line 1: Department: Ensure this value has at most 40"),
        ("project", 41, "Journal line 1: Project: Ensure this value has at most 40"),
        ("vat_code", 11, "Journal line 1: VAT code: Ensure this value has at most 10"),
    ],
)
def test_an_over_long_journal_line_text_is_refused(finance, acme, column, length, message):
    text = (
        f"type;trade_date;entry;account;debit;credit;{column}\n"
        f"journal;2026-01-02;E1;6720;100;;{'x' * length}\n"
        "journal;2026-01-02;E1;1920;;100;\n"
    )
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    assert any(found.startswith(message) for _, found in errors), errors
    assert _count(acme) == 0
    with scope(company=acme):
        assert not JournalLine.objects.filter(company=acme).exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("purchase;2026-01-02;Eq;10;" + "9" * 17, "Amount (NOK): Ensure that there are no more"),
        ("purchase;2026-01-02;Eq;" + "9" * 17 + ";1000", "Quantity: Ensure that there are no"),
        ("purchase;2026-01-02;Eq;1,123456789;1000", "Quantity: Ensure that there are no more"),
    ],
)
def test_a_number_too_big_for_its_column_is_refused(finance, acme, row, message):
    status, errors = _import(
        finance, acme, f"type;trade_date;instrument;quantity;amount\n{row}\n".encode()
    )
    assert status == 400
    assert any(found.startswith(message) for _, found in errors), errors
    assert _count(acme) == 0


def test_a_journal_amount_too_big_for_its_column_is_refused(finance, acme):
    big = "9" * 17
    text = (
        "type;trade_date;entry;account;debit;credit\n"
        f"journal;2026-01-02;E1;6720;{big};\n"
        f"journal;2026-01-02;E1;1920;;{big}\n"
    )
    status, errors = _import(finance, acme, text.encode())
    assert status == 400
    messages = [m for _, m in errors]
    assert any(
        m.startswith("Journal line 1: Debit: Ensure that there are no more") for m in messages
    )
    assert any(
        m.startswith("Journal line 2: Credit: Ensure that there are no more") for m in messages
    )


def test_the_messages_are_in_bokmal_on_the_page(client, fiona, acme):
    client.force_login(fiona)  # a page's default language is bokmål
    header = "type;trade_date;instrument;quantity;amount;description\n"
    huge = f"{header}purchase;2026-01-02;Eq;10;1000;{'y' * 131_073}\n"
    assert _import(client, acme, huge.encode()) == (
        400,
        [(2, "Et felt er lengre enn 131\u00a0072 tegn.")],
    )
    long = f"{header}purchase;2026-01-02;Eq;10;1000;{'x' * 201}\n"
    _status, errors = _import(client, acme, long.encode())
    assert errors[0][1].startswith(
        "Beskrivelse: Sørg for at denne verdien har 200 eller færre tegn"
    )
    account = "type;trade_date;entry;account;debit;credit\njournal;2026-01-02;E1;²;100;\n"
    _status, errors = _import(client, acme, account.encode())
    assert (2, "Kontoen må være et tall, for eksempel 1920.") in errors


# ---- the forms and the service -----------------------------------------------------------------


def test_the_purchase_form_refuses_an_amount_too_big_for_its_column(finance, acme):
    response = finance.post(
        _url("transaction_new", acme),
        {
            "kind": "purchase",
            "trade_date": timezone.localdate().isoformat(),
            "instrument_name": "Equinor ASA",
            "quantity": "1",
            "amount": "9" * 25,
            "fees": "0",
            "currency": "NOK",
            "settle_via": "bank",
        },
    )
    assert response.status_code == 200
    assert any("Amount (NOK)" in e for e in response.context["form"].non_field_errors())
    assert _count(acme) == 0


def test_the_journal_form_refuses_a_debit_too_big_for_its_column(finance, acme):
    big = "9" * 20
    response = finance.post(
        _url("journal_new", acme),
        {
            "trade_date": timezone.localdate().isoformat(),
            "description": "Honorar",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "2",
            "lines-MAX_NUM_FORMS": "100",
            "lines-0-account_number": "6720",
            "lines-0-debit": big,
            "lines-1-account_number": "1920",
            "lines-1-credit": big,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert _count(acme) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "x" * 201),
        ("instrument_name", "x" * 201),
        ("amount", Decimal("1" + "0" * 16)),
        ("quantity", Decimal("0.000000001")),
        ("description", "a\x00b"),
    ],
)
def test_the_service_refuses_what_the_column_cannot_hold(acme, field, value):
    with scope(company=acme), pytest.raises(TransactionInvalid) as refused:
        transaction_create(company=acme, data=purchase_data(**{field: value}), by=None)
    assert refused.value.messages
    assert _count(acme) == 0


def test_the_service_still_saves_what_fits_exactly(acme):
    txn = record(acme, description="x" * 200, amount=Decimal("9" * 16 + ".99"))
    assert len(txn.description) == 200


# ---- numeric query parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    "ids",
    ["99999999999999999999", "9223372036854775808", "²", "1" * 5000, "x", "1,-1", "0", "1.5"],
)
def test_the_status_endpoint_answers_400_with_a_message(finance, acme, ids):
    response = finance.get(_url("transactions_status", acme), {"ids": ids})
    assert response.status_code == 400
    assert "ids" in response.json()["error"]


def test_the_status_endpoint_limits_how_many_ids_it_takes(finance, acme):
    many = ",".join(str(i) for i in range(1, 502))
    response = finance.get(_url("transactions_status", acme), {"ids": many})
    assert response.status_code == 400
    assert response.json()["error"] == "Ask for at most 500 ids at a time."


def test_the_status_endpoint_takes_real_ids_and_an_empty_item(finance, acme):
    txn = record(acme)
    response = finance.get(
        _url("transactions_status", acme), {"ids": f"{txn.pk},,9223372036854775807,"}
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["rows"]] == [txn.pk]


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ({"ar": "99999999"}, "ar"),
        ({"ar": "²"}, "ar"),
        ({"ar": "1" * 5000}, "ar"),
        ({"mnd": "13"}, "mnd"),
        ({"mnd": "-1"}, "mnd"),
    ],
)
@pytest.mark.parametrize("page", ["pnl", "balance"])
def test_a_figures_page_says_what_was_wrong_with_its_period(finance, acme, query, word, page):
    response = finance.get(_url(page, acme), query)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith(f"{word} must be a whole number from") for m in shown), shown


@pytest.mark.parametrize("export", ["pnl_xlsx", "pnl_csv", "balance_xlsx", "balance_csv"])
def test_an_export_with_a_bad_period_answers_400_with_the_reason(finance, acme, export):
    response = finance.get(_url(export, acme), {"ar": "99999999999999999999"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("ar must be a whole number from 1900 to 2100")


def test_the_postings_page_says_what_was_wrong_with_its_page_number(finance, acme):
    url = _url("postings", acme, account=1920, year=2025, month=1)
    response = finance.get(url, {"side": "1" * 5000})
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("side must be a whole number from 1 to") for m in shown), shown

"""Every check before Tripletex, at the moment of entry (ledger/transactions/checks.py): the date in
an open accounting period and not absurd, every account in the chart and active, every value fitting
its column — on the forms, the CSV import, an edit, "book" and "book all ready", against the firm's
synced periods and chart, refreshed from Tripletex when a day old or when asked. And a row stored
before these checks (a 30-digit amount SQLite kept, a date whose period closed since) still renders,
marked as needing correction, and can be edited or deleted.

The suite runs on PostgreSQL and on SQLite (`make test-sqlite`); the 30-digit inputs are checked on
whichever it runs on, the same answer on both."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.models import AccountingPeriod, JournalLine, LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from ledger.transactions import checks
from ledger.transactions.checks import NOTE_MAX_LENGTH
from ledger.transactions.forms import JournalForm, JournalLineForm, SecuritiesForm
from ledger.transactions.services import TransactionInvalid, transaction_create
from tests.ledger.support import purchase_data, record, reload
from tests.mfa import MfaClient
from tripletex.errors import TripletexUnavailable

Status = Transaction.Status
D = Decimal
THIRTY = "9" * 30

# The firm's Tripletex as synced: the months of 2026, January to June closed.
CLOSED_DAY = date(2026, 3, 16)
OPEN_DAY = date(2026, 8, 14)
YEAR_PERIODS = [
    (date(2026, m, 1), date(2026 + m // 12, m % 12 + 1, 1), m <= 6) for m in range(1, 13)
]
CHART = {
    **{number: f"Konto {number}" for number in GL_DEFAULTS.values()},
    6720: "Honorar for økonomisk rådgivning",
    6800: "Kontorrekvisita",
}


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def _sync(company, *, periods=YEAR_PERIODS, chart=CHART, inactive=(), age=timedelta(hours=1)):
    """Store the firm's periods and chart as a sync `age` ago would have."""
    at = timezone.now() - age
    with scope(company=company):
        for i, (start, end, closed) in enumerate(periods):
            AccountingPeriod.objects.update_or_create(
                company=company,
                start=start,
                defaults={
                    "tripletex_id": 20_000 + i,
                    "end": end,
                    "is_closed": closed,
                    "synced_at": at,
                },
            )
        for number, name in chart.items():
            LedgerAccount.objects.update_or_create(
                company=company,
                tripletex_id=100_000 + number,
                defaults={
                    "number": number,
                    "name": name,
                    "is_active": number not in inactive,
                    "synced_at": at,
                },
            )


def _count(company) -> int:
    with scopes_disabled():
        return Transaction.objects.filter(company=company).count()


@pytest.fixture
def fin(client, fiona):
    """Fiona (finance) logged in, pages in English."""
    client.force_login(fiona)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def today_2026(monkeypatch):
    """Today is 1 September 2026 for the date bounds (a year ahead, the current fiscal year)."""
    monkeypatch.setattr(checks, "today_local", lambda: date(2026, 9, 1))


def _purchase_post(day: date, **extra) -> dict:
    data = {
        "kind": "purchase",
        "trade_date": day.isoformat(),
        "instrument_name": "Equinor ASA",
        "isin": "NO0010096985",
        "quantity": "100",
        "amount": "25000",
        "fees": "0",
        "currency": "NOK",
        "settle_via": "bank",
    }
    data.update(extra)
    return data


def _journal_post(day: date, debit_account="6720", credit_account="1920", amount="1000") -> dict:
    return {
        "trade_date": day.isoformat(),
        "description": "Honorar",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "2",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-account_number": debit_account,
        "lines-0-debit": amount,
        "lines-1-account_number": credit_account,
        "lines-1-credit": amount,
    }


def _form_errors(response) -> list[str]:
    return [str(e) for e in response.context["form"].non_field_errors()]


# ---- the forms ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_refuses_a_date_in_a_closed_period_and_saves_it_in_an_open_one(
    fin, acme, today_2026
):
    _sync(acme)
    refused = fin.post(_url("transaction_new", acme), _purchase_post(CLOSED_DAY))
    assert refused.status_code == 200
    errors = _form_errors(refused)
    assert any(
        "The accounting period of 16.03.2026 (01.03.2026–31.03.2026) is closed" in e for e in errors
    )
    assert _count(acme) == 0
    # The refusal offers to read the periods again without losing what was typed.
    assert 'name="refresh_reference"' in refused.content.decode()
    saved = fin.post(_url("transaction_new", acme), _purchase_post(OPEN_DAY))
    assert saved.status_code == 302
    with scopes_disabled():
        assert Transaction.objects.get(company=acme).status == Status.READY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(1999, 12, 31), "The trade date 31.12.1999 is before the year 2000; check the year."),
        (date(2027, 9, 2), "The trade date 02.09.2027 is more than a year ahead; check the year."),
        (
            date(2025, 12, 31),
            "Tripletex has no accounting period for 31.12.2025: the firm's first period starts "
            "01.01.2026, and no voucher can be dated before it.",
        ),
    ],
)
def test_the_form_refuses_an_absurd_date_or_one_before_the_first_period(
    fin, acme, today_2026, day, message
):
    _sync(acme)
    data = _purchase_post(day)
    # The form's own far-date rule wants such a date confirmed first (ledger/transactions/dates.py).
    data["confirm_trade_date"] = day.isoformat()
    response = fin.post(_url("transaction_new", acme), data)
    assert response.status_code == 200
    assert message in _form_errors(response)
    assert _count(acme) == 0


@pytest.mark.django_db
def test_a_year_ahead_is_the_last_day_accepted(acme, today_2026):
    _sync(acme, periods=[])
    txn = record(acme, trade_date=date(2027, 9, 1))
    assert txn.status == Status.READY


@pytest.mark.django_db
def test_a_date_after_the_last_period_tripletex_has_is_let_through(acme, today_2026):
    # Tripletex opens a year's periods itself; the booking's own answer decides (checks.py).
    _sync(acme)
    assert record(acme, trade_date=date(2027, 2, 1)).status == Status.READY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("account", "inactive", "message"),
    [
        ("9999", (), "Journal line 1: Account 9999 does not exist in Tripletex."),
        ("6800", (6800,), "Journal line 1: Account 6800 is inactive in Tripletex."),
    ],
)
def test_the_journal_form_refuses_an_account_missing_from_the_chart_or_inactive(
    fin, acme, today_2026, account, inactive, message
):
    _sync(acme, inactive=inactive)
    response = fin.post(_url("journal_new", acme), _journal_post(OPEN_DAY, debit_account=account))
    assert response.status_code == 200
    assert message in _form_errors(response)
    assert _count(acme) == 0
    with scopes_disabled():
        assert not JournalLine.objects.exists()


@pytest.mark.django_db
def test_the_journal_form_refuses_a_closed_period(fin, acme, today_2026):
    _sync(acme)
    response = fin.post(_url("journal_new", acme), _journal_post(CLOSED_DAY))
    assert any("is closed in Tripletex" in e for e in _form_errors(response))
    assert _count(acme) == 0


@pytest.mark.django_db
def test_a_securities_type_whose_gl_account_is_missing_is_refused_at_entry(fin, acme, today_2026):
    chart = {n: name for n, name in CHART.items() if n != GL_DEFAULTS["dividend"]}
    _sync(acme, chart=chart)
    data = _purchase_post(OPEN_DAY, kind="dividend", quantity="", amount="1200")
    response = fin.post(_url("transaction_new", acme), data)
    errors = _form_errors(response)
    assert any(
        "«Dividend»" in e and f"Account {GL_DEFAULTS['dividend']} does not exist in Tripletex." in e
        for e in errors
    ), errors
    assert _count(acme) == 0
    # A purchase posts to other roles: it is fine.
    assert fin.post(_url("transaction_new", acme), _purchase_post(OPEN_DAY)).status_code == 302


@pytest.mark.django_db
def test_an_edit_to_a_closed_period_is_refused_and_nothing_changes(fin, acme, today_2026):
    _sync(acme)
    txn = record(acme, trade_date=OPEN_DAY)
    response = fin.post(_url("transaction_edit", acme, pk=txn.pk), _purchase_post(CLOSED_DAY))
    assert response.status_code == 200
    assert any("is closed in Tripletex" in e for e in _form_errors(response))
    assert reload(txn).trade_date == OPEN_DAY


@pytest.mark.django_db
def test_without_any_synced_data_the_transaction_is_saved_with_a_warning(fin, acme, today_2026):
    response = fin.post(_url("transaction_new", acme), _purchase_post(CLOSED_DAY), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "have not been read from Tripletex yet" in page
    with scopes_disabled():
        assert Transaction.objects.get(company=acme).status == Status.READY


# ---- 30 digits, on SQLite and PostgreSQL alike ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["amount", "quantity"])
def test_the_form_refuses_thirty_digits_without_a_500(fin, acme, field):
    response = fin.post(
        _url("transaction_new", acme), _purchase_post(timezone.localdate(), **{field: THIRTY})
    )
    assert response.status_code == 200
    label = {"amount": "Amount (NOK)", "quantity": "Quantity"}[field]
    assert any(
        e.startswith(f"{label}: Ensure that there are no more than") for e in _form_errors(response)
    )
    assert _count(acme) == 0


def _import(client, company, text: str):
    response = client.post(
        _url("transactions_import", company), {"file": SimpleUploadedFile("t.csv", text.encode())}
    )
    errors = re.findall(
        r'data-line="(\d+)"><td class="num">\d+</td><td>(.*?)</td>', response.content.decode()
    )
    return response.status_code, [(int(line), message) for line, message in errors]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "label"),
    [
        (f"purchase;{timezone.localdate():%d.%m.%Y};Equinor ASA;10;{THIRTY}", "Amount (NOK)"),
        (f"purchase;{timezone.localdate():%d.%m.%Y};Equinor ASA;{THIRTY};1000", "Quantity"),
    ],
)
def test_the_csv_import_refuses_thirty_digits_without_a_500(fin, acme, row, label):
    status, errors = _import(fin, acme, f"type;trade_date;instrument;quantity;amount\n{row}\n")
    assert status == 400
    assert any(
        line == 2 and m.startswith(f"{label}: Ensure that there are no more") for line, m in errors
    )
    assert _count(acme) == 0


# ---- the CSV import ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_csv_import_names_each_row_a_check_refuses_and_imports_nothing(fin, acme, today_2026):
    _sync(acme)
    text = (
        "type;trade_date;instrument;quantity;amount;entry;account;debit;credit\n"
        "purchase;14.08.2026;Equinor ASA;10;1000;;;;\n"
        "purchase;16.03.2026;Equinor ASA;10;1000;;;;\n"
        "journal;14.08.2026;;;;E1;9999;500;\n"
        "journal;14.08.2026;;;;E1;1920;;500\n"
        "purchase;14.08.2030;Equinor ASA;10;1000;;;;\n"
    )
    status, errors = _import(fin, acme, text)
    assert status == 400
    lines = {line for line, _ in errors}
    assert lines == {3, 4, 6}, errors
    assert any(line == 3 and "is closed in Tripletex" in m for line, m in errors)
    assert (4, "Journal line 1: Account 9999 does not exist in Tripletex.") in errors
    assert any(line == 6 and "more than a year ahead" in m for line, m in errors)
    assert _count(acme) == 0


@pytest.mark.django_db
def test_the_csv_import_reads_the_reference_once_for_the_whole_file(acme, today_2026, monkeypatch):
    from ledger.transactions.csv_import import transactions_import

    _sync(acme)
    loads = []
    real = checks._stored
    monkeypatch.setattr(checks, "_stored", lambda company: loads.append(1) or real(company))
    rows = "".join(f"purchase;1{i}.08.2026;Equinor ASA;10;1000\n" for i in range(5))
    with scope(company=acme):
        result = transactions_import(
            company=acme,
            content=("type;trade_date;instrument;quantity;amount\n" + rows).encode(),
            by=None,
        )
    assert result.ok, result.errors
    assert len(result.created) == 5
    assert len(loads) == 1


# ---- text lengths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("form_class", [SecuritiesForm, JournalForm, JournalLineForm])
def test_every_text_field_of_the_forms_has_the_length_of_its_column(form_class):
    model = JournalLine if form_class is JournalLineForm else Transaction
    for name, form_field in form_class.base_fields.items():
        if not hasattr(form_field, "max_length") or name.startswith("confirm_"):
            continue
        model_field = model._meta.get_field(name)
        expected = NOTE_MAX_LENGTH if name == "note" else model_field.max_length
        assert form_field.max_length == expected, name


@pytest.mark.django_db
def test_a_note_longer_than_its_limit_is_refused_by_the_service(acme):
    with scope(company=acme), pytest.raises(TransactionInvalid) as refused:
        transaction_create(company=acme, data=purchase_data(note="x" * 2_000_000), by=None)
    assert any(
        m.startswith("Note: Ensure this value has at most 5000 characters")
        for m in refused.value.messages
    )
    assert _count(acme) == 0
    assert record(acme, note="x" * NOTE_MAX_LENGTH).note == "x" * NOTE_MAX_LENGTH


# ---- book and book all ready ------------------------------------------------------------------------


@pytest.mark.django_db
def test_book_all_ready_books_what_it_can_and_lists_why_the_others_were_held_back(
    fin, acme, today_2026, local_cache
):
    _sync(acme)
    fine = record(acme, trade_date=OPEN_DAY)
    late = record(acme, trade_date=date(2026, 7, 10))
    journal = None
    with scope(company=acme):
        journal = transaction_create(
            company=acme,
            data={"kind": "journal", "trade_date": OPEN_DAY, "description": "Kontor"},
            lines=[
                {"account_number": 6800, "debit": D("300")},
                {"account_number": 1920, "credit": D("300")},
            ],
            by=None,
        )
    # Since they were saved: July was closed, and 6800 made inactive.
    _sync(
        acme,
        periods=[(s, e, closed or s.month == 7) for s, e, closed in YEAR_PERIODS],
        inactive=(6800,),
    )
    response = fin.post(_url("transactions_book_all", acme))
    assert response.status_code == 302
    assert response["Location"].startswith(_url("transactions_held", acme))
    assert reload(fine).status == Status.QUEUED
    assert reload(late).status == Status.REJECTED
    assert reload(journal).status == Status.REJECTED
    page = fin.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    rows = re.findall(r'data-testid="held-row" data-id="(\d+)"', html)
    assert rows == [str(late.pk), str(journal.pk)]
    assert "The accounting period of 10.07.2026 (01.07.2026–31.07.2026) is closed" in html
    assert "Journal line 1: Account 6800 is inactive in Tripletex." in html
    assert _url("transaction_edit", acme, pk=late.pk) in html
    assert _url("transaction_edit", acme, pk=journal.pk) in html
    assert str(fine.pk) not in rows


@pytest.mark.django_db
def test_book_holds_back_a_row_whose_period_closed_since_it_was_saved(
    fin, acme, today_2026, local_cache
):
    _sync(acme)
    txn = record(acme, trade_date=date(2026, 7, 10))
    _sync(acme, periods=[(s, e, closed or s.month == 7) for s, e, closed in YEAR_PERIODS])
    response = fin.post(_url("transaction_book", acme, pk=txn.pk))
    assert response.status_code == 302
    held = reload(txn)
    assert held.status == Status.REJECTED
    assert "is closed in Tripletex" in held.messages[0]


@pytest.mark.django_db
def test_the_held_back_page_takes_only_a_list_of_ids(fin, acme):
    assert fin.get(_url("transactions_held", acme) + "?ids=x").status_code == 400
    assert fin.get(_url("transactions_held", acme) + "?ids=").status_code == 200


# ---- rows stored before the checks ----------------------------------------------------------------


def _break_amount(txn: Transaction) -> None:
    """Store 30 digits as an older version let SQLite do (PostgreSQL never kept such a row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_transaction SET amount = %s, quantity = %s WHERE id = %s",
            [THIRTY, THIRTY, txn.pk],
        )


@pytest.mark.django_db
def test_a_thirty_digit_row_from_before_the_fix_renders_and_can_be_corrected_or_deleted(
    fin, acme, staff
):
    broken = record(acme)
    if connection.vendor != "sqlite":
        # PostgreSQL's numeric(…) column never kept such a row: the database itself refuses it,
        # so there is no broken row to render there.
        with pytest.raises(DataError), transaction.atomic():
            _break_amount(broken)
        assert reload(broken).amount == broken.amount
        return
    other = record(acme, instrument_name="DNB Bank ASA", isin="NO0010161896")
    _break_amount(broken)
    _break_amount(other)
    listing = fin.get(_url("transactions", acme))
    assert listing.status_code == 200
    assert listing.content.decode().count('data-testid="needs-correction"') == 2
    detail = fin.get(_url("transaction_detail", acme, pk=broken.pk))
    assert detail.status_code == 200
    assert "Needs correction" in detail.content.decode()
    assert "Amount (NOK): Ensure that there are no more than" in detail.content.decode()
    assert fin.get(_url("transaction_edit", acme, pk=broken.pk)).status_code == 200
    fixed = fin.post(
        _url("transaction_edit", acme, pk=broken.pk), _purchase_post(timezone.localdate())
    )
    assert fixed.status_code == 302
    assert reload(broken).amount == D("25000.00")
    assert fin.post(_url("transaction_delete", acme, pk=other.pk)).status_code == 302
    assert _count(acme) == 1
    # The staff admin: the list and the change page render the row too.
    _break_amount(broken)
    client = MfaClient()  # `fin` is the test's client: staff get their own
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    admin_list = client.get(reverse("admin:ledger_transaction_changelist"))
    assert admin_list.status_code == 200
    admin_page = client.get(reverse("admin:ledger_transaction_change", args=[broken.pk]))
    assert admin_page.status_code == 200
    assert "Ensure that there are no more than" in admin_page.content.decode()


@pytest.mark.django_db
def test_a_row_whose_period_closed_since_renders_marked_and_can_be_corrected(
    fin, acme, staff, today_2026
):
    _sync(acme)
    txn = record(acme, trade_date=date(2026, 7, 10))
    _sync(acme, periods=[(s, e, closed or s.month == 7) for s, e, closed in YEAR_PERIODS])
    listing = fin.get(_url("transactions", acme)).content.decode()
    assert 'data-testid="needs-correction"' in listing
    detail = fin.get(_url("transaction_detail", acme, pk=txn.pk)).content.decode()
    assert "is closed in Tripletex" in detail
    assert _url("transactions_refresh", acme) in detail
    client = MfaClient()  # `fin` is the test's client: staff get their own
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    admin_page = client.get(reverse("admin:ledger_transaction_change", args=[txn.pk]))
    assert "is closed in Tripletex" in admin_page.content.decode()
    assert (
        fin.post(_url("transaction_edit", acme, pk=txn.pk), _purchase_post(OPEN_DAY)).status_code
        == 302
    )
    assert (
        'data-testid="needs-correction"' not in fin.get(_url("transactions", acme)).content.decode()
    )


@pytest.mark.django_db
def test_a_booked_row_in_a_now_closed_period_is_not_marked(fin, acme, today_2026):
    _sync(acme)
    txn = record(acme, trade_date=date(2026, 7, 10))
    with scopes_disabled():
        Transaction.objects.filter(pk=txn.pk).update(status=Status.BOOKED, voucher_number=1)
    _sync(acme, periods=[(s, e, closed or s.month == 7) for s, e, closed in YEAR_PERIODS])
    assert (
        'data-testid="needs-correction"' not in fin.get(_url("transactions", acme)).content.decode()
    )


# ---- refreshed from Tripletex when a day old, or when asked ------------------------------------


@pytest.fixture
def pulls(monkeypatch):
    """The sync's pulls the checks make, counted (they still run against the sandbox)."""
    seen: list[str] = []
    for name in ("accounts_pull", "periods_pull"):
        real = getattr(checks, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            seen.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(checks, name, counted)
    return seen


def _sandbox_closed_month() -> date:
    """A day the sandbox has in a closed period: it closes every month before the previous one."""
    first = timezone.localdate().replace(day=1)
    return (first - timedelta(days=45)).replace(day=15)


@pytest.mark.django_db
def test_data_a_day_old_is_refreshed_from_tripletex_at_the_check(
    fin, sandbox_acme, pulls, local_cache
):
    day = _sandbox_closed_month()
    month = day.replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    # Stored two days ago, when that month was still open.
    _sync(sandbox_acme, periods=[(month, nxt, False)], age=timedelta(days=2))
    response = fin.post(_url("transaction_new", sandbox_acme), _purchase_post(day))
    assert response.status_code == 200
    assert any("is closed in Tripletex" in e for e in _form_errors(response))
    assert sorted(pulls) == ["accounts_pull", "periods_pull"]
    with scopes_disabled():
        stored = AccountingPeriod.objects.get(company=sandbox_acme, start=month)
        assert stored.is_closed
        assert stored.synced_at > timezone.now() - timedelta(minutes=5)
        # The sandbox's real chart replaced ours.
        assert LedgerAccount.objects.filter(
            company=sandbox_acme, number=1920, is_active=True
        ).exists()
    assert _count(sandbox_acme) == 0


@pytest.mark.django_db
def test_data_read_within_the_day_is_used_without_asking_tripletex(fin, sandbox_acme, pulls):
    day = _sandbox_closed_month()
    month = day.replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    _sync(sandbox_acme, periods=[(month, nxt, False)], age=timedelta(hours=2))
    response = fin.post(_url("transaction_new", sandbox_acme), _purchase_post(day))
    # What was read two hours ago says open: saved, and Tripletex was not asked.
    assert response.status_code == 302, _form_errors(response)
    assert pulls == []


@pytest.mark.django_db
def test_the_refresh_button_reads_tripletex_again_and_keeps_what_was_typed(
    fin, sandbox_acme, pulls, local_cache
):
    day = _sandbox_closed_month()
    month = day.replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    # Stored an hour ago as closed; reopened in Tripletex since? Here the sandbox agrees it is
    # closed, so the refresh reads it and the form still refuses, with the data typed kept.
    _sync(sandbox_acme, periods=[(month, nxt, True)], age=timedelta(hours=1))
    first = fin.post(_url("transaction_new", sandbox_acme), _purchase_post(day))
    assert pulls == []
    assert any("is closed in Tripletex" in e for e in _form_errors(first))
    again = fin.post(
        _url("transaction_new", sandbox_acme), {**_purchase_post(day), "refresh_reference": "1"}
    )
    assert sorted(pulls) == ["accounts_pull", "periods_pull"]
    assert any("is closed in Tripletex" in e for e in _form_errors(again))
    assert again.context["form"]["instrument_name"].value() == "Equinor ASA"
    # Moved to an open day, the same button saves.
    saved = fin.post(
        _url("transaction_new", sandbox_acme),
        {**_purchase_post(timezone.localdate()), "refresh_reference": "1"},
    )
    assert saved.status_code == 302


@pytest.mark.django_db
def test_the_refresh_page_reads_tripletex_and_goes_back(fin, sandbox_acme, pulls, local_cache):
    back = _url("transactions", sandbox_acme) + "?status=failed"
    response = fin.post(_url("transactions_refresh", sandbox_acme), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert sorted(pulls) == ["accounts_pull", "periods_pull"]
    assert fin.post(_url("transactions_refresh", sandbox_acme), {"next": "https://evil.example/"})[
        "Location"
    ] == _url("transactions", sandbox_acme)


@pytest.mark.django_db
def test_a_fiscal_year_with_no_stored_period_is_asked_about_once_a_day(
    sandbox_acme, pulls, local_cache
):
    # The sandbox has periods for the previous and the current fiscal year only.
    long_ago = date(timezone.localdate().year - 5, 6, 1)
    with scope(company=sandbox_acme):
        first = checks.reference_load(company=sandbox_acme, days=[long_ago])
        assert pulls == ["accounts_pull", "periods_pull"]
        assert "no accounting period" in checks.period_problem(long_ago, first)
        checks.reference_load(company=sandbox_acme, days=[long_ago])
    assert pulls == ["accounts_pull", "periods_pull"]


@pytest.mark.django_db
def test_when_tripletex_cannot_be_read_the_stored_rows_are_used_and_the_page_says_so(
    fin, sandbox_acme, monkeypatch, today_2026
):
    def down(*args, **kwargs):
        raise TripletexUnavailable("Tripletex did not answer")

    monkeypatch.setattr(checks, "accounts_pull", down)
    acme = sandbox_acme
    _sync(acme, age=timedelta(days=3))
    response = fin.post(_url("transaction_new", acme), _purchase_post(CLOSED_DAY))
    assert response.status_code == 200
    assert any("is closed in Tripletex" in e for e in _form_errors(response))
    assert "could not be read just now" in response.content.decode()


@pytest.mark.django_db
def test_the_checks_refuse_exactly_the_dates_the_sandbox_refuses_to_post(
    sandbox_acme, tripletex_sandbox, local_cache
):
    """Our rule (checks.period_problem) against the sandbox's own (store.is_closed, which refuses
    the POST): the same verdict before the first period, in closed and open months, and after the
    last period."""
    from tests.ledger.support import HOLDING_ID

    today = timezone.localdate()
    first = date(today.year - 1, 1, 1)
    days = [
        first - timedelta(days=1),
        first,
        (today.replace(day=1) - timedelta(days=40)),
        (today.replace(day=1) - timedelta(days=1)),
        today,
        date(today.year + 1, 1, 15),
    ]
    with scope(company=sandbox_acme):
        ref = checks.reference_load(company=sandbox_acme, days=days)
    assert ref.refreshed
    assert ref.periods
    for day in days:
        refused = bool(checks.period_problem(day, ref))
        assert refused == tripletex_sandbox.store.is_closed(HOLDING_ID, day), day

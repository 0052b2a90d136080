"""DNB workbooks, our own CSV through the same detection, the command and the pages.

DNB account 1234.56.78901 keeps its cash on 1922. Defaults as in test_nordnet_import.py.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scope

from ledger.imports.registry import format_detect
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, Transaction
from ledger.transactions.services import transaction_create
from ledger.transactions.vouchers import voucher_preview
from tests.ledger.brokers.files import ROWS_FOR_PAGE, dnb_workbook, nordnet_30

pytestmark = pytest.mark.django_db
D = Decimal
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "transactions-example.csv"

DNB_ROWS = [
    # Buy 20 EQNR at 250,00 NOK + 29,00: Dr 1810 5 000,00, Dr 1810 29,00 / Cr 1922 5 029,00.
    ["EQNR", "Equinor ASA", date(2026, 2, 2), "Kjøpt", 20, 250, 5000, "XOSL", "NOK", 1,
     "T-1", date(2026, 2, 4), 5000, 29],
    # Buy 5 AAPL at 150,00 USD, rate 10,50: 750,00 USD = 7 875,00 NOK, + 99,00 NOK.
    # Dr 1810 7 875,00, Dr 1810 99,00 / Cr 1922 7 974,00.
    ["AAPL", "Apple Inc", date(2026, 2, 3), "KJØP", 5, 150, 750, "XNAS", "USD", 10.5,
     "T-2", date(2026, 2, 5), 7875, 99],
    # Sell 10 EQNR at 270,00 less 29,00: cost 10/20 × 5 029,00 = 2 514,50; gain
    # 2 700,00 − 29,00 − 2 514,50 = 156,50. Dr 1922 2 671,00 / Cr 1810 2 514,50, Cr 8077 156,50.
    ["EQNR", "Equinor ASA", "2026-03-02", "SOLGT", 10, 270, 2700, "XOSL", "NOK", 1,
     "T-3", "2026-03-04", 2700, 29],
    # A direction we do not know: listed, not imported.
    ["EQNR", "Equinor ASA", date(2026, 3, 3), "SPLITT", 10, 0, 0, "XOSL", "NOK", 1,
     "T-4", None, 0, 0],
]  # fmt: skip


@pytest.fixture
def dnb_account(acme) -> BrokerAccount:
    with scope(company=acme):
        return BrokerAccount.objects.create(
            company=acme, broker="dnb", number="1234.56.78901", cash_account=1922
        )


def _lines(company, ref: str) -> list[tuple[int, Decimal]]:
    with scope(company=company):
        txn = Transaction.objects.select_related("broker_account").get(
            company=company, broker_ref=ref
        )
        return [
            (x.account_number, x.amount) for x in voucher_preview(company=company, txn=txn).lines
        ]


def test_a_dnb_workbook_becomes_hand_written_vouchers(acme, dnb_account):
    content = dnb_workbook(DNB_ROWS)
    assert getattr(format_detect(content), "key", None) == "dnb"
    with scope(company=acme):
        result = file_import(company=acme, content=content, by=None)
    assert result.ok, result.errors
    assert (result.new, result.unknown_types) == (3, {"SPLITT": 1})
    assert _lines(acme, "dnb:T-1") == [
        (1810, D("5000.00")),
        (1810, D("29.00")),
        (1922, D("-5029.00")),
    ]
    assert _lines(acme, "dnb:T-2") == [
        (1810, D("7875.00")),
        (1810, D("99.00")),
        (1922, D("-7974.00")),
    ]
    assert _lines(acme, "dnb:T-3") == [
        (1922, D("2671.00")),
        (1810, D("-2514.50")),
        (8077, D("-156.50")),
    ]
    with scope(company=acme):
        apple = Transaction.objects.get(company=acme, broker_ref="dnb:T-2")
    assert (apple.currency, apple.amount_currency, apple.fx_rate) == ("USD", D("750.00"), D("10.5"))
    assert apple.settlement_date == date(2026, 2, 5)
    # No ISIN in the file: imported by name, said once per instrument.
    assert sum("no ISIN" in text for _line, text in result.warnings) == 2


def test_dnb_takes_the_isin_the_firm_already_knows_for_the_instrument(acme, dnb_account):
    with scope(company=acme):
        transaction_create(
            company=acme,
            data={"kind": "dividend", "trade_date": date(2025, 6, 1), "instrument_name": "Equinor ASA",
                  "isin": "NO0010096985", "amount": D("10.00")},
            by=None,
        )  # fmt: skip
        result = file_import(company=acme, content=dnb_workbook(DNB_ROWS[:1]), by=None)
        assert result.ok, result.errors
        assert Transaction.objects.get(company=acme, broker_ref="dnb:T-1").isin == "NO0010096985"
    assert not [t for _line, t in result.warnings if "Equinor" in t]


def test_a_dnb_file_needs_a_broker_account(acme):
    with scope(company=acme):
        result = file_import(company=acme, content=dnb_workbook(DNB_ROWS), by=None)
    assert not result.ok
    assert "Broker accounts" in result.errors[0][1]


def test_our_own_csv_layout_still_imports_through_the_same_detection(acme):
    content = EXAMPLE.read_bytes()
    assert getattr(format_detect(content), "key", None) == "csv"
    with scope(company=acme):
        result = file_import(company=acme, content=content, by=None)
    assert result.ok, result.errors
    assert result.new == 6
    assert result.saved


def test_an_unknown_file_is_refused(acme):
    with scope(company=acme):
        result = file_import(company=acme, content=b"foo;bar\n1;2\n", by=None)
    assert not result.ok
    assert not result.format_label


def test_the_command_says_what_it_found_and_imports(acme, dnb_account, tmp_path, capsys):
    path = tmp_path / "dnb.xlsx"
    path.write_bytes(dnb_workbook(DNB_ROWS))
    call_command("import_transactions", "923609016", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "Format: DNB (Excel)" in out
    assert "Dry run" in out
    assert "Unknown type, not imported: SPLITT (1)" in out
    call_command("import_transactions", "923609016", str(path))
    out = capsys.readouterr().out
    assert "New: 3, already imported: 0" in out
    assert "Imported 3 transaction(s)" in out
    call_command("import_transactions", "923609016", str(path))
    assert "New: 0, already imported: 3" in capsys.readouterr().out


def test_the_command_reports_problems_and_imports_nothing(acme, tmp_path):
    path = tmp_path / "dnb.xlsx"
    path.write_bytes(dnb_workbook(DNB_ROWS))
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_transactions", "923609016", str(path))


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def test_a_finance_user_uploads_a_nordnet_file_on_the_import_page(client, fiona, acme):
    with scope(company=acme):
        BrokerAccount.objects.create(
            company=acme, broker="nordnet", number="12345678", cash_account=1921
        )
    client.force_login(fiona)
    upload = SimpleUploadedFile("transactions-and-notes-export.csv", nordnet_30(ROWS_FOR_PAGE))
    response = client.post(_url("transactions_import", acme), {"file": upload}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "importerte 2 nye, 0 var importert fra før" in page
    with scope(company=acme):
        assert Transaction.objects.filter(company=acme, source="broker").count() == 2


def test_the_import_page_shows_a_broker_file_problem_and_saves_nothing(client, fiona, acme):
    client.force_login(fiona)
    upload = SimpleUploadedFile("export.csv", nordnet_30(ROWS_FOR_PAGE))
    response = client.post(_url("transactions_import", acme), {"file": upload})
    assert response.status_code == 400
    assert "12345678" in response.content.decode()
    with scope(company=acme):
        assert not Transaction.objects.filter(company=acme).exists()


def test_broker_accounts_page_adds_an_account_from_the_chart(client, fiona, acme, local_cache):
    from django.utils import timezone

    from ledger.models import LedgerAccount

    with scope(company=acme):
        LedgerAccount.objects.create(
            company=acme, tripletex_id=1921, number=1921, name="Nordnet", synced_at=timezone.now()
        )
    client.force_login(fiona)
    url = _url("broker_accounts", acme)
    data = {
        "broker": "nordnet",
        "number": "12345678",
        "name": "ASK",
        "cash_account": "1921",
        "currency": "nok",
    }
    assert client.post(url, data).status_code == 302
    # An account the chart lacks is refused, and the same number twice too.
    refused = client.post(url, {**data, "number": "999", "cash_account": "1999"})
    assert refused.status_code == 400
    assert "1999" in refused.content.decode()
    assert client.post(url, data).status_code == 400
    with scope(company=acme):
        account = BrokerAccount.objects.get(company=acme)
    assert (account.number, account.cash_account, account.currency) == ("12345678", 1921, "NOK")
    assert "12345678" in client.get(url).content.decode()
    assert client.post(_url("broker_account_delete", acme, pk=account.pk)).status_code == 302
    with scope(company=acme):
        assert not BrokerAccount.objects.filter(company=acme).exists()


def test_an_accountant_cannot_manage_broker_accounts(client, anders, acme):
    client.force_login(anders)
    assert client.get(_url("broker_accounts", acme)).status_code == 403

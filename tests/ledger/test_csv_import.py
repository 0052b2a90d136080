"""CSV import: Norwegian decimal comma, every bad row reported with its line number, and nothing
imported from a file with any error; the command does the same."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from ledger.models import JournalLine, Transaction
from ledger.transactions.csv_import import parse_decimal, transactions_import

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "transactions-example.csv"
HEADER = (
    "type;trade_date;instrument;isin;quantity;amount;fees;description;entry;account;debit;credit\n"
)


def _import(company, text: str):
    with scope(company=company):
        return transactions_import(company=company, content=text.encode("utf-8"), by=None)


def _count(company) -> int:
    with scope(company=company):
        return Transaction.objects.filter(company=company).count()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 234,50", Decimal("1234.50")),
        ("1\u00a0234,5", Decimal("1234.5")),
        ("1234.50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),
        ("-12,75", Decimal("-12.75")),
        ("", None),
    ],
)
def test_norwegian_and_plain_numbers(text, value):
    assert parse_decimal(text) == value


def test_the_documented_example_imports(acme):
    with scope(company=acme):
        result = transactions_import(company=acme, content=EXAMPLE.read_bytes(), by=None)
    assert result.ok, result.errors
    assert len(result.created) == 6
    with scope(company=acme):
        kinds = sorted(Transaction.objects.filter(company=acme).values_list("kind", flat=True))
        journal = Transaction.objects.get(company=acme, kind="journal")
        lines = list(
            JournalLine.objects.filter(transaction=journal).values_list(
                "account_number", "debit", "credit", "vat_code"
            )
        )
        sale = Transaction.objects.get(company=acme, kind="sale")
    assert kinds == ["dividend", "journal", "purchase", "purchase", "sale", "withholding_tax"]
    assert lines == [
        (6720, Decimal("5000.00"), Decimal("0.00"), "1"),
        (2960, Decimal("0.00"), Decimal("5000.00"), ""),
    ]
    assert (sale.amount, sale.fees, sale.quantity) == (
        Decimal("10800.00"),
        Decimal("29.00"),
        Decimal("40"),
    )
    assert all(t.status == "ready" and t.source == "csv" for t in result.created)


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(acme):
    text = HEADER + (
        "purchase;2026-01-02;Equinor ASA;NO0010096985;10;1 000,00;0;;;;;\n"  # line 2: fine
        "purchase;2026-13-40;Equinor ASA;NO0010096985;10;1 000,00;0;;;;;\n"  # line 3: date
        "purchase;2026-01-02;Equinor ASA;NO0010096986;10;1 000,00;0;;;;;\n"  # line 4: ISIN
        "swap;2026-01-02;X;;1;5;0;;;;;\n"  # line 5: type
        "dividend;2026-01-02;Equinor ASA;;;12,345;0;;;;;\n"  # line 6: three decimals
        "journal;2026-01-02;;;;;;Skjev;E1;6800;100,00;\n"  # lines 7-8: unbalanced
        "journal;2026-01-02;;;;;;Skjev;E1;1920;;99,00\n"
        "purchase;2026-01-02;Equinor ASA;;abc;1 000,00;0;;;;;\n"  # line 9: quantity
    )
    result = _import(acme, text)
    assert not result.ok
    assert sorted({line for line, _ in result.errors}) == [3, 4, 5, 6, 7, 9]
    # Amounts in messages are written as the user writes them.
    assert "(debit 100,00, credit 99,00)" in dict(result.errors)[7]
    assert _count(acme) == 0


def test_a_sale_of_more_than_the_file_buys_is_refused_and_rolls_back(acme):
    text = HEADER + (
        "purchase;2026-01-02;Equinor ASA;NO0010096985;10;1 000,00;0;;;;;\n"
        "sale;2026-01-03;Equinor ASA;NO0010096985;11;1 500,00;0;;;;;\n"
    )
    result = _import(acme, text)
    assert [line for line, _ in result.errors] == [3]
    assert "only 10 held" in result.errors[0][1]
    assert _count(acme) == 0


def test_missing_columns_and_empty_files_are_reported(acme):
    assert _import(acme, "").errors
    result = _import(acme, "instrument;amount\nX;1\n")
    assert result.errors[0][0] == 1
    assert _count(acme) == 0


def test_command_imports_and_refuses_bad_files(acme, tmp_path, capsys):
    call_command("import_transactions", acme.org_number, str(EXAMPLE))
    assert "Imported 6" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "purchase;2026-01-02;X;;0;1,00;0;;;;;\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import_transactions", acme.org_number, str(bad))
    assert "bad.csv:2:" in capsys.readouterr().err
    assert _count(acme) == 6
    with pytest.raises(CommandError):
        call_command("import_transactions", "000000000", str(EXAMPLE))

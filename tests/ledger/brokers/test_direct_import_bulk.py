"""The direct import writes in bulk (ledger/transactions/bulk.py) and saves exactly what saving
each row through transaction_create saved before: the same fields, journal lines, external voucher
numbers, and once queued the same lots, uses and FIFO costs. The reference is the row-by-row save
the broker import and the CSV import used to make, run on a second firm with the same file."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scope

from ledger.booking.protocol import booking_queue
from ledger.imports.registry import format_detect
from ledger.imports.service import (
    DAY_ORDER,
    FileImport,
    file_accounts_resolve,
    file_import,
    row_prepare,
)
from ledger.models import BrokerAccount, JournalLine, Lot, LotUse, Transaction
from ledger.transactions.csv_import import transactions_import
from ledger.transactions.services import transaction_create
from tests.ledger.brokers.files import EQUINOR, nordnet_30, row
from tests.ledger.brokers.test_nordnet_import import ROWS

pytestmark = pytest.mark.django_db
# Columns that differ between two firms by construction.
OWN = {"id", "company", "created_at", "updated_at", "external_voucher_number", "broker_account"}


def _nordnet(company) -> BrokerAccount:
    return BrokerAccount.objects.create(
        company=company, broker="nordnet", number="12345678", cash_account=1921
    )


def _row_by_row(company, content: bytes) -> None:
    """The broker import's save before it went bulk: transaction_create per row in saving order,
    then the broker fields."""
    fmt = format_detect(content)
    assert fmt is not None
    parsed = fmt.parse(content)
    result = FileImport()
    accounts = file_accounts_resolve(company, fmt.key, parsed, None, result)
    prepared = [row_prepare(company, r, accounts, result) for r in parsed.rows]
    assert result.ok, result.errors
    prepared.sort(
        key=lambda p: (p.data["trade_date"], DAY_ORDER.get(p.data["kind"], 3), p.row.line)
    )
    for item in prepared:
        txn = transaction_create(
            company=company,
            data=item.data,
            lines=item.lines,
            by=None,
            source=Transaction.Source.BROKER,
            fifo_checked=True,
        )
        Transaction.objects.filter(pk=txn.pk).update(
            broker_account=item.account,
            fx_rate=item.row.fx_rate,
            tax_withheld=item.row.tax_withheld,
            broker_ref=item.row.broker_ref,
            broker_ref_other=item.row.broker_ref_other,
            contract_note_number=item.row.contract_note_number,
        )


def _stored(company) -> list[dict[str, Any]]:
    """Every transaction of the firm in saving order, as plain values (lines and lots too)."""
    found = []
    for txn in Transaction.objects.filter(company=company).order_by("pk"):
        values = {f.name: getattr(txn, f.attname) for f in Transaction._meta.concrete_fields}
        assert txn.external_voucher_number == f"DYN-{company.pk}-{txn.pk}"
        values = {k: v for k, v in values.items() if k not in OWN}
        values["broker_account"] = txn.broker_account.number if txn.broker_account else None
        values["lines"] = list(
            JournalLine.objects.filter(transaction=txn)
            .order_by("row")
            .values_list("row", "account_number", "debit", "credit", "description")
        )
        values["lot"] = list(
            Lot.objects.filter(opened_by=txn).values_list(
                "instrument_key", "acquired", "quantity", "cost"
            )
        )
        values["uses"] = sorted(
            (u.lot.opened_by.broker_ref or u.lot.opened_by.description, u.quantity, u.cost)
            for u in LotUse.objects.filter(transaction=txn).select_related("lot__opened_by")
        )
        found.append(values)
    return found


def _queue_all(company) -> None:
    ids = list(Transaction.objects.filter(company=company).values_list("pk", flat=True))
    counts = booking_queue(company=company, transaction_ids=ids, enqueue=False)
    assert counts["queued"] == len(ids), Transaction.objects.exclude(messages=[]).values_list(
        "messages", flat=True
    )


def test_a_mixed_nordnet_file_saves_what_the_row_by_row_save_did(acme, bergen):
    content = nordnet_30(ROWS)
    with scope(company=acme):
        _nordnet(acme)
        result = file_import(company=acme, content=content, by=None)
        assert result.ok, result.errors
        assert [t.pk for t in result.created] == sorted(t.pk for t in result.created)
    with scope(company=bergen):
        _nordnet(bergen)
        _row_by_row(bergen, content)
    with scope(company=acme):
        bulk = _stored(acme)
    with scope(company=bergen):
        one_by_one = _stored(bergen)
    # Purchases, sales, a foreign trade with FX, a dividend with its tax, fees, a refund of fees
    # (a journal entry with two lines), interest, deposits and withdrawals.
    assert len(bulk) == 15
    assert {t["kind"] for t in bulk} >= {"purchase", "sale", "dividend", "journal", "fee"}
    assert any(t["lines"] for t in bulk)
    assert any(t["fx_rate"] for t in bulk)
    assert bulk == one_by_one
    with scope(company=acme):
        _queue_all(acme)
        bulk = _stored(acme)
    with scope(company=bergen):
        _queue_all(bergen)
        one_by_one = _stored(bergen)
    assert any(t["lot"] for t in bulk)
    assert any(t["uses"] for t in bulk)
    assert any(t["cost_basis"] for t in bulk)
    assert [{k: v for k, v in t.items() if k != "queued_at"} for t in bulk] == [
        {k: v for k, v in t.items() if k != "queued_at"} for t in one_by_one
    ]


CSV = (
    "type;trade_date;instrument;isin;quantity;amount;fees;description;entry;account;debit;credit\n"
    "kjøp;2026-02-02;Equinor ASA;NO0010096985;100;25 000,00;49,00;Kjøp;;;;\n"
    "salg;2026-03-02;Equinor ASA;NO0010096985;40;10 800,00;29,00;Salg;;;;\n"
    "utbytte;2026-04-02;Equinor ASA;NO0010096985;;600,00;;Utbytte;;;;\n"
    "postering;2026-04-03;;;;;;Husleie;B1;6300;1 000,00;\n"
    "postering;2026-04-03;;;;;;Husleie;B1;1920;;1 000,00\n"
)


def test_a_mixed_csv_file_saves_what_the_row_by_row_save_did(acme, bergen):
    with scope(company=acme):
        result = transactions_import(company=acme, content=CSV.encode(), by=None)
        assert result.ok, result.errors
        bulk = _stored(acme)
    with scope(company=bergen):
        # The CSV import's save before: transaction_create per entry, in the file's order.
        for data, lines in [
            (result_entry["data"], result_entry["lines"]) for result_entry in _entries(CSV)
        ]:
            transaction_create(
                company=bergen,
                data=data,
                lines=lines,
                by=None,
                source=Transaction.Source.CSV,
                fifo_checked=True,
            )
        one_by_one = _stored(bergen)
    assert [t["kind"] for t in bulk] == ["purchase", "sale", "dividend", "journal"]
    assert len(bulk[3]["lines"]) == 2
    assert bulk == one_by_one


def _entries(text: str) -> list[dict[str, Any]]:
    """The CSV file's entries as the import parses them."""
    from ledger.transactions.csv_import import ImportResult, _parse

    found = ImportResult()
    entries = _parse(text, found)
    assert found.ok, found.errors
    return [{"data": e.data, "lines": e.lines} for e in entries]


def test_a_value_too_long_for_its_column_is_an_error_on_its_line_and_nothing_is_saved(acme):
    rows = [
        row(1, "2026-01-02", "INNSKUDD", "100 000,00", "100 000,00"),
        row(2, "2026-01-05", "KJØPT", "-25 049,00", "74 951,00", instrument=EQUINOR,
            quantity="100", price="250,00", fees="49,00"),
        row(3, "2026-01-06", "KJØPT", "-2 500,00", "72 451,00",
            instrument=("E" * 201, EQUINOR[1]), quantity="10", price="250,00"),
    ]  # fmt: skip
    with scope(company=acme):
        _nordnet(acme)
        result = file_import(company=acme, content=nordnet_30(rows), by=None)
        assert not result.saved
        assert [line for line, _text in result.errors] == [4]
        assert "200" in result.errors[0][1]
        assert Transaction.objects.filter(company=acme).count() == 0

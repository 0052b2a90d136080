"""CSV import of transactions: every bad row is reported with its line number, and a file with
any error imports nothing.

The format (documented in README "Importing transactions from CSV"): UTF-8 (or Windows-1252 as
Excel writes it), semicolon-separated (comma and tab are detected too), one header line, amounts
with a decimal comma or point and optional spaces as thousands separators, dates as 2026-03-31 or
31.03.2026. Journal entries take one row per line; rows with the same `entry` form one entry.
"""

from __future__ import annotations

import _csv
import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.models import Transaction
from ledger.templatetags.money import format_amount
from ledger.transactions.bulk import (
    NewTransaction,
    transactions_check_many,
    transactions_save_ready,
)
from ledger.transactions.checks import Reference, reference_load
from ledger.transactions.fifo import fifo_verdict
from ledger.transactions.services import (
    journal_line_problems,
    securities_problems,
    transaction_unsaved,
)

# Column name (lower case) → field; Norwegian headers are accepted too.
COLUMNS: dict[str, str] = {
    "type": "kind",
    "trade_date": "trade_date",
    "handelsdato": "trade_date",
    "date": "trade_date",
    "dato": "trade_date",
    "settlement_date": "settlement_date",
    "oppgjørsdato": "settlement_date",
    "instrument": "instrument_name",
    "verdipapir": "instrument_name",
    "isin": "isin",
    "quantity": "quantity",
    "antall": "quantity",
    "price": "price",
    "kurs": "price",
    "amount": "amount",
    "beløp": "amount",
    "fees": "fees",
    "gebyr": "fees",
    "kurtasje": "fees",
    "currency": "currency",
    "valuta": "currency",
    "amount_currency": "amount_currency",
    "valutabeløp": "amount_currency",
    "to_instrument": "to_instrument_name",
    "til_verdipapir": "to_instrument_name",
    "to_isin": "to_isin",
    "til_isin": "to_isin",
    "to_quantity": "to_quantity",
    "til_antall": "to_quantity",
    "paid_through": "settle_via",
    "betalt_fra": "settle_via",
    "description": "description",
    "beskrivelse": "description",
    "tekst": "description",
    "note": "note",
    "notat": "note",
    "entry": "entry",
    "bilag": "entry",
    "account": "account_number",
    "konto": "account_number",
    "debit": "debit",
    "credit": "credit",
    "kredit": "credit",
    "department": "department_number",
    "avdeling": "department_number",
    "project": "project_number",
    "prosjekt": "project_number",
    "vat_code": "vat_code",
    "mva_kode": "vat_code",
    "mva-kode": "vat_code",
}
KINDS: dict[str, str] = {
    "purchase": "purchase",
    "kjøp": "purchase",
    "sale": "sale",
    "salg": "sale",
    "dividend": "dividend",
    "utbytte": "dividend",
    "interest": "interest",
    "renter": "interest",
    "renteinntekt": "interest",
    "fee": "fee",
    "gebyr": "fee",
    "withholding_tax": "withholding_tax",
    "kildeskatt": "withholding_tax",
    "repayment": "repayment",
    "tilbakebetaling": "repayment",
    "fund_switch": "fund_switch",
    "fondsbytte": "fund_switch",
    "journal": "journal",
    "postering": "journal",
    "bilag": "journal",
}
SETTLE_VIA = {"": "bank", "bank": "bank", "loan": "loan", "lån": "loan"}
DECIMAL_FIELDS = ("quantity", "price", "amount", "fees", "amount_currency", "to_quantity")
LINE_DECIMALS = ("debit", "credit")
DATE_FIELDS = ("trade_date", "settlement_date")
MAX_ROWS = 10_000
# An account number as typed: ASCII digits.
ACCOUNT_NUMBER_TEXT = re.compile(r"[0-9]+")


class ValueProblem(ValueError):
    """A cell that cannot be read; the message names what was expected."""


@dataclass
class ImportResult:
    """What an import did: the rows created, or every problem as (line, message)."""

    created: list[Transaction] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # The chart and periods the rows were checked against (None when the file never got that far).
    reference: Reference | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_decimal(text: str) -> Decimal | None:
    """'1 234,50' / '1234.50' / '1.234,50' / '-12,5' → Decimal; '' → None. Raises ValueProblem."""
    raw = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    raw = raw.replace("\u2212", "-")
    if not raw:
        return None
    if "," in raw and "." in raw:
        # Whichever comes last is the decimal mark; the other groups thousands.
        raw = raw.replace(".", "") if raw.rfind(",") > raw.rfind(".") else raw.replace(",", "")
    raw = raw.replace(",", ".")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", raw):
        raise ValueProblem(_("“%(text)s” is not a number.") % {"text": text.strip()})
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern above already rules this out
        raise ValueProblem(_("“%(text)s” is not a number.") % {"text": text.strip()}) from None


def parse_date(text: str) -> date | None:
    """'2026-03-31' or '31.03.2026' → date; '' → None. Raises ValueProblem."""
    raw = (text or "").strip()
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            # A calendar date with no time of day: parsed without making a (naive) datetime.
            parsed = time.strptime(raw, fmt)
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
        except ValueError:
            continue
    raise ValueProblem(
        _("“%(text)s” is not a date (use 2026-03-31 or 31.03.2026).") % {"text": raw}
    )


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _reader(text: str) -> _csv.Reader:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max((";", "\t", ","), key=first.count)
    # newline="" as the csv docs ask: the reader itself then ends lines at \r\n, \n or a lone \r
    # (old Mac files), and a line break inside a quoted field stays part of the field. strict: a
    # quote that is never closed is an error, where the lenient reader would quietly make the rest
    # of the file one field.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _rows(reader: _csv.Reader, result: ImportResult) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module refuses ends the file with a reported error, at
    the line where that row starts.

    It refuses a field longer than csv.field_size_limit() (131,072 characters by default, more
    than any column of a transaction holds) and, being strict, broken quoting."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                message = _("A field is longer than %(limit)s characters.") % {
                    "limit": f"{csv.field_size_limit():,}".replace(",", "\u00a0")
                }
            else:
                message = _(
                    "This line cannot be read as CSV: a quote is not closed, or text follows "
                    "a closing quote."
                )
            result.errors.append((start, message))
            return
        yield row


def _row_values(header: list[str | None], cells: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, cell in zip(header, cells, strict=False):
        if name:
            values[name] = cell.strip()
    return values


def _convert(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Typed values of one row, and the problems converting them."""
    data: dict[str, Any] = {}
    problems: list[str] = []
    kind_text = values.get("kind", "").strip().lower()
    data["kind"] = KINDS.get(kind_text, "")
    if not data["kind"]:
        problems.append(_("Unknown type “%(type)s”.") % {"type": values.get("kind", "")})
    _convert_typed(values, data, problems)
    if not data.get("trade_date") and not any(p.startswith("trade_date") for p in problems):
        problems.append(_("The date is missing."))
    settle = values.get("settle_via", "").lower()
    if settle not in SETTLE_VIA:
        problems.append(_("paid_through must be bank or loan."))
    data["settle_via"] = SETTLE_VIA.get(settle, "bank")
    for name in ("instrument_name", "to_instrument_name", "description", "note", "entry"):
        data[name] = values.get(name, "")
    for name in ("isin", "to_isin"):
        data[name] = values.get(name, "").upper()
    data["currency"] = (values.get("currency") or "NOK").upper()
    account = values.get("account_number", "")
    # ASCII digits only: "²".isdigit() is True, but int("²") raises. A number longer than any
    # account stays None, which journal_line_problems reports as a missing account.
    is_number = ACCOUNT_NUMBER_TEXT.fullmatch(account) is not None
    data["account_number"] = int(account) if is_number and len(account) <= 9 else None
    if account and not is_number:
        problems.append(_("The account must be a number such as 1920."))
    for name in ("department_number", "project_number", "vat_code"):
        data[name] = values.get(name, "")
    if data["fees"] is None:
        data["fees"] = Decimal("0.00")
    return data, problems


def _convert_typed(values: dict[str, str], data: dict[str, Any], problems: list[str]) -> None:
    for name in (*DECIMAL_FIELDS, *LINE_DECIMALS):
        try:
            data[name] = parse_decimal(values.get(name, ""))
        except ValueProblem as exc:
            problems.append(f"{name}: {exc}")
    for name in DATE_FIELDS:
        try:
            data[name] = parse_date(values.get(name, ""))
        except ValueProblem as exc:
            problems.append(f"{name}: {exc}")


@dataclass
class _Entry:
    line: int
    data: dict[str, Any]
    lines: list[dict[str, Any]] | None = None


def _header(rows: Iterator[list[str]], result: ImportResult) -> list[str | None] | None:
    """The field of each column, from the first row; None (with the error) when unusable."""
    try:
        header_cells = next(rows)
    except StopIteration:
        if not result.errors:
            result.errors.append((1, _("The file is empty.")))
        return None
    header = [COLUMNS.get(h.strip().lower().lstrip("\ufeff")) for h in header_cells]
    unknown = [h for h, name in zip(header_cells, header, strict=True) if h.strip() and not name]
    if unknown:
        result.errors.append((1, _("Unknown columns: %(names)s.") % {"names": ", ".join(unknown)}))
    if "kind" not in header or "trade_date" not in header:
        result.errors.append((1, _("The header needs at least the columns type and trade_date.")))
        return None
    return header


def _parse(text: str, result: ImportResult) -> list[_Entry]:
    if "\x00" in text:
        # A spreadsheet file or UTF-16 text, not CSV; PostgreSQL would refuse the NUL anyway.
        line = len((text[: text.index("\x00")] + "x").splitlines())
        result.errors.append(
            (line, _("The file holds NUL characters: save it as CSV (UTF-8) and try again."))
        )
        return []
    reader = _reader(text)
    rows = _rows(reader, result)
    header = _header(rows, result)
    if header is None:
        return []
    entries: list[_Entry] = []
    journals: dict[tuple[str, date | None], _Entry] = {}
    for cells in rows:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(entries) > MAX_ROWS:
            result.errors.append((line, _("Too many rows; split the file.")))
            break
        data, problems = _convert(_row_values(header, cells))
        if data["kind"] == Transaction.Kind.JOURNAL:
            problems += journal_line_problems(data)
            key = (data["entry"] or f"line-{line}", data.get("trade_date"))
            entry = journals.get(key)
            if entry is None:
                entry = _Entry(line, {"kind": "journal", **_journal_header(data)}, [])
                journals[key] = entry
                entries.append(entry)
            assert entry.lines is not None  # a journal entry is made with its list of lines
            entry.lines.append(data)
        elif data["kind"]:
            problems += list(securities_problems(data).values())
            entries.append(_Entry(line, data))
        result.errors.extend((line, p) for p in problems)
    for entry in journals.values():
        _check_journal(entry, result)
    return entries


def _journal_header(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "trade_date": data.get("trade_date"),
        "description": data.get("description", ""),
        "note": data.get("note", ""),
    }


def _check_journal(entry: _Entry, result: ImportResult) -> None:
    lines = entry.lines or []
    debit = sum((line.get("debit") or Decimal(0) for line in lines), Decimal(0))
    credit = sum((line.get("credit") or Decimal(0) for line in lines), Decimal(0))
    if len(lines) < 2:
        result.errors.append((entry.line, _("A journal entry needs at least two lines.")))
    elif debit != credit:
        result.errors.append(
            (
                entry.line,
                _("The journal entry starting here does not balance (debit %(d)s, credit %(c)s).")
                % {"d": format_amount(debit), "c": format_amount(credit)},
            )
        )


def _fifo_errors(company: Company, entries: list[_Entry], result: ImportResult) -> None:
    """FIFO over the file and the firm's history in one walk, in date order and then file order
    within a day (so the order of the file's rows never changes the verdict): a sale of more
    than is held then, or a row that would change a booked sale's cost, is an error on its line."""
    securities = [e for e in entries if e.lines is None]
    txns = [transaction_unsaved(company=company, data=e.data) for e in securities]
    verdict = fifo_verdict(company=company, txns=txns)
    for index, messages in verdict.problems().items():
        result.errors.extend((securities[index].line, m) for m in messages)


def _unsaved(company: Company, entry: _Entry) -> NewTransaction:
    """The entry as the transaction it is saved as (transaction_create's values, source CSV)."""
    txn = transaction_unsaved(company=company, data=entry.data)
    txn.source = Transaction.Source.CSV
    return NewTransaction(txn, entry.data, entry.lines)


def transactions_import(
    *, company: Company, content: bytes, by: User | None, reference: Reference | None = None
) -> ImportResult:
    """Import a CSV file: all rows, or (with any error) none. Errors carry line numbers.

    Every row is checked against the firm's chart and accounting periods (checks.py), read once
    for the whole file: `reference` when the caller has it, else loaded here (refreshed from
    Tripletex when a day old, and for the fiscal years of the file's dates)."""
    result = ImportResult()
    entries = _parse(_decode(content), result)
    if not entries and not result.errors:
        result.errors.append((1, _("The file has no transactions.")))
    if result.errors:
        result.errors.sort()
        return result
    if reference is None:
        days = [e.data["trade_date"] for e in entries if e.data.get("trade_date")]
        reference = reference_load(company=company, days=days)
    result.reference = reference
    _fifo_errors(company, entries, result)
    rows = [_unsaved(company, entry) for entry in entries]
    problems = transactions_check_many(company=company, rows=rows, reference=reference)
    for index, messages in problems.items():
        result.errors.extend((entries[index].line, m) for m in messages)
    if not result.errors:
        result.created = transactions_save_ready(company=company, rows=rows, by=by)
    result.errors.sort()
    return result

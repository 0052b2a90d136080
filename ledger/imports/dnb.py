"""DNB's Excel export of trades (DNB Markets, aksjesparekonto).

Facts (the shared fact sheet, from SamirStandnes/project_kodak `kodak/pipeline/parsers/dnb.py`):
an .xlsx workbook with five metadata rows before the header row, columns `Ticker, Navn,
Handelsdato, Handelsretning, Antall, Pris, Totalbeløp, MIC, Valuta, Valutakurs, Transaksjons ID,
Oppgjørsdato, Totalbeløp (lokal valuta), Transaksjonsgebyr`; `Handelsretning` holds Kjøpt/KJØP or
SALG/SOLGT; the fee is in NOK; there is **no ISIN**: instruments are known by ticker and MIC.

The header row is found by its names (within the first 20 rows), not by counting metadata rows.
`Totalbeløp` is read as the trade value in the trade currency before the fee and `Totalbeløp
(lokal valuta)` as the same in NOK (*unverified*: project_kodak computes Antall × Pris instead and
ignores both; when the NOK total is missing it is Antall × Pris × Valutakurs here too). Signs are
ignored: the direction says which way the trade went. The ISIN of a ticker + MIC is the one
remembered for it on the firm's Instrument (`instrument_ref`, given once in the inbox), else the
one the firm's earlier transactions of that name carry (ledger/imports/service.py), else left open
with a warning (in the inbox: asked once per instrument).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from ledger.imports.base import ParsedFile, ParsedRow, header_key, q2
from ledger.models import Transaction
from ledger.transactions.csv_import import ValueProblem, parse_date, parse_decimal

Kind = Transaction.Kind
HEADER_NAMES = {"ticker", "handelsretning", "handelsdato"}
DIRECTIONS = {"KJØPT": Kind.PURCHASE, "KJØP": Kind.PURCHASE, "SALG": Kind.SALE, "SOLGT": Kind.SALE}
MAX_ROWS = 100_000


def _sheet_rows(content: bytes, limit: int | None = None) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(tuple(row))
            if limit is not None and len(rows) >= limit:
                break
        return rows
    finally:
        workbook.close()


def _header_index(rows: list[tuple[Any, ...]]) -> int | None:
    for i, row in enumerate(rows[:20]):
        keys = {header_key(str(c)) for c in row if c is not None}
        if keys >= HEADER_NAMES:
            return i
    return None


class DnbFormat:
    """DNB's trade export workbook."""

    key = "dnb"
    label = "DNB"

    def sniff(self, content: bytes) -> int:
        """100 for an .xlsx workbook whose first sheet has DNB's header within 20 rows."""
        if not content.startswith(b"PK\x03\x04"):
            return 0
        try:
            rows = _sheet_rows(content, limit=20)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            return 0
        return 100 if _header_index(rows) is not None else 0

    def parse(self, content: bytes) -> ParsedFile:
        """One purchase or sale per row after the header."""
        parsed = ParsedFile("DNB (Excel)")
        try:
            rows = _sheet_rows(content, limit=MAX_ROWS)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            parsed.errors.append((1, _("The workbook cannot be read.")))
            return parsed
        start = _header_index(rows)
        if start is None:
            parsed.errors.append((1, _("No header row with Ticker and Handelsretning.")))
            return parsed
        names = [header_key(str(c)) if c is not None else "" for c in rows[start]]
        for index, cells in enumerate(rows[start + 1 :], start=start + 2):
            if not any(c not in (None, "") for c in cells):
                continue
            values = dict(zip(names, cells, strict=False))
            try:
                row = _row(index, values, parsed)
            except ValueProblem as exc:
                parsed.errors.append((index, str(exc)))
                continue
            if row is not None:
                parsed.rows.append(row)
        return parsed


DNB = DnbFormat()


def _decimal(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # openpyxl gives numbers as float: through str, so 0.1 stays 0.1.
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - str of a float is always a number
            raise ValueProblem(name) from None
    try:
        return parse_decimal(str(value))
    except ValueProblem as exc:
        raise ValueProblem(f"{name}: {exc}") from None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value or "")[:10])


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _row(line: int, values: dict[str, Any], parsed: ParsedFile) -> ParsedRow | None:
    direction = _text(values.get("handelsretning")).upper()
    kind = DIRECTIONS.get(direction, "")
    if not kind:
        parsed.unknown_types[direction or "—"] += 1
        return None
    quantity = _decimal(values.get("antall"), "Antall")
    price = _decimal(values.get("pris"), "Pris")
    currency = (_text(values.get("valuta")) or "NOK").upper()
    rate = _decimal(values.get("valutakurs"), "Valutakurs")
    total = _decimal(values.get("totalbeløp"), "Totalbeløp")
    total_nok = _decimal(values.get("totalbeløp (lokal valuta)"), "Totalbeløp (lokal valuta)")
    fee = abs(_decimal(values.get("transaksjonsgebyr"), "Transaksjonsgebyr") or Decimal(0))
    trade_value = abs(total) if total is not None else None
    if trade_value is None and quantity is not None and price is not None:
        trade_value = q2(abs(quantity) * price)
    if total_nok is not None:
        amount = q2(abs(total_nok))
    elif trade_value is not None and (currency == "NOK" or rate):
        amount = q2(trade_value * (rate if currency != "NOK" and rate else Decimal(1)))
    else:
        raise ValueProblem(_("The amount in NOK is missing (Totalbeløp (lokal valuta))."))
    ticker, mic = _text(values.get("ticker")), _text(values.get("mic")).upper()
    trade_date = _date(values.get("handelsdato"))
    settlement = _date(values.get("oppgjørsdato"))
    if settlement and trade_date and settlement < trade_date:
        settlement = None
    ident = _text(values.get("transaksjons id"))
    data: dict[str, Any] = {
        "kind": kind,
        "trade_date": trade_date,
        "settlement_date": settlement,
        "instrument_name": _text(values.get("navn")) or ticker,
        "isin": "",
        "quantity": abs(quantity) if quantity is not None else None,
        "price": price,
        "amount": amount,
        "fees": fee,
        "currency": currency,
        "amount_currency": q2(trade_value) if currency != "NOK" and trade_value else None,
        "description": "",
        "settle_via": Transaction.SettleVia.BANK,
        "note": _("DNB %(direction)s %(ticker)s %(mic)s, transaction %(id)s")
        % {"direction": direction, "ticker": ticker, "mic": mic, "id": ident},
    }
    return ParsedRow(
        line=line,
        source_type=direction,
        kind=kind,
        data=data,
        broker_ref=f"dnb:{ident}" if ident else "",
        fx_rate=rate if currency != "NOK" else None,
        instrument_ref=f"{ticker}.{mic}" if mic else ticker,
    )

"""Nordnet's "Transaksjoner og sluttsedler" export (transactions-and-notes-export.csv).

Facts (docs/brokers in the shared fact sheet, from public parsers: cskrov/nordnet-fiken-import
`nordnet/read-utf-16.go` and `nordnet/parse.go`, SamirStandnes/project_kodak
`kodak/pipeline/parsers/nordnet.py`, Sjoeborg/krona `krona/parsers/nordnet.py`,
flexable777/nordnet-fiken-import for the Saldo check):

* UTF-16 LE with a BOM and TAB-separated; re-saved by Excel it may be UTF-8 or Windows-1252 with
  semicolons (base.decode_text and base.delimiter_of detect, nothing is assumed).
* The current header has 30 columns with `Valuta` five times, each the currency of the column
  before it; columns are therefore named by position here ("valuta" after "beløp" becomes
  "valuta:beløp"), never by name alone. The older layout (no `Portefølje`, `Instrumenttyp`,
  `Avgifter`, 22 columns ending at `Sluttseddelnummer`) is read by the same names; its column
  order is not public, so with a single `Valuta` column that one is every amount's currency.
* Dates YYYY-MM-DD, decimal comma, (no-break) spaces grouping thousands, signed amounts (money out
  of the account negative). `Saldo` is the account's cash after the row, so `Beløp` is the cash
  the row moved, fees included: a purchase's cost before fees is |Beløp| − fees, a sale's proceeds
  before fees |Beløp| + fees.
* In a NOK account a foreign trade's `Beløp` is in NOK, `Kjøpsverdi` in the instrument's currency
  and `Vekslingskurs` the rate used (project_kodak's reading of the columns); in a currency
  account `Beløp` is in that currency and is converted at `Vekslingskurs`.
* Types mapped: KJØPT, SALG/SOLGT, INNLØSN. UTTAK VP (a redemption: units out, money in),
  UTBYTTE, a type containing SKATT (withholding tax, merged into the dividend of the same
  portfolio, instrument and day), a type containing RENTE (interest income when money comes in;
  DEBETRENTE and other interest charged to the fees account), AVGIFT, PLATTFORMAVGIFT, AVG KORR
  (a fee when money goes out, a refund of fees when it comes in), and the cash transfers
  INNSKUDD, OVERFØRING VIA TRUSTLY, UTTAK, UTTAK INTERNET (deposit or withdrawal by the sign).
  ERSTATNING (a compensation) and SALG VALUTA/KJØP VALUTA (currency exchange inside the account)
  need a person to choose the accounts and are listed, not imported; any other type is listed as
  unknown with its count.
* A row whose `Makuleringsdato` is set was cancelled: it and the row it cancels (same portfolio,
  type, instrument, quantity and the opposite amount) are both left out; the pairing rule is ours
  (*unverified* against a real cancellation).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from ledger.imports.base import (
    DELIMITER_NAMES,
    FEE_REFUND,
    ParsedFile,
    ParsedRow,
    SaldoGap,
    csv_rows,
    decode_text,
    delimiter_of,
    first_line,
    header_key,
    q2,
)
from ledger.models import Transaction
from ledger.transactions.csv_import import ValueProblem, parse_date, parse_decimal

Kind = Transaction.Kind
NOK = "NOK"

# Nordnet's type → our kind; "cash" is a deposit or a withdrawal by the sign of Beløp.
TYPES: dict[str, str] = {
    "KJØPT": Kind.PURCHASE,
    "SALG": Kind.SALE,
    "SOLGT": Kind.SALE,
    "INNLØSN. UTTAK VP": Kind.SALE,
    "UTBYTTE": Kind.DIVIDEND,
    "AVGIFT": Kind.FEE,
    "PLATTFORMAVGIFT": Kind.FEE,
    "AVG KORR": "fee_by_sign",
    "DEBETRENTE": "interest_by_sign",
    "INNSKUDD": "cash",
    "OVERFØRING VIA TRUSTLY": "cash",
    "UTTAK": "cash",
    "UTTAK INTERNET": "cash",
}
MANUAL_TYPES = ("ERSTATNING", "SALG VALUTA", "KJØP VALUTA")
REQUIRED = ("id", "transaksjonstype", "beløp")


def _named_columns(header: list[str]) -> list[str]:
    """Header keys, each `Valuta` named after the column before it ("valuta:beløp")."""
    names: list[str] = []
    single_currency = sum(1 for h in header if header_key(h) == "valuta") == 1
    for cell in header:
        key = header_key(cell)
        if key == "valuta" and names and not single_currency:
            key = f"valuta:{names[-1]}"
        names.append(key)
    return names


class NordnetFormat:
    """The Nordnet export, both layouts, in any of the encodings and separators it comes in."""

    key = "nordnet"
    label = "Nordnet"

    def sniff(self, content: bytes) -> int:
        """100 for a header with Nordnet's Id, Transaksjonstype and a day column."""
        text, _encoding = decode_text(content[:8192])
        header = first_line(text)
        keys = {header_key(h) for h in header.split(delimiter_of(header))}
        if {"id", "transaksjonstype"} <= keys and keys & {"bokføringsdag", "handelsdag"}:
            return 100
        return 0

    def parse(self, content: bytes) -> ParsedFile:
        """Rows of transaction data, in file order, with cancellations and SKATT rows resolved."""
        text, encoding = decode_text(content)
        header_line = first_line(text)
        delimiter = delimiter_of(header_line)
        rows = csv_rows(text, delimiter)
        names = _named_columns(rows[0]) if rows else []
        layout = _("30 columns") if "portefølje" in names else _("older layout without Portefølje")
        parsed = ParsedFile(
            f"Nordnet ({layout}; {encoding}, {DELIMITER_NAMES.get(delimiter, delimiter)})"
        )
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            parsed.errors.append(
                (1, _("Columns missing: %(names)s.") % {"names": ", ".join(missing)})
            )
            return parsed
        records: list[tuple[int, dict[str, str]]] = []
        for line, cells in enumerate(rows[1:], start=2):
            if not any(c.strip() for c in cells):
                continue
            records.append((line, dict(zip(names, (c.strip() for c in cells), strict=False))))
        _saldo_check(records, parsed)
        kept = _drop_cancelled(records, parsed)
        for line, values in kept:
            try:
                row = _row(line, values, parsed)
            except ValueProblem as exc:
                parsed.errors.append((line, str(exc)))
                continue
            if row is not None:
                parsed.rows.append(row)
        _merge_withholding_tax(parsed)
        return parsed


NORDNET = NordnetFormat()


def _number(values: dict[str, str], name: str) -> Decimal | None:
    try:
        return parse_decimal(values.get(name, ""))
    except ValueProblem as exc:
        raise ValueProblem(f"{name.capitalize()}: {exc}") from None


def _currency(values: dict[str, str], column: str) -> str:
    """The currency of a column: its own Valuta column, else the file's single one, else NOK."""
    return (values.get(f"valuta:{column}") or values.get("valuta") or NOK).upper()


def _ref(values: dict[str, str]) -> str:
    return f"nordnet:{values.get('portefølje', '')}:{values.get('id', '')}"


def _saldo_check(records: list[tuple[int, dict[str, str]]], parsed: ParsedFile) -> None:
    """Within one portfolio and currency, each row's Saldo is the previous row's Saldo plus its
    Beløp (flexable777/nordnet-fiken-import); a gap means rows are missing or were edited. Each
    gap is a warning and a SaldoGap with the rows around it."""
    groups: dict[tuple[str, str], list[tuple[Any, int, int, Decimal, Decimal, dict[str, str]]]]
    groups = defaultdict(list)
    for line, values in records:
        try:
            amount, saldo = _number(values, "beløp"), _number(values, "saldo")
            day = parse_date(values.get("bokføringsdag") or values.get("handelsdag", ""))
        except ValueProblem:
            continue
        if amount is None or saldo is None or day is None:
            continue
        ident = values.get("id", "")
        order = int(ident) if ident.isdigit() else line
        key = (values.get("portefølje", ""), _currency(values, "beløp"))
        groups[key].append((day, order, line, amount, saldo, values))
    for entries in groups.values():
        entries.sort(key=lambda e: e[:3])
        for index in range(1, len(entries)):
            before, after = entries[index - 1], entries[index]
            expected = before[4] + after[3]
            if expected == after[4]:
                continue
            warning = _(
                "The balance (Saldo) does not follow from line %(line)s: expected "
                "%(expected)s, the file says %(saldo)s. Rows may be missing."
            ) % {"line": before[2], "expected": expected, "saldo": after[4]}
            parsed.warnings.append((after[2], warning))
            around = [
                {
                    "line": str(e[2]),
                    "date": e[0].isoformat(),
                    "type": e[5].get("transaksjonstype", ""),
                    "instrument": e[5].get("verdipapir", ""),
                    "amount": format(e[3], "f"),
                    "saldo": format(e[4], "f"),
                }
                for e in entries[max(0, index - 2) : index + 2]
            ]
            parsed.saldo_gaps.append(SaldoGap(after[2], warning, format(expected, "f"), around))


def _drop_cancelled(
    records: list[tuple[int, dict[str, str]]], parsed: ParsedFile
) -> list[tuple[int, dict[str, str]]]:
    """The records without cancelled rows and the rows they cancel (see the module docstring)."""

    def signature(values: dict[str, str]) -> tuple[str, ...]:
        amount = (values.get("beløp", "")).lstrip("-−")
        quantity = (values.get("antall", "")).lstrip("-−")
        return (
            values.get("portefølje", ""),
            values.get("transaksjonstype", "").upper(),
            values.get("isin", "") or values.get("verdipapir", ""),
            quantity,
            amount,
        )

    def negative(values: dict[str, str]) -> bool:
        return values.get("beløp", "").startswith(("-", "−"))

    dropped: set[int] = set()
    for line, values in records:
        if not values.get("makuleringsdato") or line in dropped:
            continue
        dropped.add(line)
        partner = next(
            (
                (other_line, other)
                for other_line, other in records
                if other_line not in dropped
                and not other.get("makuleringsdato")
                and signature(other) == signature(values)
                and negative(other) != negative(values)
            ),
            None,
        )
        parsed.cancelled_refs.append(_ref(values))
        if partner is None:
            parsed.cancelled += 1
            parsed.warnings.append(
                (
                    line,
                    _("Id %(id)s was cancelled on %(date)s: not imported.")
                    % {"id": values.get("id", ""), "date": values["makuleringsdato"]},
                )
            )
            continue
        dropped.add(partner[0])
        parsed.cancelled += 2
        parsed.cancelled_refs.append(_ref(partner[1]))
        parsed.warnings.append(
            (
                line,
                _(
                    "Id %(id)s (cancelled on %(date)s) and Id %(other)s cancel each other out: "
                    "neither is imported."
                )
                % {
                    "id": values.get("id", ""),
                    "date": values["makuleringsdato"],
                    "other": partner[1].get("id", ""),
                },
            )
        )
    return [(line, values) for line, values in records if line not in dropped]


def _kind(type_text: str, amount: Decimal) -> str:
    """Our kind for a Nordnet type and the sign of its Beløp; '' when unknown."""
    mapped = TYPES.get(type_text)
    if mapped is None and "SKATT" in type_text:
        mapped = Kind.WITHHOLDING_TAX
    if mapped is None and "RENTE" in type_text:
        mapped = "interest_by_sign"
    if mapped == "cash":
        return Kind.CASH_DEPOSIT if amount > 0 else Kind.CASH_WITHDRAWAL
    if mapped == "interest_by_sign":
        # Interest paid (debit interest) is a finance cost: posted to the fees account.
        return Kind.INTEREST if amount > 0 else Kind.FEE
    if mapped == "fee_by_sign":
        return FEE_REFUND if amount > 0 else Kind.FEE
    return mapped or ""


def _to_nok(value: Decimal, currency: str, fx: Decimal | None) -> Decimal:
    if currency == NOK:
        return value
    if not fx:
        raise ValueProblem(
            _("An amount in %(currency)s without an FX rate (Vekslingskurs).")
            % {"currency": currency}
        )
    return q2(value * fx)


def _fees(values: dict[str, str]) -> tuple[Decimal, str]:
    """The row's fees as the file states them, positive, and their currency (Totale Avgifter,
    else Avgifter in the older layout, else Kurtasje; each in its own Valuta)."""
    fees_column = "totale avgifter" if "totale avgifter" in values else "avgifter"
    fees_raw = _number(values, fees_column)
    fees_currency = _currency(values, fees_column)
    if not fees_raw:
        fees_raw, fees_currency = _number(values, "kurtasje"), _currency(values, "kurtasje")
    return abs(fees_raw or Decimal(0)), fees_currency


def _cash_and_fees(
    values: dict[str, str], amount: Decimal, cash_currency: str, fx: Decimal | None
) -> tuple[Decimal, Decimal]:
    """The cash the row moved and its fees, both in NOK and positive."""
    fees_raw, fees_currency = _fees(values)
    cash = abs(_to_nok(amount, cash_currency, fx))
    return cash, abs(_to_nok(fees_raw, fees_currency, fx))


def _amount_currency(
    kind: str,
    currency: str,
    values: dict[str, str],
    cash_currency: str,
    amount: Decimal,
    cash: Decimal,
    fx: Decimal | None,
) -> Decimal | None:
    """The trade's amount in its own currency, the counterpart of the NOK `amount` (before fees
    for a purchase, before fees deducted for a sale or income): Antall × Kurs for a trade or
    dividend, else the cash the row moved in that currency (or its NOK at the rate) with the fees
    in that currency put back the same way; None for NOK."""
    if currency == NOK:
        return None
    quantity, price = _number(values, "antall"), _number(values, "kurs")
    if quantity and price and kind in (Kind.PURCHASE, Kind.SALE, Kind.DIVIDEND):
        return q2(abs(quantity) * price)
    if cash_currency == currency:
        moved = abs(amount)
    elif fx:
        moved = q2(cash / fx)
    else:
        return None
    fees_raw, fees_currency = _fees(values)
    if fees_currency == currency:
        fees = fees_raw
    elif fx and fees_raw:
        fees = q2(_to_nok(fees_raw, fees_currency, fx) / fx)
    else:
        fees = Decimal(0)
    if kind == Kind.PURCHASE:
        return moved - fees
    if kind in (Kind.SALE, Kind.DIVIDEND, Kind.INTEREST):
        return moved + fees
    return moved


def _row(line: int, values: dict[str, str], parsed: ParsedFile) -> ParsedRow | None:
    type_text = " ".join(values.get("transaksjonstype", "").upper().split())
    amount = _number(values, "beløp") or Decimal(0)
    if type_text in MANUAL_TYPES:
        parsed.manual_types[type_text] += 1
        return None
    kind = _kind(type_text, amount)
    if not kind:
        parsed.unknown_types[type_text or "—"] += 1
        return None
    fx = _number(values, "vekslingskurs")
    cash_currency = _currency(values, "beløp")
    cash, fees = _cash_and_fees(values, amount, cash_currency, fx)
    quantity, price = _number(values, "antall"), _number(values, "kurs")
    # Beløp is the cash moved: a purchase's cost is before its fees, proceeds and income after.
    gross_by_kind: dict[str, Decimal] = {
        Kind.PURCHASE: cash - fees,
        Kind.SALE: cash + fees,
        Kind.DIVIDEND: cash + fees,
        Kind.INTEREST: cash + fees,
    }
    gross = gross_by_kind.get(kind, cash)
    instrument_currency = _currency(values, "kjøpsverdi")
    currency = instrument_currency if instrument_currency != NOK else cash_currency
    amount_currency = _amount_currency(kind, currency, values, cash_currency, amount, cash, fx)
    trade_date = parse_date(values.get("handelsdag", "")) or parse_date(
        values.get("bokføringsdag", "")
    )
    settlement = parse_date(values.get("oppgjørsdag", ""))
    if settlement and trade_date and settlement < trade_date:
        settlement = None
    instrument = values.get("verdipapir", "")
    securities = kind in (Kind.PURCHASE, Kind.SALE, Kind.DIVIDEND)
    text = " ".join(p for p in (type_text.capitalize(), values.get("transaksjonstekst", "")) if p)
    data: dict[str, Any] = {
        "kind": kind,
        "trade_date": trade_date,
        "settlement_date": settlement,
        "instrument_name": instrument,
        "isin": values.get("isin", "").upper(),
        "quantity": abs(quantity) if quantity is not None and securities else None,
        "price": price if securities else None,
        "amount": gross,
        "fees": fees if kind != Kind.FEE else Decimal("0.00"),
        "currency": currency,
        "amount_currency": amount_currency,
        # Our own types keep the standard voucher text; the broker's wording where ours is a
        # mapping (debit interest as a fee, a platform fee, a deposit's text).
        "description": "" if securities else text[:200],
        "settle_via": Transaction.SettleVia.BANK,
        "note": _("Nordnet %(type)s, Id %(id)s") % {"type": type_text, "id": values.get("id")},
    }
    if kind == Kind.FEE:
        data["amount"] = cash
    return ParsedRow(
        line=line,
        source_type=type_text,
        kind=kind,
        data=data,
        broker_ref=_ref(values),
        account_number=values.get("portefølje", ""),
        fx_rate=fx if currency != NOK else None,
        contract_note_number=values.get("sluttseddelnummer", "")[:40],
    )


def _merge_withholding_tax(parsed: ParsedFile) -> None:
    """A withholding-tax row joins the dividend of the same portfolio, instrument and day, so the
    two become one voucher with both lines; an unmatched one stays a transaction of its own."""
    dividends: dict[tuple[str, str, Any], ParsedRow] = {}
    for row in parsed.rows:
        if row.kind == Kind.DIVIDEND:
            key = (
                row.account_number,
                row.data["isin"] or row.data["instrument_name"],
                row.data["trade_date"],
            )
            dividends.setdefault(key, row)
    kept: list[ParsedRow] = []
    for row in parsed.rows:
        if row.kind == Kind.WITHHOLDING_TAX:
            key = (
                row.account_number,
                row.data["isin"] or row.data["instrument_name"],
                row.data["trade_date"],
            )
            dividend = dividends.get(key)
            if dividend is not None and not dividend.broker_ref_other:
                dividend.tax_withheld += row.data["amount"]
                dividend.broker_ref_other = row.broker_ref
                continue
        kept.append(row)
    parsed.rows = kept

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
  ERSTATNING (a compensation paid in: the cash leg is known, the account it is income on is
  chosen by a person in the inbox; ledger/imports/compensation.py), and SALG VALUTA + KJØP VALUTA
  (below); any other type is listed as unknown with its count.
* Currency accounts and exchanges. Verified (nordnet.no Kundeservice, "Valuta og veksling /
  Valutakonto", and its FAQ "Hva er viktig å vite om valutakonto?"): a Nordnet account can hold
  currency accounts in NOK, SEK, DKK, EUR, USD and CAD; with a USD currency account active, US
  trades settle from the USD balance (which may go negative); the NOK account cannot be closed;
  the customer exchanges between currency accounts himself ("Valutaveksling"). nordnet.dk's
  page on the same accounts says the cost of such an exchange is a spread in the rate (0,15 %),
  and that the exact rate is shown afterwards under "transaktioner og notaer": so usually no fee
  of its own. Our assumptions (*unverified* against a real export): an exchange is exported as
  two rows, SALG VALUTA and KJØP VALUTA, one in each currency account, same portfolio and day;
  in a currency account `Beløp` is in that currency (the Valuta after it) and `Vekslingskurs` is
  NOK per unit of it, as for the other rows. Pairing: a leg whose money leaves its account
  (`Beløp` < 0) pairs with the first leg, in file order, of the other type whose money comes in,
  of the same portfolio and booking day and another currency — by the signs, so the pair is
  found whichever of the two types Nordnet puts on which side. The pair is one row of ours (the
  leaving leg's id, the other kept as the second id, so both dedupe): the NOK value is the NOK
  leg's `Beløp` when one leg is NOK, else the leaving leg's `Beløp` at its `Vekslingskurs`; a
  fee either row shows (Totale Avgifter, else Kurtasje) is in NOK at its row's rate, and the leg
  receiving gets the NOK value less it. A leg without a partner is a row whose problem says so
  (never guessed). What it is booked as is ledger/imports/service.py's (between two broker
  accounts, a fee, or nothing to book).
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
    COMPENSATION,
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
# The two legs of an exchange between a portfolio's currency accounts (Valutaveksling).
EXCHANGE_TYPES = ("SALG VALUTA", "KJØP VALUTA")
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
        legs = [(line, v) for line, v in kept if _type_of(v) in EXCHANGE_TYPES]
        kept = [(line, v) for line, v in kept if _type_of(v) not in EXCHANGE_TYPES]
        _exchange_rows(legs, parsed)
        for line, values in kept:
            try:
                row = _row(line, values, parsed)
            except ValueProblem as exc:
                parsed.errors.append((line, str(exc)))
                continue
            if row is not None:
                parsed.rows.append(row)
        _merge_withholding_tax(parsed)
        parsed.rows.sort(key=lambda r: r.line)
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


def _type_of(values: dict[str, str]) -> str:
    """The row's Transaksjonstype, upper case, single-spaced."""
    return " ".join(values.get("transaksjonstype", "").upper().split())


def _note(type_text: str, values: dict[str, str]) -> str:
    """A row's note: which Nordnet type and Id it came from."""
    return _("Nordnet %(type)s, Id %(id)s") % {"type": type_text, "id": values.get("id")}


def _row(line: int, values: dict[str, str], parsed: ParsedFile) -> ParsedRow | None:
    type_text = _type_of(values)
    amount = _number(values, "beløp") or Decimal(0)
    if type_text == "ERSTATNING":
        return _compensation_row(line, values, type_text, amount)
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
        "note": _note(type_text, values),
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
        cash_currency=cash_currency,
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


def _leg(line: int, values: dict[str, str], parsed: ParsedFile) -> dict[str, Any] | None:
    """One SALG VALUTA / KJØP VALUTA row read for pairing (None when it cannot be read: its
    problem is among the file's errors)."""
    try:
        amount = _number(values, "beløp")
        fx = _number(values, "vekslingskurs")
        day = parse_date(values.get("bokføringsdag") or values.get("handelsdag", ""))
        fees, fees_currency = _fees(values)
    except ValueProblem as exc:
        parsed.errors.append((line, str(exc)))
        return None
    if not amount or day is None:
        parsed.errors.append((line, _("A currency exchange row needs its date and its amount.")))
        return None
    return {
        "line": line,
        "values": values,
        "type": _type_of(values),
        "amount": amount,
        "currency": _currency(values, "beløp"),
        "fx": fx,
        "day": day,
        "fees": fees,
        "fees_currency": fees_currency,
        "portfolio": values.get("portefølje", ""),
    }


def _exchange_rows(legs: list[tuple[int, dict[str, str]]], parsed: ParsedFile) -> None:
    """Each pair of a currency exchange's rows as one row of the file (see the module docstring
    for how they pair); a leg without its partner is a row whose problem says so."""
    read = [leg for line, values in legs if (leg := _leg(line, values, parsed)) is not None]
    out_legs = [leg for leg in read if leg["amount"] < 0]
    in_legs = [leg for leg in read if leg["amount"] > 0]
    taken: set[int] = set()
    for out in out_legs:
        partner = next(
            (
                leg
                for leg in in_legs
                if leg["line"] not in taken
                and (leg["portfolio"], leg["day"]) == (out["portfolio"], out["day"])
                and leg["currency"] != out["currency"]
                and leg["type"] != out["type"]
            ),
            None,
        )
        if partner is None:
            continue
        taken.update((out["line"], partner["line"]))
        try:
            parsed.rows.append(_exchange_row(out, partner))
        except ValueProblem as exc:
            parsed.errors.append((out["line"], str(exc)))
    for leg in read:
        if leg["line"] not in taken:
            parsed.rows.append(_unpaired_row(leg))


def _exchange_row(out: dict[str, Any], into: dict[str, Any]) -> ParsedRow:
    """A paired exchange: `out` the row whose money left its currency account, `into` the row
    whose money came in. Amounts in NOK: the NOK leg's Beløp when one leg is NOK (the other
    leg's NOK value is that less, or plus, the fees), else the sold leg's Beløp at its
    Vekslingskurs (our assumption: NOK per unit, as for every other row of a currency account);
    a fee on either row (Totale Avgifter, else Kurtasje) in NOK at its row's rate."""
    sold, bought = out["currency"], into["currency"]
    sold_amount, bought_amount = -out["amount"], into["amount"]
    fees = _to_nok(out["fees"], out["fees_currency"], out["fx"]) + _to_nok(
        into["fees"], into["fees_currency"], into["fx"]
    )
    if bought == NOK:
        received = bought_amount
    elif sold == NOK:
        received = sold_amount - fees
    elif out["fx"]:
        received = _to_nok(sold_amount, sold, out["fx"]) - fees
    else:
        received = _to_nok(bought_amount, bought, into["fx"])
    if received <= 0:
        raise ValueProblem(_("The currency exchange's fees are not less than its amount."))
    values = out["values"]
    settlement = parse_date(values.get("oppgjørsdag", ""))
    data: dict[str, Any] = {
        "kind": Kind.CURRENCY_EXCHANGE,
        "trade_date": out["day"],
        "settlement_date": settlement if settlement and settlement >= out["day"] else None,
        "description": "",
        "instrument_name": "",
        "isin": "",
        "quantity": None,
        "price": None,
        "amount": received,
        "fees": fees,
        "currency": sold,
        "amount_currency": sold_amount if sold != NOK else None,
        "to_currency": bought,
        "to_amount_currency": bought_amount if bought != NOK else None,
        "settle_via": Transaction.SettleVia.BANK,
        "note": _("Nordnet %(type)s, Id %(id)s and %(other)s")
        % {
            "type": f"{out['type']} + {into['type']}",
            "id": values.get("id"),
            "other": into["values"].get("id"),
        },
    }
    fx = into["fx"] if bought != NOK else out["fx"]
    return ParsedRow(
        line=out["line"],
        source_type=f"{out['type']} + {into['type']}",
        kind=Kind.CURRENCY_EXCHANGE,
        data=data,
        broker_ref=_ref(values),
        broker_ref_other=_ref(into["values"]),
        account_number=out["portfolio"],
        fx_rate=fx if (sold, bought) != (NOK, NOK) else None,
        contract_note_number=values.get("sluttseddelnummer", "")[:40],
        cash_currency=sold,
    )


def _unpaired_row(leg: dict[str, Any]) -> ParsedRow:
    """A currency exchange row without its other leg in the file: kept as a row whose problem
    (`exchange_problem`, read by ledger/imports/service.py row_prepare) says so, never guessed."""
    values = leg["values"]
    problem = _(
        "%(type)s Id %(id)s has no matching leg in the file (the opposite row of the same "
        "portfolio and day in another currency): export the whole day, or leave the row out."
    ) % {"type": leg["type"], "id": values.get("id", "")}
    data: dict[str, Any] = {
        "kind": Kind.CURRENCY_EXCHANGE,
        "trade_date": leg["day"],
        "description": "",
        "instrument_name": "",
        "isin": "",
        "amount": abs(leg["amount"]),
        "fees": Decimal("0.00"),
        "currency": leg["currency"],
        "amount_currency": abs(leg["amount"]) if leg["currency"] != NOK else None,
        "to_currency": "",
        "to_amount_currency": None,
        "settle_via": Transaction.SettleVia.BANK,
        "note": _note(leg["type"], values),
        "exchange_problem": problem,
    }
    return ParsedRow(
        line=leg["line"],
        source_type=leg["type"],
        kind=Kind.CURRENCY_EXCHANGE,
        data=data,
        broker_ref=_ref(values),
        account_number=leg["portfolio"],
        fx_rate=leg["fx"] if leg["currency"] != NOK else None,
        cash_currency=leg["currency"],
    )


def _compensation_row(
    line: int, values: dict[str, str], type_text: str, amount: Decimal
) -> ParsedRow:
    """ERSTATNING: money the broker paid into the account as a compensation. The cash leg is
    known (the broker account's cash up by Beløp, in NOK at Vekslingskurs in a currency account);
    what the money is income on is not in the file, so `counter_account` is left for a person to
    choose in the inbox (ledger/imports/compensation.py). A row whose money goes out is not what
    the name says: its problem says so (`compensation_problem`), nothing is guessed."""
    fx = _number(values, "vekslingskurs")
    cash_currency = _currency(values, "beløp")
    text = " ".join(p for p in (type_text.capitalize(), values.get("transaksjonstekst", "")) if p)
    data: dict[str, Any] = {
        "kind": COMPENSATION,
        "trade_date": parse_date(values.get("bokføringsdag") or values.get("handelsdag", "")),
        "description": text[:200],
        "amount": abs(_to_nok(amount, cash_currency, fx)),
        "currency": cash_currency,
        "note": _note(type_text, values),
        "counter_account": None,
    }
    if amount <= 0:
        data["compensation_problem"] = _(
            "ERSTATNING Id %(id)s takes money out of the account (Beløp %(amount)s): a "
            "compensation pays money in. Record it by hand, or leave the row out."
        ) % {"id": values.get("id", ""), "amount": values.get("beløp", "")}
    return ParsedRow(
        line=line,
        source_type=type_text,
        kind=COMPENSATION,
        data=data,
        broker_ref=_ref(values),
        account_number=values.get("portefølje", ""),
        cash_currency=cash_currency,
    )

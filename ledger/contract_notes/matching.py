"""Which transaction a contract note belongs to, from what its text and its file name say.

First by the contract-note number (Nordnet's `Sluttseddelnummer`, stored on the transaction by
the broker import): a number printed next to its label in the PDF, else a run of digits in the
file name. Else by the details: a date in the note that is the transaction's trade date, the
instrument (its ISIN, or its name in the text) and an amount (the transaction's amount, or the
amount with the fees added or taken off, as a note shows what was paid or received). A note
that fits no transaction, or more than one, is left for a person to assign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from stdnum import isin as isin_number

from companies.models import Company
from ledger.models import ContractNote, Transaction

# "Sluttseddelnummer: 123", "Sluttseddel nr. 123", "Notanummer 123", "Contract note no. 123";
# the number itself must hold a digit.
_LABELLED = re.compile(
    r"(?:sluttseddel\s*(?:nummer|nr\.?|no\.?)|nota\s*(?:nummer|nr\.?)|"
    r"contract\s+note\s*(?:number|no\.?|nr\.?))\s*[:#]?\s*((?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{2,39})",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"\d{5,40}")
_DATE_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DATE_COMPACT = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_ISIN = re.compile(r"\b[A-Z]{2}[A-Z0-9]{9}\d\b")
# 25 049,00 · 25.049,00 · 25049,00 (Norwegian), and 25049.00 (a file name, an English note).
_AMOUNT_COMMA = re.compile(r"(?<![\d,.])\d{1,3}(?:[ \u00a0.]\d{3})*,\d{2}(?!\d)|\d+,\d{2}(?!\d)")
_AMOUNT_DOT = re.compile(r"(?<![\d,.])\d+\.\d{2}(?![\d,.])")


@dataclass(frozen=True)
class NoteFacts:
    """What a note says that can match a transaction."""

    numbers: tuple[str, ...]
    dates: frozenset[date]
    isins: frozenset[str]
    amounts: frozenset[Decimal]
    text: str  # casefolded, for instrument names


@dataclass
class Match:
    """The transaction a note belongs to (None: a person must choose) and how it was found;
    `candidates` are the transactions that nearly fit, to offer when none or several did."""

    transaction: Transaction | None
    how: str = ""
    candidates: list[Transaction] = field(default_factory=list)


def note_facts(*, text: str, file_name: str) -> NoteFacts:
    """The number, dates, ISINs and amounts a note's text and file name show."""
    stem = PurePath(file_name).stem
    labelled = _LABELLED.findall(text)
    numbers = labelled or _DIGIT_RUN.findall(stem)
    both = f"{text}\n{stem.replace('_', ' ')}"
    return NoteFacts(
        numbers=tuple(dict.fromkeys(numbers)),
        dates=frozenset(_dates(both) | _compact_dates(stem)),
        isins=frozenset(c for c in _ISIN.findall(both.upper()) if isin_number.is_valid(c)),
        amounts=frozenset(_amounts(both)),
        text=" ".join(text.casefold().split()),
    )


def note_match(*, company: Company, facts: NoteFacts) -> Match:
    """The transaction the note belongs to, by number first, else by date, instrument and amount."""
    rows = Transaction.objects.filter(company=company).exclude(kind=Transaction.Kind.JOURNAL)
    if facts.numbers:
        wanted = set(facts.numbers) | {n.lstrip("0") for n in facts.numbers if n.lstrip("0")}
        by_number = list(rows.filter(contract_note_number__in=wanted).order_by("trade_date", "pk"))
        if len(by_number) == 1:
            return Match(by_number[0], ContractNote.Match.NUMBER)
        if by_number:
            return Match(None, candidates=by_number)
    if not facts.dates:
        return Match(None)
    same_day = list(rows.filter(trade_date__in=facts.dates).order_by("trade_date", "pk"))
    instrument = [t for t in same_day if _same_instrument(t, facts)]
    fits = [t for t in instrument if _amount_fits(t, facts.amounts)]
    if len(fits) > 1:
        # Two trades alike on one day: the one still without a note, if only one is.
        free = [t for t in fits if not t.contract_notes.exists()]
        if len(free) == 1:
            return Match(free[0], ContractNote.Match.DETAILS)
        return Match(None, candidates=fits)
    if fits:
        return Match(fits[0], ContractNote.Match.DETAILS)
    return Match(None, candidates=instrument)


def _same_instrument(txn: Transaction, facts: NoteFacts) -> bool:
    if txn.isin and facts.isins:
        return txn.isin.upper() in facts.isins
    name = " ".join(txn.instrument_name.casefold().split())
    return bool(name) and name in facts.text


def _amount_fits(txn: Transaction, amounts: frozenset[Decimal]) -> bool:
    if txn.amount is None:
        return False
    fees = txn.fees or Decimal("0")
    shown = {abs(txn.amount), abs(txn.amount) + fees, abs(txn.amount) - fees}
    if txn.amount_currency is not None:
        shown.add(abs(txn.amount_currency))
    return bool(shown & amounts)


def _day(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _dates(text: str) -> set[date]:
    found = {_day(y, m, d) for d, m, y in _DATE_DOTTED.findall(text)}
    found |= {_day(y, m, d) for y, m, d in _DATE_ISO.findall(text)}
    return {d for d in found if d is not None}


def _compact_dates(stem: str) -> set[date]:
    found = {_day(y, m, d) for y, m, d in _DATE_COMPACT.findall(stem)}
    return {d for d in found if d is not None}


def _amounts(text: str) -> set[Decimal]:
    out: set[Decimal] = set()
    for raw in _AMOUNT_COMMA.findall(text):
        digits = raw.replace(" ", "").replace("\u00a0", "").replace(".", "").replace(",", ".")
        out |= _decimal(digits)
    for raw in _AMOUNT_DOT.findall(text):
        out |= _decimal(raw)
    return out


def _decimal(text: str) -> set[Decimal]:
    try:
        return {Decimal(text)}
    except InvalidOperation:
        return set()

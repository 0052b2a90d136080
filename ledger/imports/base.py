"""The one small interface every broker file format implements, and what they share.

A format is a module with an object that has a `key`, a `label`, `sniff(content) -> int` (0: not
this format; higher: surer) and `parse(content) -> ParsedFile`. ledger/imports/registry.py lists
them and picks the format that is surest from the file's content alone (encoding, separator,
header), never from its name; a new broker is one new module added to that list.

`parse` does not touch the database: it turns the file into rows of transaction data (the fields
`ledger.transactions.services.transaction_create` takes, amounts in NOK, plus what the broker
adds: its own id, the account number, the FX rate), warnings and the types it does not know.
ledger/imports/service.py resolves broker accounts, dedupes on the broker's id and saves.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")

# Kinds the importers produce besides Transaction.Kind: a refund of fees (posted as a journal
# entry from the broker account's cash to the fees account, built by the service), and a
# compensation paid into the account (Nordnet ERSTATNING: a journal entry from the broker
# account's cash to an account a person chooses in the inbox; ledger/imports/compensation.py).
FEE_REFUND = "fee_refund"
COMPENSATION = "compensation"
IMPORT_KIND_LABELS = {FEE_REFUND: _("Refund of fees"), COMPENSATION: _("Compensation")}


def q2(value: Decimal) -> Decimal:
    """Rounded to øre, half up (as a contract note rounds)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class ParsedRow:
    """One row of a broker file as a transaction to be: `data` holds transaction_create's fields."""

    line: int
    source_type: str
    kind: str
    data: dict[str, Any]
    broker_ref: str = ""
    account_number: str = ""
    fx_rate: Decimal | None = None
    tax_withheld: Decimal = Decimal("0.00")
    broker_ref_other: str = ""
    contract_note_number: str = ""
    # The broker's own identification of an instrument without an ISIN (DNB: ticker and MIC).
    instrument_ref: str = ""
    # The currency of the cash the row moved (Nordnet: the Valuta after Beløp; '' when the file
    # does not say): which of a portfolio's currency accounts it belongs to.
    cash_currency: str = ""


@dataclass
class SaldoGap:
    """A break in a portfolio's running balance (Saldo): the warning, and the file's rows around
    it (the two before, the row whose Saldo does not follow, the one after), each as
    {line, date, type, instrument, amount, saldo} in text, so the inbox can show them as they are."""

    line: int
    warning: str
    expected: str
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ParsedFile:
    """What a format made of a file: rows, per-line warnings and errors, and unknown types."""

    format_label: str
    rows: list[ParsedRow] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    unknown_types: Counter[str] = field(default_factory=Counter)
    # Types we know but do not import (listed with their count, like unknown ones).
    manual_types: Counter[str] = field(default_factory=Counter)
    cancelled: int = 0
    # Broker refs of rows left out because they cancel out (counted, never imported).
    cancelled_refs: list[str] = field(default_factory=list)
    # The Saldo check's gaps (each also among `warnings`), with the rows around each.
    saldo_gaps: list[SaldoGap] = field(default_factory=list)


class BrokerFormat(Protocol):
    """A broker file format (see the module docstring)."""

    key: str
    label: str

    def sniff(self, content: bytes) -> int:
        """0 when the content is not this format; higher the surer."""
        ...

    def parse(self, content: bytes) -> ParsedFile:
        """The file's rows; never raises for bad content (problems go into errors)."""
        ...


def decode_text(content: bytes) -> tuple[str, str]:
    """(text, encoding name) of a text file: a byte-order mark decides (UTF-16 LE/BE, UTF-8);
    without one, UTF-16 LE is recognised by its NUL high bytes, then UTF-8, then Windows-1252 (as
    Excel saves a re-saved Nordnet file)."""
    if content.startswith(b"\xff\xfe"):
        return content[2:].decode("utf-16-le", errors="replace"), "UTF-16"
    if content.startswith(b"\xfe\xff"):
        return content[2:].decode("utf-16-be", errors="replace"), "UTF-16"
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace"), "UTF-8"
    head = content[:200]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and not head[0::2].count(0):
        return content.decode("utf-16-le", errors="replace"), "UTF-16"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace"), "Windows-1252"


DELIMITER_NAMES = {"\t": "TAB", ";": "semicolon", ",": "comma"}


def first_line(text: str) -> str:
    """The text's first line ('' when empty)."""
    return text.split("\n", 1)[0].rstrip("\r") if text else ""


def delimiter_of(header: str) -> str:
    """The separator the header line uses most: TAB, semicolon or comma."""
    return max(("\t", ";", ","), key=header.count)


def csv_rows(text: str, delimiter: str) -> list[list[str]]:
    """Every row of delimited text (lenient quoting: broker files quote little or nothing)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def header_key(name: str) -> str:
    """A header cell as a key: BOM and spaces stripped, case folded."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()

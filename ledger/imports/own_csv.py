"""Our own CSV layout (README "Importing transactions from CSV"), found by the same detection as
the broker files: its header names `type` and a trade-date column. Parsing and saving stay in
ledger/transactions/csv_import.py (all or nothing, line numbers, journal entries); this module only
recognises the file and gives that import the registry's interface."""

from __future__ import annotations

from ledger.imports.base import ParsedFile, decode_text, delimiter_of, first_line, header_key
from ledger.transactions.csv_import import COLUMNS


class OwnCsvFormat:
    """Dynamik's own CSV layout."""

    key = "csv"
    label = "Dynamik CSV"

    def sniff(self, content: bytes) -> int:
        """50 for a header whose columns name the type and the trade date (Nordnet's header has
        neither, so the two never compete)."""
        text, _encoding = decode_text(content[:8192])
        header = first_line(text)
        fields = {COLUMNS.get(header_key(h)) for h in header.split(delimiter_of(header))}
        return 50 if {"kind", "trade_date"} <= fields else 0

    def parse(self, content: bytes) -> ParsedFile:
        """Only the label: csv_import.transactions_import parses and saves this layout itself."""
        return ParsedFile(self.label)


OWN_CSV = OwnCsvFormat()

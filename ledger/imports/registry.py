"""The broker file formats we read, and the one rule that picks a file's format from its content.

A new broker is one new module with a BrokerFormat (ledger/imports/base.py) added to FORMATS."""

from __future__ import annotations

from ledger.imports.base import BrokerFormat
from ledger.imports.dnb import DNB
from ledger.imports.nordnet import NORDNET
from ledger.imports.own_csv import OWN_CSV

FORMATS: tuple[BrokerFormat, ...] = (NORDNET, DNB, OWN_CSV)


def format_detect(content: bytes) -> BrokerFormat | None:
    """The format surest of the file (highest sniff score above 0), None when none knows it."""
    best: tuple[int, BrokerFormat | None] = (0, None)
    for candidate in FORMATS:
        score = candidate.sniff(content)
        if score > best[0]:
            best = (score, candidate)
    return best[1]

"""Broker test files written from the shared fact sheet (../shared/brokers/README.md): Nordnet's
30-column export (UTF-16 LE with BOM and TAB, or re-saved as UTF-8 with semicolons), its older
22-column layout, and a DNB workbook with five metadata rows before the header. Built in code so
each test states exactly the rows it imports."""

from __future__ import annotations

import io
from datetime import date

HEADER_30 = [
    "Id", "Bokføringsdag", "Handelsdag", "Oppgjørsdag", "Portefølje", "Transaksjonstype",
    "Verdipapir", "ISIN", "Antall", "Kurs", "Rente", "Totale Avgifter", "Valuta", "Beløp",
    "Valuta", "Kjøpsverdi", "Valuta", "Resultat", "Valuta", "Totalt antall", "Saldo",
    "Vekslingskurs", "Transaksjonstekst", "Makuleringsdato", "Sluttseddelnummer",
    "Verifikationsnummer", "Kurtasje", "Valuta", "Valutakurs", "Innledende rente",
]  # fmt: skip
# The older layout: no Portefølje, Instrumenttyp, Avgifter, one Valuta, ends at Sluttseddelnummer.
HEADER_22 = [
    "Id", "Bokføringsdag", "Handelsdag", "Oppgjørsdag", "Transaksjonstype", "Verdipapir",
    "Instrumenttyp", "ISIN", "Antall", "Kurs", "Rente", "Avgifter", "Beløp", "Valuta",
    "Kjøpsverdi", "Resultat", "Totalt antall", "Saldo", "Vekslingskurs", "Transaksjonstekst",
    "Makuleringsdato", "Sluttseddelnummer",
]  # fmt: skip
PORTFOLIO = "12345678"
EQUINOR = ("Equinor ASA", "NO0010096985")
APPLE = ("Apple Inc", "US0378331005")


def row(
    ident: int,
    day: str,
    kind: str,
    amount: str,
    saldo: str,
    *,
    instrument: tuple[str, str] = ("", ""),
    quantity: str = "",
    price: str = "",
    fees: str = "",
    currency: str = "NOK",
    instrument_currency: str = "",
    purchase_value: str = "",
    fx: str = "",
    text: str = "",
    cancelled: str = "",
    note: str = "",
    portfolio: str = PORTFOLIO,
) -> dict[str, str]:
    """One Nordnet row by meaning; the layouts put it in their columns."""
    return {
        "Id": str(ident), "Bokføringsdag": day, "Handelsdag": day, "Oppgjørsdag": day,
        "Portefølje": portfolio, "Transaksjonstype": kind, "Verdipapir": instrument[0],
        "ISIN": instrument[1], "Antall": quantity, "Kurs": price, "fees": fees,
        "fees_currency": "NOK" if fees else "", "Beløp": amount, "currency": currency,
        "Kjøpsverdi": purchase_value,
        "instrument_currency": instrument_currency or (currency if quantity else ""),
        "Saldo": saldo, "Vekslingskurs": fx, "Transaksjonstekst": text,
        "Makuleringsdato": cancelled, "Sluttseddelnummer": note,
    }  # fmt: skip


def _cells_30(r: dict[str, str]) -> list[str]:
    return [
        r["Id"], r["Bokføringsdag"], r["Handelsdag"], r["Oppgjørsdag"], r["Portefølje"],
        r["Transaksjonstype"], r["Verdipapir"], r["ISIN"], r["Antall"], r["Kurs"], "",
        r["fees"], r["fees_currency"], r["Beløp"], r["currency"], r["Kjøpsverdi"],
        r["instrument_currency"], "", "", "", r["Saldo"], r["Vekslingskurs"],
        r["Transaksjonstekst"], r["Makuleringsdato"], r["Sluttseddelnummer"], "", r["fees"],
        r["fees_currency"], "", "",
    ]  # fmt: skip


def _cells_22(r: dict[str, str]) -> list[str]:
    return [
        r["Id"], r["Bokføringsdag"], r["Handelsdag"], r["Oppgjørsdag"], r["Transaksjonstype"],
        r["Verdipapir"], "Aksje" if r["ISIN"] else "", r["ISIN"], r["Antall"], r["Kurs"], "",
        r["fees"], r["Beløp"], r["currency"], r["Kjøpsverdi"], "", "", r["Saldo"],
        r["Vekslingskurs"], r["Transaksjonstekst"], r["Makuleringsdato"],
        r["Sluttseddelnummer"],
    ]  # fmt: skip


def nordnet_30(rows: list[dict[str, str]], *, resaved: bool = False) -> bytes:
    """The current export: UTF-16 LE with BOM and TAB; resaved: UTF-8 with semicolons."""
    sep = ";" if resaved else "\t"
    lines = [sep.join(HEADER_30)] + [sep.join(_cells_30(r)) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    return text.encode("utf-8") if resaved else b"\xff\xfe" + text.encode("utf-16-le")


def nordnet_22(rows: list[dict[str, str]], encoding: str = "cp1252") -> bytes:
    """The older layout: semicolon-separated (here as Windows-1252, as Excel saves it)."""
    lines = [";".join(HEADER_22)] + [";".join(_cells_22(r)) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


DNB_HEADER = [
    "Ticker", "Navn", "Handelsdato", "Handelsretning", "Antall", "Pris", "Totalbeløp", "MIC",
    "Valuta", "Valutakurs", "Transaksjons ID", "Oppgjørsdato", "Totalbeløp (lokal valuta)",
    "Transaksjonsgebyr",
]  # fmt: skip


def dnb_workbook(rows: list[list[object]]) -> bytes:
    """A DNB export: five metadata rows, the header, then the rows (openpyxl)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Transaksjoner"])
    sheet.append(["Konto", "Aksjesparekonto 1234.56.78901"])
    sheet.append(["Periode", "01.01.2026 - 31.12.2026"])
    sheet.append(["Hentet", date(2026, 12, 31)])
    sheet.append([])
    sheet.append(DNB_HEADER)
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# Two rows for the page tests: a deposit and a fee.
ROWS_FOR_PAGE = [
    row(3001, "2026-01-02", "INNSKUDD", "1 000,00", "1 000,00"),
    row(3002, "2026-01-03", "AVGIFT", "-10,00", "990,00"),
]

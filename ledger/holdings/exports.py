"""The holdings page as an XLSX workbook (openpyxl): the positions with their open lots, the
year's realisations split inside and outside the exemption method, and the year's tax summary.

Numbers stay numbers with number formats (amounts in øre, quantities up to 8 decimals, dates as
dates); text is written as string cells so an instrument name such as "=HYPERLINK(...)" is never a
formula (the same rule as ledger/figures/exports.py).
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from ledger.holdings.selectors import Position
from ledger.holdings.summary import TaxYear, tax_lines

AMOUNT_FORMAT = "#,##0.00;[Red]-#,##0.00"
QUANTITY_FORMAT = "#,##0.########"
AVERAGE_FORMAT = "#,##0.0000"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "dd.mm.yyyy"
HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")


def _text(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    cell = sheet.cell(row=row, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", str(text)))
    cell.data_type = "s"
    return cell


def _number(
    sheet: Worksheet, row: int, column: int, value: Decimal | datetime.date, number_format: str
) -> Cell:
    cell = sheet.cell(row=row, column=column, value=value)
    cell.number_format = number_format
    return cell


def _headings(sheet: Worksheet, row: int, headings: list[str]) -> None:
    for column, heading in enumerate(headings, start=1):
        cell = _text(sheet, row, column, heading)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
    for column in range(1, len(headings) + 1):
        sheet.column_dimensions[chr(64 + column)].width = 34 if column == 1 else 16


def _positions_sheet(sheet: Worksheet, title: str, positions: list[Position]) -> None:
    sheet.title = _("Holdings")[:31]
    _text(sheet, 1, 1, title).font = Font(bold=True, size=14)
    _headings(
        sheet,
        3,
        [
            _("Instrument"),
            _("ISIN"),
            _("Acquired"),
            _("Quantity"),
            _("Cost (FIFO)"),
            _("Average cost"),
        ],
    )
    row = 4
    for position in positions:
        _text(sheet, row, 1, position.instrument_name).font = Font(bold=True)
        _text(sheet, row, 2, position.isin)
        _number(sheet, row, 4, position.quantity, QUANTITY_FORMAT)
        _number(sheet, row, 5, position.cost, AMOUNT_FORMAT)
        _number(sheet, row, 6, position.average_cost, AVERAGE_FORMAT)
        row += 1
        for lot in position.lots:
            _text(sheet, row, 1, "  " + _("Lot"))
            _number(sheet, row, 3, lot.acquired, DATE_FORMAT)
            _number(sheet, row, 4, lot.quantity, QUANTITY_FORMAT)
            _number(sheet, row, 5, lot.cost, AMOUNT_FORMAT)
            row += 1
    _text(sheet, row, 1, _("Total")).font = Font(bold=True)
    total = sum((p.cost for p in positions), Decimal("0.00"))
    _number(sheet, row, 5, total, AMOUNT_FORMAT).font = Font(bold=True)
    sheet.freeze_panes = "A4"


def _realised_sheet(sheet: Worksheet, summary: TaxYear) -> None:
    _headings(
        sheet,
        1,
        [
            _("Instrument"),
            _("Date"),
            _("Quantity"),
            _("Proceeds"),
            _("Cost (FIFO)"),
            _("Result"),
            _("Inside the exemption method"),
            _("Outside the exemption method"),
        ],
    )
    row = 2
    for item in summary.realisations:
        sale = item.realisation
        _text(sheet, row, 1, sale.instrument_name)
        _number(sheet, row, 2, sale.trade_date, DATE_FORMAT)
        _number(sheet, row, 3, sale.quantity, QUANTITY_FORMAT)
        for column, amount in enumerate(
            (sale.proceeds, sale.cost, sale.result, item.result_inside, item.result_outside),
            start=4,
        ):
            _number(sheet, row, column, amount, AMOUNT_FORMAT)
        row += 1
    _text(sheet, row, 1, _("Total")).font = Font(bold=True)
    totals = (
        summary.proceeds,
        summary.cost,
        summary.result,
        summary.gains_inside - summary.losses_inside,
        summary.result_outside,
    )
    for column, amount in enumerate(totals, start=4):
        _number(sheet, row, column, amount, AMOUNT_FORMAT).font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _tax_sheet(sheet: Worksheet, summary: TaxYear) -> None:
    _headings(sheet, 1, [_("Item"), _("Amount (NOK)")])
    lines = [(label, amount) for _key, label, amount in tax_lines(summary)]
    for row, (label, amount) in enumerate(lines, start=2):
        _text(sheet, row, 1, label)
        _number(sheet, row, 2, amount, AMOUNT_FORMAT)
    sheet.column_dimensions["A"].width = 52


def holdings_xlsx(*, title: str, positions: list[Position], summary: TaxYear) -> bytes:
    """The workbook: holdings, the year's realisations and its tax summary (bytes)."""
    workbook = Workbook()
    _positions_sheet(workbook.worksheets[0], title, positions)
    _realised_sheet(workbook.create_sheet(_("Realised %(year)s") % {"year": summary.year}), summary)
    _tax_sheet(workbook.create_sheet(_("Tax %(year)s") % {"year": summary.year}), summary)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

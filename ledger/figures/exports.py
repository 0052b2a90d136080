"""The P&L and the balance sheet as XLSX (openpyxl) and CSV.

XLSX: numbers stay numbers (øre precision) with number formats that Excel shows in the reader's
locale — `#,##0` appears as 1 234 in Norwegian Excel — negatives in red with a minus, a heading
block, bold group and total rows and frozen panes below the column headings.

CSV: what Norwegian Excel opens directly: UTF-8 with a byte-order mark, semicolons between fields
and a decimal comma, no thousands separators (so every amount parses as a number).

Formula injection: a company or account name comes from Tripletex or onboarding, so it may read
`=HYPERLINK(...)`. In the workbook every text cell is written as a string cell (openpyxl makes any
string that starts with "=" a formula, and one such as "#N/A" an error, `Cell._bind_value` in
openpyxl 3.1), without the control characters a worksheet cannot hold (openpyxl raises
IllegalCharacterError for them). In the CSV a text that starts with "=", "+", "-", "@", a tab, a
carriage return or NUL gets a leading apostrophe, which spreadsheets take as "this is text" (OWASP
"CSV Injection"; ASVS 5.0 requirement 1.2.10). Amounts are numbers and are never escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ledger.figures.selectors import CUSTOM, ROLLING_12, YTD, BalanceSheet, Cells, Pnl
from ledger.periods import month_end
from ledger.sync.selectors import FiguresStatus

AMOUNT_FORMAT = "#,##0.00;[Red]-#,##0.00"
PERCENT_FORMAT = "0.0%;[Red]-0.0%"
GROUP_FILL = PatternFill("solid", fgColor="EEF1F4")
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="thin"))
# First characters that make a spreadsheet read a CSV field as a formula (see the module docstring).
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


@dataclass
class Row:
    """One exported row: kind is 'group', 'account', 'total' or 'check'."""

    kind: str
    number: int | None
    label: str
    amounts: list[Decimal | None]
    percent: Decimal | None = None


@dataclass
class Table:
    """A report ready to write: title lines, column headings and rows."""

    title: str
    subtitle: list[str]
    headings: list[str]
    rows: list[Row] = field(default_factory=list)
    has_percent: bool = False


def _cells_amounts(cells: Cells) -> list[Decimal | None]:
    return [*cells.months, cells.ytd, cells.compared, cells.variance]


def _pct(cells: Cells) -> Decimal | None:
    pct = cells.variance_pct
    return None if pct is None else pct / 100


def _status_lines(status: FiguresStatus) -> list[str]:
    lines = []
    if status.as_of:
        # date_format shows an aware datetime in its own zone (UTC from the database): Oslo first.
        when = date_format(timezone.localtime(status.as_of), "j. F Y H:i")
        lines.append(_("Figures as of %(when)s") % {"when": when})
    else:
        lines.append(_("No figures have been synced yet."))
    if status.is_incomplete:
        lines.append(
            _("Warning: the figures are incomplete. ") + "; ".join(status.incomplete_reasons)
        )
    return lines


def _signs_line(is_raw: bool) -> str:
    if is_raw:
        return _("Signs as in Tripletex: debit positive, credit negative.")
    return _("Revenue, equity, liabilities and profit shown positive.")


def pnl_table(pnl: Pnl, status: FiguresStatus) -> Table:
    """The P&L as rows: each group, its accounts, and the result lines."""
    period = pnl.period
    months = period.months
    title = _("Profit and loss %(year)s") % {"year": period.fiscal_year.label}
    if period.kind in (CUSTOM, ROLLING_12):
        title = _("Profit and loss")
    span = f"{date_format(months[0], 'F Y')} – {date_format(months[-1], 'F Y')}"
    if period.is_budget:
        total, compared = _("Actual"), _("Budget")
    else:
        total = _("Year to date") if period.kind == YTD else _("Total")
        compared = _("Same period last year")
    headings = [
        _("Account"),
        _("Name"),
        *[date_format(m, "N Y") for m in months],
        total,
        compared,
        _("Variance"),
        _("Variance %"),
    ]
    subtitle = [pnl.company.name, span]
    if pnl.dimensions is not None:
        subtitle.append(_("Only the postings of %(label)s.") % {"label": pnl.dimensions.label})
    table = Table(
        title,
        [*subtitle, _signs_line(period.is_raw), *_status_lines(status)],
        headings,
        has_percent=True,
    )
    for line in pnl.lines:
        kind = "total" if line.is_total else "group"
        table.rows.append(Row(kind, None, line.label, _cells_amounts(line.cells), _pct(line.cells)))
        for account in line.accounts:
            table.rows.append(
                Row(
                    "account",
                    account.number,
                    account.name,
                    _cells_amounts(account.cells),
                    _pct(account.cells),
                )
            )
    return table


def balance_table(sheet: BalanceSheet, status: FiguresStatus) -> Table:
    """The balance sheet as rows: assets, equity and liabilities, their sums and the check line;
    a column per shown month end, then the previous year end and the change."""
    at, previous = sheet.at, sheet.previous_at
    title = _("Balance sheet at %(date)s") % {"date": date_format(month_end(at), "j. F Y")}
    headings = [
        _("Account"),
        _("Name"),
        *[date_format(month_end(m), "d.m.Y") for m in sheet.months],
        date_format(month_end(previous), "d.m.Y"),
        pgettext("amount", "Change"),
    ]
    subtitle = [sheet.company.name]
    if sheet.dimensions is not None:
        subtitle.append(_("Only the postings of %(label)s.") % {"label": sheet.dimensions.label})
    table = Table(
        title,
        [*subtitle, _signs_line(sheet.period.is_raw), *_status_lines(status)],
        headings,
    )
    for lines, total in (
        (sheet.assets, sheet.total_assets),
        (sheet.equity_liabilities, sheet.total_equity_liabilities),
    ):
        for line in lines:
            kind = "group" if line.kind == "group" else "account"
            table.rows.append(
                Row(kind, None, line.label, [*line.by_month, line.previous, line.change])
            )
            for account in line.accounts:
                table.rows.append(
                    Row(
                        "account",
                        account.number,
                        account.name,
                        [*account.by_month, account.previous, account.change],
                    )
                )
        table.rows.append(
            Row("total", None, total.label, [*total.by_month, total.previous, total.change])
        )
    check = sheet.check
    table.rows.append(Row("check", None, check.label, [*check.by_month, check.previous, None]))
    return table


def table_xlsx(table: Table) -> bytes:
    """The table as an XLSX workbook (bytes)."""
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook has one sheet (`active` may be None in types)
    sheet.title = table.title[:31].replace("/", "-")
    _text_cell(sheet, 1, 1, table.title).font = Font(bold=True, size=14)
    for i, line in enumerate(table.subtitle, start=2):
        _text_cell(sheet, i, 1, line).font = Font(color="5F6B7A")
    header_row = len(table.subtitle) + 3
    for col, heading in enumerate(table.headings, start=1):
        cell = _text_cell(sheet, header_row, col, heading)
        cell.font = Font(bold=True)
        cell.fill = GROUP_FILL
        cell.border = Border(bottom=Side(style="medium"))
        if col > 2:
            cell.alignment = Alignment(horizontal="right", wrap_text=True)
    n_amounts = len(table.headings) - 2 - (1 if table.has_percent else 0)
    for r, row in enumerate(table.rows, start=header_row + 1):
        _write_row(sheet, r, row, n_amounts, table.has_percent)
    sheet.freeze_panes = f"C{header_row + 1}"  # below the headings, right of number and name
    sheet.column_dimensions["A"].width = 9
    sheet.column_dimensions["B"].width = 42
    for col in range(3, len(table.headings) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 15
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Worksheet, row: int, column: int, text: str) -> Cell:
    """Write text as a string cell: never a formula or an error value, whatever it starts with."""
    cell = sheet.cell(row=row, column=column, value=ILLEGAL_CHARACTERS_RE.sub("", text))
    cell.data_type = "s"
    return cell


def _write_row(sheet: Worksheet, r: int, row: Row, n_amounts: int, has_percent: bool) -> None:
    bold = row.kind in ("group", "total", "check")
    sheet.cell(row=r, column=1, value=row.number)
    label = _text_cell(sheet, r, 2, row.label)
    if row.kind == "account":
        label.alignment = Alignment(indent=1)
    for i, amount in enumerate(row.amounts[:n_amounts]):
        cell = sheet.cell(row=r, column=3 + i, value=amount)
        cell.number_format = AMOUNT_FORMAT
    if has_percent:
        cell = sheet.cell(row=r, column=3 + n_amounts, value=row.percent)
        cell.number_format = PERCENT_FORMAT
    last_col = 2 + n_amounts + (1 if has_percent else 0)
    for col in range(1, last_col + 1):
        styled = sheet.cell(row=r, column=col)
        if bold:
            styled.font = Font(bold=True)
        if row.kind == "group":
            styled.fill = GROUP_FILL
        if row.kind in ("total", "check"):
            styled.border = TOTAL_BORDER


def _csv_amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",")


def _csv_text(text: str) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def table_csv(table: Table) -> str:
    """The table as CSV for Norwegian Excel (semicolons, decimal comma; prepend a BOM to write)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_text(table.title)])
    for line in table.subtitle:
        writer.writerow([_csv_text(line)])
    writer.writerow([])
    writer.writerow([_csv_text(heading) for heading in table.headings])
    for row in table.rows:
        cells: Sequence[str] = [
            str(row.number) if row.number is not None else "",
            _csv_text(row.label),
            *[_csv_amount(a) for a in row.amounts],
        ]
        if table.has_percent:
            cells = [*cells, _csv_amount(row.percent * 100) if row.percent is not None else ""]
        writer.writerow(cells)
    return out.getvalue()

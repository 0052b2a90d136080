"""A firm's budget as an XLSX file: the template we hand out and the upload that reads it back.

The template (`budget_template_xlsx`) is generated with openpyxl from the firm's chart of accounts:
one row per result account (3000–8999, active, as synced), twelve month columns of the chosen
fiscal year headed `YYYY-MM`, and the budget already stored for that year filled in, so a firm
can download, edit and upload again. Amounts are entered as the P&L shows them (income and costs
both positive; a negative number reduces the line) and stored with the ledger's signs, flipped by
the account's P&L group exactly as the figures pages flip them (`ledger.figures.layout`).

The upload (`budget_upload`) is all or nothing: every cell is checked first, every problem is
reported with its cell ("D7: …"), and a file with any problem changes nothing. Numbers may be
numeric cells or text such as `1 234,50`; at most two decimals (øre). A year whose budget comes
from Tripletex cannot be uploaded over (the next sync would replace it; see `ledger.budgets.sync`).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from companies.audit import audit_record
from companies.models import Company, User
from ledger.accounts import RESULT
from ledger.budgets.selectors import shown_sign
from ledger.budgets.totals import budget_totals_refresh
from ledger.models import Budget, BudgetYear, LedgerAccount
from ledger.periods import FiscalYear
from ledger.transactions.csv_import import ValueProblem, parse_decimal

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
MAX_PROBLEMS = 50
# Below MONEY's 16 digits before the comma.
MAX_AMOUNT = Decimal("1e15")
AMOUNT_FORMAT = "#,##0.00;[Red]-#,##0.00"
HEADER_FILL = PatternFill("solid", fgColor="EEF1F4")
FIRST_MONTH_COLUMN = 3


class BudgetUploadError(Exception):
    """The file cannot be used; `problems` says why, each for a person to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class UploadResult:
    """What an upload stored: amounts per account and month (the ledger's signs)."""

    fiscal_year: FiscalYear
    amounts: dict[tuple[int, datetime.date], Decimal] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return len({number for number, _month in self.amounts})


def _result_accounts(company: Company) -> dict[int, str]:
    rows = LedgerAccount.objects.filter(company=company, is_active=True, **RESULT.lookups("number"))
    return dict(rows.order_by("number").values_list("number", "name"))


def month_heading(month: datetime.date) -> str:
    """The column heading of a month in the template: `2026-03`."""
    return f"{month:%Y-%m}"


def budget_template_xlsx(*, company: Company, fiscal_year: FiscalYear) -> bytes:
    """The template for `fiscal_year`: the firm's result accounts × its 12 months, filled with
    the budget stored for the year (company level), amounts as the P&L shows them."""
    accounts = _result_accounts(company)
    stored = Budget.objects.filter(
        company=company,
        month__gte=fiscal_year.start,
        month__lt=fiscal_year.end,
        department_id__isnull=True,
        project_id__isnull=True,
    ).values_list("account_number", "month", "amount")
    amounts = {(n, m): a * shown_sign(n) for n, m, a in stored}
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = _("Budget")
    headings = [_("Account"), _("Name"), *(month_heading(m) for m in fiscal_year.months)]
    for col, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=1, column=col, value=heading)
        cell.data_type = "s"
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        if col >= FIRST_MONTH_COLUMN:
            cell.alignment = Alignment(horizontal="right")
    for r, (number, name) in enumerate(accounts.items(), start=2):
        sheet.cell(row=r, column=1, value=number)
        name_cell = sheet.cell(row=r, column=2, value=name)
        name_cell.data_type = "s"
        for i, month in enumerate(fiscal_year.months):
            cell = sheet.cell(
                row=r, column=FIRST_MONTH_COLUMN + i, value=amounts.get((number, month))
            )
            cell.number_format = AMOUNT_FORMAT
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["A"].width = 9
    sheet.column_dimensions["B"].width = 40
    for col in range(FIRST_MONTH_COLUMN, FIRST_MONTH_COLUMN + 12):
        sheet.column_dimensions[get_column_letter(col)].width = 14
    _instructions(workbook, company, fiscal_year)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _instructions(workbook: Workbook, company: Company, fiscal_year: FiscalYear) -> None:
    sheet = workbook.create_sheet(_("Instructions"))
    lines = [
        _("Budget for %(company)s, fiscal year %(year)s")
        % {
            "company": company.name,
            "year": fiscal_year.label,
        },
        _("Enter one amount per account and month in NOK, as the P&L shows it:"),
        _("income and costs both as positive numbers; a negative number reduces the line."),
        _("Leave a cell empty for no budget. At most two decimals."),
        _("Keep the account numbers and the month headings (YYYY-MM) as they are."),
        _("Uploading replaces the whole uploaded budget of the year."),
    ]
    for r, line in enumerate(lines, start=1):
        cell = sheet.cell(row=r, column=1, value=line)
        cell.data_type = "s"
        if r == 1:
            cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 90


def _cell_amount(value: Any) -> Decimal | None:
    """A cell's amount (None when empty); raises ValueProblem for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem(_("“%(text)s” is not a number.") % {"text": value})
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # Excel keeps numbers as binary floats: 1234.5 comes back as 1234.5, never as 1234.499…
        amount = Decimal(repr(value))
        rounded = amount.quantize(Decimal("0.01"))
        if abs(amount - rounded) < Decimal("0.000001"):
            amount = rounded
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        parsed = parse_decimal(value)
        if parsed is None:
            return None
        amount = parsed
    else:
        raise ValueProblem(_("“%(text)s” is not a number.") % {"text": value})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueProblem(_("%(amount)s has more than two decimals.") % {"amount": value})
    if abs(amount) >= MAX_AMOUNT:
        raise ValueProblem(_("%(amount)s is too large.") % {"amount": value})
    return amount.quantize(Decimal("0.01"))


def _header_months(header: tuple[Any, ...]) -> list[datetime.date | None]:
    months: list[datetime.date | None] = []
    for value in header[FIRST_MONTH_COLUMN - 1 :]:
        if isinstance(value, datetime.datetime | datetime.date):
            months.append(datetime.date(value.year, value.month, 1))
            continue
        text = str(value or "").strip()
        try:
            months.append(
                datetime.date(int(text[:4]), int(text[5:7]), 1) if len(text) == 7 else None
            )
        except ValueError:
            months.append(None)
    while months and months[-1] is None:
        months.pop()
    return months


def _read_rows(upload: IO[bytes]) -> list[tuple[Any, ...]]:
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise BudgetUploadError(
            [_("The file is not an Excel workbook (.xlsx). Start from the template.")]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(tuple(row))
            if len(rows) > MAX_ROWS + 1:
                raise BudgetUploadError(
                    [_("The file has more than %(count)s rows.") % {"count": MAX_ROWS}]
                )
        return rows
    finally:
        workbook.close()


def budget_file_read(
    *, company: Company, fiscal_year: FiscalYear, upload: IO[bytes]
) -> UploadResult:
    """Check an uploaded file against the firm's chart and the year; returns its amounts with the
    ledger's signs, or raises BudgetUploadError with every problem."""
    rows = _read_rows(upload)
    if not rows:
        raise BudgetUploadError([_("The file is empty.")])
    months = _header_months(rows[0])
    if months != fiscal_year.months:
        expected = ", ".join(month_heading(m) for m in fiscal_year.months)
        raise BudgetUploadError(
            [
                _(
                    "Row 1 must head columns C to N with the months of %(year)s: %(months)s. "
                    "Start from the template of that year."
                )
                % {"year": fiscal_year.label, "months": expected}
            ]
        )
    accounts = _result_accounts(company)
    result = UploadResult(fiscal_year)
    problems: list[str] = []
    seen: dict[int, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        cells = list(row) + [None] * (FIRST_MONTH_COLUMN + 12 - len(row))
        amounts = cells[FIRST_MONTH_COLUMN - 1 : FIRST_MONTH_COLUMN + 11]
        if cells[0] is None and all(v in (None, "") for v in amounts):
            continue
        number = _row_account(cells[0], r, accounts, seen, problems)
        for i, (value, month) in enumerate(zip(amounts, fiscal_year.months, strict=True)):
            try:
                amount = _cell_amount(value)
            except ValueProblem as exc:
                problems.append(f"{get_column_letter(FIRST_MONTH_COLUMN + i)}{r}: {exc}")
                continue
            if number is not None and amount:
                result.amounts[(number, month)] = amount * shown_sign(number)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(_("Stopped after %(count)s problems.") % {"count": MAX_PROBLEMS})
            break
    if not problems and not result.amounts:
        problems.append(_("The file has no budget amounts."))
    if problems:
        raise BudgetUploadError(problems)
    return result


def _row_account(
    value: Any, r: int, accounts: dict[int, str], seen: dict[int, int], problems: list[str]
) -> int | None:
    text = str(value if value is not None else "").strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text.isdigit():
        problems.append(
            _("A%(row)s: “%(text)s” is not an account number.") % {"row": r, "text": text}
        )
        return None
    number = int(text)
    if number not in accounts:
        problems.append(
            _(
                "A%(row)s: account %(number)s is not a result account (3000–8999) of the firm's chart."
            )
            % {"row": r, "number": number}
        )
        return None
    if number in seen:
        problems.append(
            _("A%(row)s: account %(number)s is also on row %(first)s.")
            % {"row": r, "number": number, "first": seen[number]}
        )
        return None
    seen[number] = r
    return number


@transaction.atomic
def budget_upload(
    *,
    company: Company,
    fiscal_year: FiscalYear,
    upload: IO[bytes],
    file_name: str,
    by: User | None,
) -> UploadResult:
    """Replace the year's company-level budget with the file's; raises BudgetUploadError (and
    changes nothing) for a bad file or a year whose budget comes from Tripletex."""
    year, _created = BudgetYear.objects.select_for_update().get_or_create(
        company=company, start=fiscal_year.start
    )
    if year.source == BudgetYear.Source.TRIPLETEX:
        raise BudgetUploadError(
            [
                _(
                    "The budget of %(year)s comes from Tripletex; change it there, and the next "
                    "sync brings it here."
                )
                % {"year": fiscal_year.label}
            ]
        )
    result = budget_file_read(company=company, fiscal_year=fiscal_year, upload=upload)
    now = timezone.now()
    Budget.objects.filter(
        company=company, month__gte=fiscal_year.start, month__lt=fiscal_year.end
    ).delete()
    Budget.objects.bulk_create(
        Budget(
            company=company,
            account_number=number,
            month=month,
            amount=amount,
            source=Budget.Source.UPLOAD,
            updated_at=now,
        )
        for (number, month), amount in sorted(result.amounts.items())
    )
    budget_totals_refresh(company=company, start=fiscal_year.start, end=fiscal_year.end)
    year.source, year.rows, year.updated_at = BudgetYear.Source.UPLOAD, len(result.amounts), now
    year.uploaded_by = by if by and by.pk else None
    year.file_name = file_name[:255]
    year.save()
    audit_record(
        company=company,
        actor=by,
        action="budget.uploaded",
        detail=f"{fiscal_year.label}: {len(result.amounts)} amounts from {file_name[:100]}",
    )
    return result

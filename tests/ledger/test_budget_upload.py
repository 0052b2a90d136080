"""The budget template and upload: the template is the chart's result accounts × the year's
months; a good file is stored with the ledger's signs; every bad file gets clear messages and
changes nothing; a Tripletex year refuses uploads; budget against actual, hand-computed."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope
from openpyxl import Workbook, load_workbook

from ledger.budgets.selectors import budget_by_account_month, budget_variance
from ledger.budgets.upload import budget_template_xlsx
from ledger.models import Budget, BudgetYear
from ledger.periods import FiscalYear
from tests.ledger.figures_data import seed_changes

D = Decimal
FY = FiscalYear(datetime.date(2026, 1, 1))
JAN, FEB, MAR = (datetime.date(2026, m, 1) for m in (1, 2, 3))
NAMES = {
    3000: "Salgsinntekt",
    4000: "Varekjøp",
    6300: "Leie lokale",
    8050: "Renteinntekt",
    1920: "Bank",
}


@pytest.fixture
def charted_acme(acme):
    """Acme with a chart and Q1 2026 actuals (ledger signs): sales −100 000 / −120 000 / −90 000,
    goods 40 000 / 50 000 / 30 000, rent 15 000 a month, interest income −500 in March."""
    with scope(company=acme):
        seed_changes(
            acme,
            {
                3000: {JAN: D("-100000"), FEB: D("-120000"), MAR: D("-90000")},
                4000: {JAN: D("40000"), FEB: D("50000"), MAR: D("30000")},
                6300: {JAN: D("15000"), FEB: D("15000"), MAR: D("15000")},
                8050: {MAR: D("-500")},
                1920: {JAN: D("45000"), FEB: D("55000"), MAR: D("45500")},
            },
            names=NAMES,
        )
    return acme


def _workbook(rows, header=None) -> io.BytesIO:
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(header or ["Konto", "Navn", *(f"{m:%Y-%m}" for m in FY.months)])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "budsjett.xlsx"
    return buffer


def _upload(client, company, content, year=2026):
    url = reverse("ledger:budget_upload", kwargs={"company_slug": company.slug}) + f"?ar={year}"
    return client.post(url, {"file": content})


@pytest.fixture
def budget_client(client, alice, charted_acme, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(alice)
    return client


def test_template_lists_result_accounts_and_the_years_months(charted_acme):
    with scope(company=charted_acme):
        Budget.objects.create(
            company=charted_acme,
            account_number=3000,
            month=FEB,
            amount=D("-110000.00"),
            source="upload",
            updated_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
        )
        content = budget_template_xlsx(company=charted_acme, fiscal_year=FY)
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2:] == tuple(f"2026-{m:02d}" for m in range(1, 13))
    assert [r[0] for r in rows[1:]] == [3000, 4000, 6300, 8050]  # no balance account 1920
    assert rows[1][1] == "Salgsinntekt"
    # The stored −110 000 (income, ledger sign) is shown as the P&L shows it: positive.
    assert rows[1][3] == 110000
    assert rows[1][2] is None


def test_good_file_is_stored_with_ledger_signs(budget_client, charted_acme):
    content = _workbook(
        [
            [3000, "Salg", 105000, "110 000,50", 95000.25, *[None] * 9],
            [4000, "Varer", 45000, 45000, 45000, *[None] * 9],
            [6300, "Leie", *[15000] * 12],
        ]
    )
    resp = _upload(budget_client, charted_acme, content)
    assert resp.status_code == 302
    with scope(company=charted_acme):
        stored = budget_by_account_month(company=charted_acme, date_from=JAN, date_to=FY.end)
        year = BudgetYear.objects.get(start=FY.start)
        from companies.models import AuditEvent

        audit = AuditEvent.objects.filter(company=charted_acme, action="budget.uploaded").count()
    assert stored[3000] == {JAN: D("-105000.00"), FEB: D("-110000.50"), MAR: D("-95000.25")}
    assert stored[4000] == {JAN: D("45000.00"), FEB: D("45000.00"), MAR: D("45000.00")}
    assert len(stored[6300]) == 12
    assert (year.source, year.rows, year.file_name) == ("upload", 3 + 3 + 12, "budsjett.xlsx")
    assert audit == 1


def test_variance_hand_computed(charted_acme):
    """Budget Q1: sales 105 000 + 110 000,50 + 95 000,25 = 310 000,75; goods 3 × 45 000 = 135 000;
    rent 3 × 15 000 = 45 000. Actual: sales 310 000, goods 120 000, rent 45 000, interest 500.
    Variances (actual − budget, shown signs): sales −0,75 (−0,0 %), goods −15 000 (−11,1 %),
    rent 0 (0,0 %), interest 500 (no budget: no %). Result: budget 310 000,75 − 135 000 − 45 000
    = 130 000,75; actual 310 000 + 500 − 120 000 − 45 000 = 145 500; variance 15 499,25 =
    11,9 % of 130 000,75."""
    with scope(company=charted_acme):
        for number, amounts in (
            (3000, [D("-105000"), D("-110000.50"), D("-95000.25")]),
            (4000, [D("45000")] * 3),
            (6300, [D("15000")] * 3),
        ):
            for month, amount in zip((JAN, FEB, MAR), amounts, strict=True):
                Budget.objects.create(
                    company=charted_acme,
                    account_number=number,
                    month=month,
                    amount=amount,
                    source="upload",
                    updated_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
                )
        lines, result = budget_variance(
            company=charted_acme, date_from=JAN, date_to=datetime.date(2026, 4, 1)
        )
    by_number = {line.number: line for line in lines}
    assert (by_number[3000].budget, by_number[3000].actual) == (D("310000.75"), D("310000"))
    assert by_number[3000].variance == D("-0.75")
    assert by_number[3000].variance_pct == D("-0.0")
    assert by_number[4000].variance == D("-15000")
    assert by_number[4000].variance_pct == D("-11.1")
    assert by_number[6300].variance_pct == D("0.0")
    assert (by_number[8050].budget, by_number[8050].actual) == (D("0"), D("500"))
    assert by_number[8050].variance_pct is None
    assert (result.budget, result.actual) == (D("130000.75"), D("145500"))
    assert result.variance == D("15499.25")
    assert result.variance_pct == D("11.9")


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        ([[3000, "x", "abc"]], None, "C2: “abc” is not a number."),
        ([[3000, "x", 1.234]], None, "C2: 1.234 has more than two decimals."),
        ([[1920, "Bank", 5]], None, "A2: account 1920 is not a result account"),
        ([[9999, "x", 5]], None, "A2: account 9999 is not a result account"),
        ([["konto", "x", 5]], None, "A2: “konto” is not an account number."),
        ([[3000, "x", 5], [3000, "y", 6]], None, "A3: account 3000 is also on row 2."),
        ([[3000, "x"]], None, "The file has no budget amounts."),
        ([[3000, "x", 5]], ["Konto", "Navn", "2025-01"], "Row 1 must head columns C to N"),
    ],
)
def test_bad_file_changes_nothing(budget_client, charted_acme, rows, header, expected):
    with scope(company=charted_acme):
        Budget.objects.create(
            company=charted_acme,
            account_number=6300,
            month=JAN,
            amount=D("1.00"),
            source="upload",
            updated_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
        )
    content = _workbook([[*r, *[None] * (14 - len(r))] if len(r) < 14 else r for r in rows], header)
    resp = _upload(budget_client, charted_acme, content)
    assert resp.status_code == 400
    assert expected in resp.content.decode()
    assert "Nothing was changed" in resp.content.decode()
    with scope(company=charted_acme):
        assert list(Budget.objects.values_list("account_number", "amount")) == [(6300, D("1.00"))]
        assert not BudgetYear.objects.exists()


def test_not_a_workbook(budget_client, charted_acme):
    content = io.BytesIO(b"konto;jan\n3000;5\n")
    content.name = "budsjett.csv"
    resp = _upload(budget_client, charted_acme, content)
    assert resp.status_code == 400
    assert "The file is not an Excel workbook (.xlsx)" in resp.content.decode()


def test_every_problem_is_listed(budget_client, charted_acme):
    content = _workbook(
        [
            [3000, "x", "nope", *[None] * 11],
            [4000, "y", None, 2.555, *[None] * 10],
            [1920, "z", 5, *[None] * 11],
        ]
    )
    text = _upload(budget_client, charted_acme, content).content.decode()
    assert "C2: “nope” is not a number." in text
    assert "D3: 2.555 has more than two decimals." in text
    assert "A4: account 1920 is not a result account" in text


def test_a_tripletex_year_refuses_uploads(budget_client, charted_acme):
    with scope(company=charted_acme):
        BudgetYear.objects.create(company=charted_acme, start=FY.start, source="tripletex", rows=4)
    resp = _upload(budget_client, charted_acme, _workbook([[3000, "x", 5, *[None] * 11]]))
    assert resp.status_code == 400
    assert "comes from Tripletex" in resp.content.decode()
    with scope(company=charted_acme):
        assert not Budget.objects.exists()


def test_budget_page_and_template_download(budget_client, charted_acme):
    _upload(budget_client, charted_acme, _workbook([[3000, "Salg", 105000, *[None] * 11]]))
    page = budget_client.get(
        reverse("ledger:budget", kwargs={"company_slug": charted_acme.slug}) + "?ar=2026"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="budget-row" data-account="3000"' in html
    assert "105\u00a0000" in html
    template = budget_client.get(
        reverse("ledger:budget_template", kwargs={"company_slug": charted_acme.slug}) + "?ar=2026"
    )
    assert template.status_code == 200
    assert template["Content-Disposition"].endswith('-2026.xlsx"')
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert next(sheet.iter_rows(min_row=2, values_only=True))[:3] == (3000, "Salgsinntekt", 105000)

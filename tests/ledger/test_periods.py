"""Every period a figures page shows, against sums computed by hand; budget comparison; the
balance sheet month by month; department filters on the balance sheet and the exports.

The calendar firm (Tripletex signs): 3000 revenue is −(1 000 × m) in month m of 2024 and
−(1 000 × m + 100) in month m of 2025; 6300 rent is 500 every month of both years. So:
  March 2025:                   revenue 3 100, last year 3 000
  Q2 2025 (Apr–Jun):            4 100 + 5 100 + 6 100 = 15 300; last year 15 000
  YTD through May 2025:         (1+2+3+4+5) × 1 000 + 5 × 100 = 15 500; last year 15 000
  12 months through March 2025: Apr–Dec 2024 (4+…+12) × 1 000 = 72 000, Jan–Mar 2025
                                1 100 + 2 100 + 3 100 = 6 300 → 78 300; last year (Apr 2023 –
                                Mar 2024) only Jan–Mar 2024: 6 000
  November 2024 – February 2025: 11 000 + 12 000 + 1 100 + 2 100 = 26 200; last year
                                (Nov 2023 – Feb 2024) 1 000 + 2 000 = 3 000
Rent: 500 × the number of months; the net result is revenue − rent.

The July firm (fiscal year July–June, "2024/25"): 3000 is −1 000 and 6300 is 200 every month
from January 2024 to December 2025, result accounts restarting at zero every 1 July.
  Q1 2024/25 = July–September 2024: revenue 3 000; YTD through December 2024 (six months): 6 000.
"""

import datetime
import re
from decimal import Decimal
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.figures.keyfigures import cash_flow, key_figures
from ledger.figures.selectors import (
    COMPARE_BUDGET,
    CUSTOM,
    MONTH,
    QUARTER,
    ROLLING_12,
    YTD,
    balance_sheet_at,
    period_resolve,
    pnl_dimensions_resolve,
    pnl_for_period,
)
from ledger.models import Budget, Department, Posting, PostingMonth
from ledger.periods import FiscalYear
from tests.ledger.figures_data import every_month, month, seed_changes

D = Decimal


def _calendar_changes():
    revenue = {month(2024, m): -1_000 * m for m in range(1, 13)}
    revenue |= {month(2025, m): -(1_000 * m + 100) for m in range(1, 13)}
    return {3000: revenue, 6300: every_month(month(2024, 1), month(2025, 12), 500)}


@pytest.fixture
def calendar_company(acme):
    with scope(company=acme):
        seed_changes(acme, _calendar_changes())
    return acme


@pytest.fixture
def periods_july_firm(bergen):
    changes = {
        3000: every_month(month(2024, 1), month(2025, 12), -1_000),
        6300: every_month(month(2024, 1), month(2025, 12), 200),
    }
    with scope(company=bergen):
        seed_changes(bergen, changes, fiscal_start_month=7)
    return bergen


def _pnl(company, **choice):
    with scope(company=company):
        period = period_resolve(
            company=company,
            year=choice.pop("year", None),
            month=choice.pop("month", None),
            is_raw=False,
            **choice,
        )
        return pnl_for_period(company=company, period=period)


def _line(pnl, key):
    return next(line for line in pnl.lines if line.key == key).cells


@pytest.mark.parametrize(
    ("choice", "months", "revenue", "last_year"),
    [
        ({"kind": MONTH, "year": 2025, "month": 3}, [month(2025, 3)], 3_100, 3_000),
        (
            {"kind": QUARTER, "year": 2025, "quarter": 2},
            [month(2025, 4), month(2025, 5), month(2025, 6)],
            15_300,
            15_000,
        ),
        (
            {"kind": YTD, "year": 2025, "month": 5},
            [month(2025, m) for m in range(1, 6)],
            15_500,
            15_000,
        ),
        (
            {"kind": ROLLING_12, "year": 2025, "month": 3},
            [*(month(2024, m) for m in range(4, 13)), *(month(2025, m) for m in range(1, 4))],
            78_300,
            6_000,
        ),
        (
            {"kind": CUSTOM, "first": month(2024, 11), "last": month(2025, 2)},
            [month(2024, 11), month(2024, 12), month(2025, 1), month(2025, 2)],
            26_200,
            3_000,
        ),
    ],
    ids=["month", "quarter", "ytd", "rolling12", "custom"],
)
def test_every_period_kind_sums_the_hand_computed_months(
    calendar_company, choice, months, revenue, last_year
):
    pnl = _pnl(calendar_company, **choice)
    assert pnl.period.months == months
    assert (pnl.period.start, pnl.period.end) == (months[0], _next(months[-1]))
    cells = _line(pnl, "revenue")
    assert (cells.ytd, cells.last_year) == (D(revenue), D(last_year))
    assert cells.variance == D(revenue - last_year)
    rent = 500 * len(months)
    assert _line(pnl, "opex").ytd == D(rent)
    assert _line(pnl, "net_result").ytd == D(revenue - rent)
    assert sum(cells.months) == cells.ytd


def _next(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def test_a_custom_range_given_backwards_is_turned_around_and_capped(calendar_company):
    backwards = _pnl(calendar_company, kind=CUSTOM, first=month(2025, 2), last=month(2024, 11))
    assert backwards.period.months[0] == month(2024, 11)
    assert backwards.period.through == month(2025, 2)
    # 48 months asked for; the last 36 shown (January 2023 – December 2025).
    long = _pnl(calendar_company, kind=CUSTOM, first=month(2022, 1), last=month(2025, 12))
    assert (len(long.period.months), long.period.start) == (36, month(2023, 1))


def test_quarters_and_ytd_follow_a_fiscal_year_from_july(periods_july_firm):
    first_quarter = _pnl(periods_july_firm, kind=QUARTER, year=2024, quarter=1)
    assert first_quarter.period.fiscal_year == FiscalYear(month(2024, 7))
    assert first_quarter.period.months == [month(2024, 7), month(2024, 8), month(2024, 9)]
    assert _line(first_quarter, "revenue").ytd == D(3_000)
    third = _pnl(periods_july_firm, kind=QUARTER, year=2024, quarter=3)
    assert third.period.months == [month(2025, 1), month(2025, 2), month(2025, 3)]
    ytd = _pnl(periods_july_firm, kind=YTD, year=2024, month=12)
    assert ytd.period.months == every_month_list(month(2024, 7), month(2024, 12))
    # Six months of 1 000 revenue and 200 rent; last year July–December 2023 has no figures.
    assert (_line(ytd, "revenue").ytd, _line(ytd, "revenue").last_year) == (D(6_000), D(0))
    assert _line(ytd, "net_result").ytd == D(6 * 800)


def every_month_list(first, last):
    return list(every_month(first, last, 0))


# ---- budget ---------------------------------------------------------------------------------


def _budget(company, account, months_amounts, **dimension):
    now = timezone.now()
    Budget.objects.bulk_create(
        Budget(
            company=company,
            account_number=account,
            month=m,
            amount=D(amount),
            source=Budget.Source.UPLOAD,
            updated_at=now,
            **dimension,
        )
        for m, amount in months_amounts.items()
    )


def test_budget_comparison_gives_budget_variance_and_percent(calendar_company):
    # Budget for Q1 2025: revenue 2 000 a month (−6 000 stored), rent 400 a month, and 7000
    # (travel, no actuals) 300 in March.
    with scope(company=calendar_company):
        _budget(calendar_company, 3000, every_month(month(2025, 1), month(2025, 3), -2_000))
        _budget(calendar_company, 6300, every_month(month(2025, 1), month(2025, 3), 400))
        _budget(calendar_company, 7100, {month(2025, 3): 300})
        _budget(calendar_company, 3000, {month(2025, 4): -99_999})  # outside the quarter
    pnl = _pnl(calendar_company, kind=QUARTER, year=2025, quarter=1, compare=COMPARE_BUDGET)
    revenue = _line(pnl, "revenue")
    # Actual 1 100 + 2 100 + 3 100 = 6 300 against budget 6 000: +300, 300 / 6 000 = 5.0 %
    assert (revenue.ytd, revenue.budget, revenue.variance) == (D(6_300), D(6_000), D(300))
    assert revenue.variance_pct == D("5.0")
    assert revenue.is_favourable is True  # more revenue than budgeted
    opex = _line(pnl, "opex")
    # Actual rent 1 500; budget 1 200 rent + 300 travel = 1 500: no variance.
    assert (opex.ytd, opex.budget, opex.variance) == (D(1_500), D(1_500), D(0))
    accounts = {a.number: a.cells for a in pnl.lines[4].accounts}
    assert accounts[7100].ytd == 0
    assert accounts[7100].budget == D(300)
    assert accounts[6300].variance == D(300)  # 1 500 − 1 200, more cost than budgeted
    assert accounts[6300].is_favourable is False
    net = _line(pnl, "net_result")
    # Result 6 300 − 1 500 = 4 800 against budget 6 000 − 1 500 = 4 500: +300, 6.7 %
    assert (net.ytd, net.budget, net.variance, net.variance_pct) == (
        D(4_800),
        D(4_500),
        D(300),
        D("6.7"),
    )
    # Last year stays available beside the budget.
    assert revenue.last_year == D(6_000)


def test_without_the_budget_switch_no_budget_is_read(calendar_company, django_assert_num_queries):
    pnl = _pnl(calendar_company, kind=MONTH, year=2025, month=3)
    assert _line(pnl, "revenue").budget is None
    assert not pnl.has_budget_figures


# ---- balance sheet by month -------------------------------------------------------------------


@pytest.fixture
def monthly_balance_company(acme):
    # December 2024: bank 1 000, equity −1 000. 2025: January a sale of 300 into the bank,
    # February rent 100 paid, March nothing.
    changes = {
        1920: {month(2024, 12): 1_000, month(2025, 1): 300, month(2025, 2): -100},
        2000: {month(2024, 12): -1_000},
        3000: {month(2025, 1): -300},
        6300: {month(2025, 2): 100},
    }
    with scope(company=acme):
        seed_changes(acme, changes)
    return acme


def test_the_balance_sheet_month_by_month(monthly_balance_company):
    company = monthly_balance_company
    with scope(company=company):
        period = period_resolve(company=company, year=2025, month=3, is_raw=False, kind=YTD)
        sheet = balance_sheet_at(company=company, period=period)
    assert sheet.months == [month(2025, 1), month(2025, 2), month(2025, 3)]
    bank = next(a for line in sheet.assets for a in line.accounts if a.number == 1920)
    # 1 000 + 300 = 1 300; − 100 = 1 200; unchanged 1 200. Year end 1 000; change 200.
    assert bank.by_month == [D(1_300), D(1_200), D(1_200)]
    assert (bank.previous, bank.change) == (D(1_000), D(200))
    result = next(line for line in sheet.equity_liabilities if line.key == "unallocated_result")
    # The year's result so far: 300; 300 − 100 = 200; 200.
    assert result.by_month == [D(300), D(200), D(200)]
    assert sheet.total_assets.by_month == sheet.total_equity_liabilities.by_month
    assert sheet.check.by_month == [D(0)] * 3
    assert sheet.is_balanced


def test_the_balance_page_and_export_by_month(client, alice, monthly_balance_company):
    client.force_login(alice)
    slug = monthly_balance_company.slug
    html = client.get(f"/c/{slug}/balanse/?periode=hittil&ar=2025&mnd=3").content.decode()
    heads = re.findall(r'<th scope="col" class="num"[^>]*>([^<]*)</th>', html)
    assert heads == ["jan. 2025", "feb. 2025", "mar. 2025", "Årsslutt des. 2024", "Endring"]
    csv = client.get(f"/c/{slug}/balanse/csv/?periode=hittil&ar=2025&mnd=3").content.decode()
    assert "31.01.2025;28.02.2025;31.03.2025;31.12.2024;Endring" in csv
    assert ";Bankinnskudd;1300,00;1200,00;1200,00;1000,00;200,00" in csv.replace(
        "Konto 1920", "Bankinnskudd"
    )


# ---- department filter on the balance sheet ---------------------------------------------------


@pytest.fixture
def department_company(acme):
    now = timezone.now()
    with scope(company=acme):
        seed_changes(acme, {1920: {month(2025, 1): 500}, 3000: {month(2025, 1): -500}})
        department = Department.objects.create(
            company=acme, tripletex_id=77, number="10", name="Oslo", synced_at=now
        )
        PostingMonth.objects.create(company=acme, month=month(2025, 1), synced_at=now)
        # Of the 500: 200 sold by Oslo (department 77), 300 by nobody in particular.
        rows = [
            (1, 1920, 200, 77),
            (2, 3000, -200, 77),
            (3, 1920, 300, None),
            (4, 3000, -300, None),
        ]
        Posting.objects.bulk_create(
            Posting(
                company=acme,
                tripletex_id=pk,
                date=datetime.date(2025, 1, 15),
                account_number=number,
                amount=D(amount),
                department_id=dept,
                synced_at=now,
            )
            for pk, number, amount, dept in rows
        )
    return acme, department


def test_the_balance_sheet_of_one_department(department_company):
    company, department = department_company
    with scope(company=company):
        period = period_resolve(company=company, year=2025, month=1, is_raw=False, kind=MONTH)
        dimensions = pnl_dimensions_resolve(company=company, department=department.pk, project=None)
        sheet = balance_sheet_at(company=company, period=period, dimensions=dimensions)
        whole = balance_sheet_at(company=company, period=period)
    assert sheet.total_assets.amount == D(200)
    result = next(line for line in sheet.equity_liabilities if line.key == "unallocated_result")
    assert result.amount == D(200)
    assert sheet.is_balanced
    assert sheet.postings_from == month(2025, 1)
    assert whole.total_assets.amount == D(500)


def test_department_filter_on_the_balance_page_and_its_exports(client, alice, department_company):
    company, department = department_company
    client.force_login(alice)
    query = f"?periode=mnd&ar=2025&mnd=1&avd={department.pk}"
    html = client.get(f"/c/{company.slug}/balanse/{query}").content.decode()
    assert 'data-testid="balance-filter"' in html
    export_link = re.search(r'href="([^"]*balanse/csv/[^"]*)"', html)[1]
    assert f"avd={department.pk}" in export_link
    csv = client.get(f"/c/{company.slug}/balanse/csv/{query}").content.decode()
    assert "Oslo" in csv
    assert ";Konto 1920;200,00;" in csv
    pnl_csv = client.get(f"/c/{company.slug}/resultat/csv/{query}").content.decode()
    assert ";Konto 3000;200,00;" in pnl_csv


def test_the_drill_down_from_a_department_shows_that_departments_postings(
    client, alice, department_company
):
    company, department = department_company
    client.force_login(alice)
    page = f"/c/{company.slug}/resultat/?periode=mnd&ar=2025&mnd=1&avd={department.pk}"
    html = client.get(page).content.decode()
    row = re.search(r'<tr class="row-account" data-account="3000".*?</tr>', html, re.S)[0]
    href = re.search(r'<a href="([^"]+)"', row)[1].replace("&amp;", "&")
    assert f"avd={department.pk}" in href
    assert "200" in row  # Oslo's 200 of the 500
    drill = client.get(urljoin(page, href)).content.decode()
    assert 'data-testid="postings-filter"' in drill
    total = re.search(r'data-testid="page-total">(.*?)</td>', drill, re.S)[1]
    assert total == "200,00"  # the cell's amount, not the company's 500
    assert drill.count('class="posting-row"') == 1


def test_key_figures_and_cash_flow_of_one_department(client, alice, department_company):
    company, department = department_company
    with scope(company=company):
        dimensions = pnl_dimensions_resolve(company=company, department=department.pk, project=None)
        span = {"company": company, "date_from": month(2025, 1), "date_to": month(2025, 2)}
        figures = key_figures(**span, dimensions=dimensions)
        flow = cash_flow(**span, dimensions=dimensions)
        whole = cash_flow(**span)
    # Oslo: bank 200, revenue 200, no debt. Liquidity has no denominator; equity is the
    # unallocated 200 of assets 200 (100 %); result margin 200 / 200 = 100 %.
    assert figures["liquidity_ratio"].value is None
    assert figures["equity_ratio"].value == D("100.0")
    assert figures["result_margin"].value == D("100.0")
    assert (flow["pre_tax"].amount, flow.net_change, flow.cash_closing) == (D(200), D(200), D(200))
    assert flow.is_reconciled
    assert whole.net_change == D(500)
    client.force_login(alice)
    html = client.get(
        f"/c/{company.slug}/nokkeltall/?periode=mnd&ar=2025&mnd=1&avd={department.pk}"
    ).content.decode()
    assert 'data-testid="keyfigures-filter"' in html
    assert 'data-reconciled="true"' in html

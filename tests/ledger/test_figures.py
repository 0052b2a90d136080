"""P&L and balance-sheet selectors against hand-computed figures (tests/ledger/figures_data.py).

P&L, January–March 2025 in display signs (revenue and profit positive, costs as positive amounts):
  Driftsinntekter 305 000 (Jan 100 000, Feb 125 000, Mar 80 000); last year 250 000
  Varekostnad 120 000 (LY 100 000); Lønn 90 000 (LY 75 000); Avskrivninger 6 000 (LY 6 000)
  Annen driftskostnad 30 000 (LY 27 000)
  Driftsresultat 59 000 (Jan 18 000, Feb 33 000, Mar 8 000); LY 42 000
  Finansinntekter 1 500 (LY 1 000); Finanskostnader 1 500 (LY 1 500)
  Resultat før skattekostnad 59 000 (LY 41 500); Skattekostnad 10 000 (LY 0)
  Årsresultat 49 000 (Jan 17 500, Feb 32 500, Mar −1 000); LY 41 500; variance +7 500
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.figures.selectors import balance_sheet_at, period_resolve, pnl_for_period
from ledger.periods import FiscalYear, fiscal_year_start_month, months_summary
from tests.ledger.figures_data import (
    BALANCE_CHANGES,
    every_month,
    month,
    seed_changes,
)

D = Decimal


def _pnl(company, **kwargs):
    with scope(company=company):
        period = period_resolve(
            company=company,
            year=kwargs.get("year"),
            month=kwargs.get("month"),
            is_raw=kwargs.get("is_raw", False),
        )
        return pnl_for_period(company=company, period=period)


def _lines(pnl):
    return {line.key: line for line in pnl.lines}


def test_default_period_is_the_latest_synced_month(pnl_company):
    pnl = _pnl(pnl_company)
    assert pnl.period.fiscal_year == FiscalYear(month(2025, 1))
    assert pnl.period.months == [month(2025, 1), month(2025, 2), month(2025, 3)]
    assert [fy.year for fy in pnl.period.years] == [2025, 2024]


def test_groups_and_totals_match_the_hand_computed_figures(pnl_company):
    lines = _lines(_pnl(pnl_company))
    expected = {
        "revenue": ([100_000, 125_000, 80_000], 305_000, 250_000),
        "cogs": ([40_000, 50_000, 30_000], 120_000, 100_000),
        "payroll": ([30_000, 30_000, 30_000], 90_000, 75_000),
        "depreciation": ([2_000, 2_000, 2_000], 6_000, 6_000),
        "opex": ([10_000, 10_000, 10_000], 30_000, 27_000),
        "operating_result": ([18_000, 33_000, 8_000], 59_000, 42_000),
        "fin_income": ([0, 0, 1_500], 1_500, 1_000),
        "fin_cost": ([500, 500, 500], 1_500, 1_500),
        "pre_tax": ([17_500, 32_500, 9_000], 59_000, 41_500),
        "tax": ([0, 0, 10_000], 10_000, 0),
        "net_result": ([17_500, 32_500, -1_000], 49_000, 41_500),
    }
    assert list(lines) == list(expected)  # no empty "other" or "allocations" group
    for key, (months, ytd, last_year) in expected.items():
        cells = lines[key].cells
        assert cells.months == [D(m) for m in months], key
        assert (cells.ytd, cells.last_year) == (D(ytd), D(last_year)), key


def test_each_group_lists_its_accounts_with_names(pnl_company):
    lines = _lines(_pnl(pnl_company))
    revenue = lines["revenue"].accounts
    assert [(a.number, a.name) for a in revenue] == [
        (3000, "Salgsinntekt, avgiftspliktig"),
        (3900, "Annen driftsrelatert inntekt"),
    ]
    assert revenue[0].cells.ytd == D(300_000)
    assert revenue[1].cells.last_year == D(0)
    assert [a.number for a in lines["opex"].accounts] == [6300]
    assert [a.number for a in lines["depreciation"].accounts] == [6010]
    assert [a.number for a in lines["fin_income"].accounts] == [8050]
    assert [a.number for a in lines["fin_cost"].accounts] == [8150]
    assert [a.number for a in lines["tax"].accounts] == [8300]
    assert lines["net_result"].accounts == []


def test_variance_and_its_direction(pnl_company):
    lines = _lines(_pnl(pnl_company))
    net = lines["net_result"].cells
    assert net.variance == D(7_500)
    assert net.variance_pct == D("18.1")
    assert net.is_favourable is True
    revenue = lines["revenue"].cells
    assert (revenue.variance, revenue.is_favourable) == (D(55_000), True)
    # Higher costs than last year are unfavourable although the variance is positive.
    cogs = lines["cogs"].cells
    assert (cogs.variance, cogs.is_favourable) == (D(20_000), False)
    assert lines["depreciation"].cells.is_favourable is None


def test_raw_signs_show_tripletex_numbers(pnl_company):
    lines = _lines(_pnl(pnl_company, is_raw=True))
    assert lines["revenue"].cells.ytd == D(-305_000)
    assert lines["revenue"].accounts[0].cells.months == [D(-100_000), D(-120_000), D(-80_000)]
    assert lines["cogs"].cells.ytd == D(120_000)
    assert lines["net_result"].cells.ytd == D(-49_000)
    assert lines["net_result"].cells.last_year == D(-41_500)
    # Same facts, same colours, whatever the signs.
    assert lines["net_result"].cells.is_favourable is True
    assert lines["cogs"].cells.is_favourable is False


def test_ytd_and_last_year_follow_the_chosen_month(pnl_company):
    lines = _lines(_pnl(pnl_company, year=2025, month=2))
    net = lines["net_result"].cells
    assert len(net.months) == 2
    # Jan–Feb 2025 against Jan–Feb 2024.
    assert net.ytd == D(17_500 + 32_500)
    ly = (90_000 + 90_000) - (35_000 + 35_000) - 2 * 25_000 - 2 * 2_000 - 2 * 9_000
    assert net.last_year == D(ly)


def test_previous_year_leaves_out_months_after_the_chosen_one(pnl_company):
    lines = _lines(_pnl(pnl_company, year=2024, month=3))
    # March 2024's same-period column is 2023 (no data), and April's 999 999 is not in Jan–Mar.
    assert lines["revenue"].cells.ytd == D(250_000)
    assert lines["revenue"].cells.last_year == D(0)
    full_year = _lines(_pnl(pnl_company, year=2024, month=12))
    assert full_year["revenue"].cells.ytd == D(250_000 + 999_999)


def test_allocations_are_shown_after_the_result_but_not_summed_into_it(acme):
    with scope(company=acme):
        seed_changes(
            acme,
            {3000: {month(2024, 12): -80_000}, 8960: {month(2024, 12): 80_000}},
        )
    lines = _lines(_pnl(acme))
    assert list(lines)[-2:] == ["net_result", "allocations"]
    assert lines["net_result"].cells.ytd == D(80_000)
    assert lines["allocations"].cells.ytd == D(80_000)


def test_chart_months(pnl_company):
    chart = _pnl(pnl_company).chart
    # Income includes financial income (March's 1 500 interest); costs include tax.
    assert [c.revenue for c in chart] == [D(100_000), D(125_000), D(81_500)]
    assert [c.costs for c in chart] == [D(82_500), D(92_500), D(82_500)]
    assert [c.result for c in chart] == [D(17_500), D(32_500), D(-1_000)]
    assert [c.last_year_result for c in chart] == [D(19_000), D(19_000), D(3_500)]


# ---- fiscal year ----------------------------------------------------------------------------


def test_fiscal_year_is_january_without_data_or_for_calendar_years(acme, pnl_company):
    with scope(company=acme):
        assert fiscal_year_start_month(months_summary(company=acme)) == 1
    assert fiscal_year_start_month([]) == 1


@pytest.fixture
def july_company(bergen):
    """A fiscal year from July: 3000 sells 10 000 a month from January 2024 to September 2025."""
    changes = {
        3000: every_month(month(2024, 1), month(2025, 9), -10_000),
        6300: every_month(month(2024, 1), month(2025, 9), 4_000),
    }
    with scope(company=bergen):
        seed_changes(bergen, changes, fiscal_start_month=7)
    return bergen


def test_fiscal_year_starting_in_july_is_detected(july_company):
    with scope(company=july_company):
        assert fiscal_year_start_month(months_summary(company=july_company)) == 7
    pnl = _pnl(july_company)
    fy = pnl.period.fiscal_year
    assert (fy.start, fy.label) == (month(2025, 7), "2025/26")
    assert pnl.period.months == [month(2025, 7), month(2025, 8), month(2025, 9)]
    net = _lines(pnl)["net_result"].cells
    assert net.ytd == D(18_000)
    assert net.last_year == D(18_000)  # July–September 2024


def test_fiscal_year_from_july_picks_months_across_new_year(july_company):
    pnl = _pnl(july_company, year=2024, month=2)
    assert pnl.period.months[0] == month(2024, 7)
    assert pnl.period.months[-1] == month(2025, 2)
    net = _lines(pnl)["net_result"].cells
    assert net.ytd == D(8 * 6_000)
    # Same period last year is July 2023 – February 2024, of which only Jan–Feb 2024 has data.
    assert net.last_year == D(2 * 6_000)


def test_without_figures_the_period_is_this_fiscal_year_in_oslo(acme, monkeypatch):
    # 23:30 UTC on New Year's Eve is already 1 January in Oslo, whatever the server's clock says.
    instant = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    with scope(company=acme):
        period = period_resolve(company=acme, year=None, month=None, is_raw=False)
    assert (period.fiscal_year, period.has_data) == (FiscalYear(month(2027, 1)), False)


# ---- balance sheet ---------------------------------------------------------------------------


def _sheet(company, **kwargs):
    with scope(company=company):
        period = period_resolve(
            company=company,
            year=kwargs.get("year"),
            month=kwargs.get("month"),
            is_raw=kwargs.get("is_raw", False),
            kind="month",  # the balance page's default: one month end against the year end
        )
        return balance_sheet_at(company=company, period=period)


@pytest.fixture
def balance_company(acme):
    with scope(company=acme):
        seed_changes(acme, BALANCE_CHANGES)
    return acme


def test_balance_sheet_groups_and_comparison(balance_company):
    sheet = _sheet(balance_company)
    assert (sheet.at, sheet.previous_at) == (month(2025, 3), month(2024, 12))
    assets = {line.key: (line.amount, line.previous) for line in sheet.assets}
    assert assets == {
        "fixed_assets": (D(44_000), D(50_000)),
        "current_assets": (D(580_000), D(450_000)),
    }
    el = {line.key: (line.amount, line.previous) for line in sheet.equity_liabilities}
    assert el == {
        "equity": (D(450_000), D(450_000)),
        "unallocated_result": (D(114_000), D(0)),
        "long_term_debt": (D(20_000), D(20_000)),  # carried forward from December
        "short_term_debt": (D(40_000), D(30_000)),
    }
    assert (sheet.total_assets.amount, sheet.total_assets.previous) == (D(624_000), D(500_000))
    total_el = sheet.total_equity_liabilities
    assert (total_el.amount, total_el.previous) == (D(624_000), D(500_000))
    assert (sheet.check.amount, sheet.check.previous) == (D(0), D(0))
    assert sheet.is_balanced
    bank = next(a for a in sheet.assets[1].accounts if a.number == 1920)
    assert (bank.amount, bank.previous, bank.change) == (D(560_000), D(450_000), D(110_000))


def test_balance_sheet_in_raw_signs(balance_company):
    sheet = _sheet(balance_company, is_raw=True)
    el = {line.key: line.amount for line in sheet.equity_liabilities}
    assert el["equity"] == D(-450_000)
    assert el["unallocated_result"] == D(-114_000)
    assert sheet.total_equity_liabilities.amount == D(-624_000)
    assert sheet.check.amount == D(0)
    assert sheet.is_balanced


def test_balance_check_line_shows_a_difference(balance_company):
    with scope(company=balance_company):
        from ledger.models import AccountBalance

        AccountBalance.objects.filter(account_number=2400, month=month(2025, 3)).delete()
    sheet = _sheet(balance_company)
    # 2400 falls back to December's −30 000: equity and liabilities are 10 000 short.
    assert sheet.check.amount == D(10_000)
    assert sheet.check.previous == D(0)
    assert not sheet.is_balanced


def test_balance_sheet_at_an_earlier_month(balance_company):
    sheet = _sheet(balance_company, year=2025, month=1)
    assert sheet.at == datetime.date(2025, 1, 1)
    bank = next(a for a in sheet.assets[1].accounts if a.number == 1920)
    assert bank.amount == D(450_000)  # no March movement yet
    result = next(line for line in sheet.equity_liabilities if line.key == "unallocated_result")
    assert result.amount == D(50_000)
    # The fixture's January has revenue but no bank side: equity and liabilities exceed assets.
    assert sheet.check.amount == D(-50_000)


def test_sums_are_exact_to_the_ore(acme):
    """SQLite sums decimals as floats: 0.10 + 0.20 − 0.30 must still balance exactly."""
    changes = {
        1920: {month(2025, 1): D("0.30")},
        3000: {month(2025, 1): D("-0.10")},
        3900: {month(2025, 1): D("-0.20")},
    }
    with scope(company=acme):
        seed_changes(acme, changes)
    sheet = _sheet(acme)
    assert sheet.check.amount == D("0.00")
    assert str(sheet.check.amount) == "0.00"
    assert sheet.is_balanced
    lines = _lines(_pnl(acme, year=2026, month=1))
    assert str(lines["revenue"].cells.last_year) == "0.30"

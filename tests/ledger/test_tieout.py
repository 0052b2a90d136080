"""Tie-out checks on stored balances: each rule catches its own kind of wrong figures."""

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.models import AccountBalance
from ledger.periods import fiscal_year_named
from ledger.sync.tieout import tieout_check as _tieout_check

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = (datetime.date(2025, m, 1) for m in (1, 2, 3))


def _rows(company, grid):
    """grid: {(account, month): (in, change)}; out = in + change unless given."""
    now = timezone.now()
    with scopes_disabled():
        AccountBalance.objects.bulk_create(
            AccountBalance(
                company=company,
                account_number=number,
                month=month,
                balance_in=D(values[0]),
                balance_change=D(values[1]),
                balance_out=D(values[2]) if len(values) > 2 else D(values[0]) + D(values[1]),
                synced_at=now,
            )
            for (number, month), values in grid.items()
        )


def tieout_check(*, company, years, start_month=1):
    fiscal_years = [fiscal_year_named(year, start_month) for year in years]
    with scope(company=company):
        return _tieout_check(company=company, fiscal_years=fiscal_years)


def _good():
    # Jan: sale 1000 (bank 1920 / revenue 3000). Feb: cost 400 (6800 / 1920). Equity 2050 opening.
    return {
        (1920, JAN): ("500", "1000"),
        (2050, JAN): ("-500", "0"),
        (3000, JAN): ("0", "-1000"),
        (1920, FEB): ("1500", "-400"),
        (2050, FEB): ("-500", "0"),
        (3000, FEB): ("-1000", "0"),
        (6800, FEB): ("0", "400"),
    }


def test_balanced_figures_tie_out(acme):
    _rows(acme, _good())
    assert tieout_check(company=acme, years=[2025]) == {}


def test_month_whose_changes_do_not_sum_to_zero(acme):
    grid = _good()
    grid[(1920, FEB)] = ("1500", "-300")  # a hidden salary row: bank moved, cost did not
    grid[(1920, MAR)] = ("1200", "0")
    grid[(2050, MAR)] = ("-500", "0")
    grid[(3000, MAR)] = ("-1000", "0")
    grid[(6800, MAR)] = ("400", "0")
    _rows(acme, grid)
    problems = tieout_check(company=acme, years=[2025])
    assert list(problems) == [FEB]
    assert "100,00" in problems[FEB][0]


def test_row_where_in_plus_change_is_not_out(acme):
    grid = _good()
    grid[(6800, FEB)] = ("0", "400", "401")
    _rows(acme, grid)
    problems = tieout_check(company=acme, years=[2025])
    assert any("6800" in p for p in problems[FEB])


def test_opening_balance_that_is_not_last_months_closing(acme):
    grid = _good()
    grid[(1920, FEB)] = ("1600", "-400")
    grid[(2050, FEB)] = ("-600", "0")  # still sums to zero, but does not chain
    _rows(acme, grid)
    problems = tieout_check(company=acme, years=[2025])
    assert [p for p in problems[FEB] if "1920" in p]
    assert [p for p in problems[FEB] if "2050" in p]


def test_result_accounts_not_reset_at_the_fiscal_year_start(acme):
    grid = {
        (1920, JAN): ("500", "0"),
        (2050, JAN): ("-200", "0"),
        (3000, JAN): ("-300", "0"),  # last year's revenue carried into the new year
    }
    _rows(acme, grid)
    problems = tieout_check(company=acme, years=[2025])
    assert any("result" in p for p in problems[JAN])


def test_chain_is_not_checked_across_fiscal_years(acme):
    dec = datetime.date(2024, 12, 1)
    grid = {
        (1920, dec): ("0", "1000"),
        (3000, dec): ("0", "-1000"),
        (1920, JAN): ("1000", "0"),
        (2050, JAN): ("-1000", "0"),
    }
    _rows(acme, grid)
    assert tieout_check(company=acme, years=[2024, 2025]) == {}


def _july_year():
    """June 2025 ends a July–June fiscal year; July 2025 starts the next, which runs over New Year."""
    jun, jul, dec, jan = (
        datetime.date(*ym, 1) for ym in ((2025, 6), (2025, 7), (2025, 12), (2026, 1))
    )
    return {
        (1920, jun): ("0", "1000"),
        (3000, jun): ("0", "-1000"),
        # 1 July: the closing voucher moved the year's result to equity; results restart at 0.
        (1920, jul): ("1000", "0"),
        (2050, jul): ("-1000", "0"),
        (1920, dec): ("1000", "200"),
        (2050, dec): ("-1000", "0"),
        (3000, dec): ("0", "-200"),
        # January carries December's result: it is the middle of the fiscal year.
        (1920, jan): ("1200", "0"),
        (2050, jan): ("-1000", "0"),
        (3000, jan): ("-200", "0"),
    }


def test_july_fiscal_year_restarts_in_july_and_carries_over_new_year(acme):
    _rows(acme, _july_year())
    assert tieout_check(company=acme, years=[2024, 2025], start_month=7) == {}


def test_july_fiscal_year_chain_is_checked_over_new_year(acme):
    grid = _july_year()
    jan = datetime.date(2026, 1, 1)
    grid[(1920, jan)] = ("1300", "0")
    grid[(2050, jan)] = ("-1100", "0")  # still sums to zero, but does not chain from December
    _rows(acme, grid)
    problems = tieout_check(company=acme, years=[2024, 2025], start_month=7)
    assert list(problems) == [jan]
    assert [p for p in problems[jan] if "1920" in p]

"""Key figures and the indirect cash-flow statement against figures computed by hand.

The firm (Tripletex signs, debit +): balances at 31.12.2024
  1200 machines 100 000, 1300 shares in a subsidiary 200 000, 1460 goods 30 000,
  1500 receivables 40 000, 1920 bank 80 000                         (total assets 450 000)
  2000 share capital −100 000, 2050 other equity −150 000, 2220 long-term loan −120 000,
  2400 payables −50 000, 2500 tax payable −20 000, 2940 holiday pay −10 000 (sum −450 000)
and in Q1 2025 [2025-01-01, 2025-04-01):
  a) sales on credit 100 000 a month (3000 −, 1500 +)          b) customers pay 280 000
  c) goods sold 100 000 on credit (4300 +, 2400 −); suppliers paid 90 000
  d) more goods in stock 10 000, paid (1460 +)                  e) salaries 60 000, paid (5000)
  f) depreciation 5 000 (6010 +, 1200 −)                        g) a machine bought, 25 000
  h) interest 3 000, paid (8150)                                i) loan repaid 20 000 (2220 +)
  j) last year's tax paid 20 000 (2500 +)                       k) this year's tax 25 000 (8300/2500)
  l) dividend 15 000 allocated (8920 +, 2800 −) and paid (2800 +)
  m) dividend from the subsidiary 12 000 received (8000 −)
Balances at 31.03.2025: 1200 120 000 (100 000 − 5 000 + 25 000), 1300 200 000, 1460 40 000,
  1500 60 000 (40 000 + 300 000 − 280 000), 1920 129 000
  (80 000 + 280 000 − 90 000 − 10 000 − 60 000 − 25 000 − 3 000 − 20 000 − 20 000 − 15 000
  + 12 000); total assets 549 000.
  2000 −100 000, 2050 −150 000, 2220 −100 000, 2400 −60 000 (−50 000 − 100 000 + 90 000),
  2500 −25 000 (−20 000 + 20 000 − 25 000), 2800 0, 2940 −10 000.
Result: revenue 300 000; result before tax 300 000 − 100 000 − 60 000 − 5 000 + 12 000 − 3 000
  = 144 000; net result 144 000 − 25 000 = 119 000; not yet allocated 119 000 − 15 000 = 104 000.
  Equity = 100 000 + 150 000 + 104 000 = 354 000.
"""

import datetime
from decimal import Decimal

import pytest
from django_scopes import scope

from ledger.figures.keyfigures import cash_flow, key_figures
from tests.ledger.figures_data import month, seed_changes

D = Decimal
Q1_FROM, Q1_TO = datetime.date(2025, 1, 1), datetime.date(2025, 4, 1)
DEC, JAN, FEB, MAR = month(2024, 12), month(2025, 1), month(2025, 2), month(2025, 3)

KEYFIGURES_CHANGES = {
    1200: {DEC: 100_000, MAR: -5_000 + 25_000},
    1300: {DEC: 200_000},
    1460: {DEC: 30_000, MAR: 10_000},
    1500: {DEC: 40_000, JAN: 100_000, FEB: 100_000, MAR: 100_000 - 280_000},
    1920: {
        DEC: 80_000,
        MAR: 280_000
        - 90_000
        - 10_000
        - 60_000
        - 25_000
        - 3_000
        - 20_000
        - 20_000
        - 15_000
        + 12_000,
    },
    2000: {DEC: -100_000},
    2050: {DEC: -150_000},
    2220: {DEC: -120_000, MAR: 20_000},
    2400: {DEC: -50_000, MAR: -100_000 + 90_000},
    2500: {DEC: -20_000, MAR: 20_000 - 25_000},
    2800: {MAR: -15_000 + 15_000},
    2940: {DEC: -10_000},
    3000: {JAN: -100_000, FEB: -100_000, MAR: -100_000},
    4300: {MAR: 100_000},
    5000: {MAR: 60_000},
    6010: {MAR: 5_000},
    8000: {MAR: -12_000},
    8150: {MAR: 3_000},
    8300: {MAR: 25_000},
    8920: {MAR: 15_000},
}


@pytest.fixture
def keyfigures_company(acme):
    with scope(company=acme):
        seed_changes(acme, KEYFIGURES_CHANGES)
    return acme


def test_key_figures_match_the_hand_computed_values(keyfigures_company):
    with scope(company=keyfigures_company):
        figures = key_figures(company=keyfigures_company, date_from=Q1_FROM, date_to=Q1_TO)
    # Current assets 40 000 + 60 000 + 129 000 = 229 000; short-term debt 23xx–29xx
    # 60 000 + 25 000 + 0 + 10 000 = 95 000; 229 000 / 95 000 = 2.4105… → 2.41
    liquidity = figures["liquidity_ratio"]
    assert (liquidity.numerator, liquidity.denominator) == (D(229_000), D(95_000))
    assert liquidity.value == D("2.41")
    # Equity 354 000 / total assets 549 000 × 100 = 64.48… → 64.5 %
    assert (figures["equity_ratio"].numerator, figures["equity_ratio"].denominator) == (
        D(354_000),
        D(549_000),
    )
    assert figures["equity_ratio"].value == D("64.5")
    # Result before tax 144 000 / operating revenue 300 000 × 100 = 48.0 %
    assert figures["result_margin"].value == D("48.0")
    # Net result 119 000 / equity 354 000 × 100 = 33.61… → 33.6 %
    assert figures["return_on_equity"].numerator == D(119_000)
    assert figures["return_on_equity"].value == D("33.6")
    # (144 000 + interest 3 000) / 549 000 × 100 = 26.77… → 26.8 %
    assert figures["return_on_assets"].numerator == D(147_000)
    assert figures["return_on_assets"].value == D("26.8")
    assert all(f.formula for f in figures.figures)


def test_cash_flow_matches_the_hand_computed_statement(keyfigures_company):
    with scope(company=keyfigures_company):
        flow = cash_flow(company=keyfigures_company, date_from=Q1_FROM, date_to=Q1_TO)
    expected = {
        "pre_tax": 144_000,
        "other_result": 0,
        # −(tax expense 25 000 + change in 2500: −25 000 − (−20 000) = −5 000) = −20 000 paid
        "tax_paid": -20_000,
        "depreciation": 5_000,
        "inventory": -10_000,  # −(40 000 − 30 000)
        "receivables": -20_000,  # −(60 000 − 40 000)
        "payables": 10_000,  # −(−60 000 − (−50 000))
        "accruals": 0,
        "fixed_assets": -25_000,  # −((120 000 − 100 000) + depreciation 5 000): the machine
        "financial_assets": 0,
        "short_investments": 0,
        "long_term_debt": -20_000,  # −(−100 000 − (−120 000))
        "short_term_loans": 0,
        "equity": -15_000,  # −(Δ20xx 0 + Δ2800 0 + allocated dividend 15 000): paid out
    }
    assert {key: line.amount for key, line in flow.lines_by_key.items()} == {
        k: D(v) for k, v in expected.items()
    }
    # Operating 144 000 − 20 000 + 5 000 − 10 000 − 20 000 + 10 000 = 109 000: the direct
    # method's 280 000 − 90 000 − 10 000 − 60 000 − 3 000 − 20 000 + 12 000.
    totals = {s.key: s.total for s in flow.sections}
    assert totals == {"operating": D(109_000), "investing": D(-25_000), "financing": D(-35_000)}
    # 109 000 − 25 000 − 35 000 = 49 000 = bank 129 000 − 80 000
    assert (flow.net_change, flow.cash_opening, flow.cash_closing) == (
        D(49_000),
        D(80_000),
        D(129_000),
    )
    assert flow.is_reconciled


def test_one_month_and_the_figures_without_a_denominator(keyfigures_company):
    with scope(company=keyfigures_company):
        january = key_figures(
            company=keyfigures_company, date_from=JAN, date_to=datetime.date(2025, 2, 1)
        )
        flow = cash_flow(company=keyfigures_company, date_from=JAN, date_to=FEB)
    # January: only the sale of 100 000 on credit. Result before tax 100 000 / revenue 100 000.
    assert january["result_margin"].value == D("100.0")
    # Cash did not move: result 100 000 and receivables −100 000.
    assert (flow["pre_tax"].amount, flow["receivables"].amount) == (D(100_000), D(-100_000))
    assert flow.net_change == 0
    assert flow.is_reconciled
    with scope(company=keyfigures_company):
        december = key_figures(company=keyfigures_company, date_from=DEC, date_to=JAN)
    assert december["result_margin"].value is None  # no operating revenue: no margin


def test_books_that_do_not_balance_are_not_reconciled(acme):
    with scope(company=acme):
        seed_changes(acme, {1920: {JAN: 1_000}, 3000: {JAN: -900}})
        flow = cash_flow(company=acme, date_from=JAN, date_to=FEB)
    # Lines explain 900 of the 1 000 the bank grew by.
    assert (flow.net_change, flow.cash_closing - flow.cash_opening) == (D(900), D(1_000))
    assert not flow.is_reconciled


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        (datetime.date(2025, 1, 15), datetime.date(2025, 4, 1)),
        (datetime.date(2025, 4, 1), datetime.date(2025, 4, 1)),
        (datetime.date(2025, 4, 1), datetime.date(2025, 1, 1)),
    ],
)
def test_a_period_that_is_not_whole_months_is_refused(acme, date_from, date_to):
    with scope(company=acme), pytest.raises(ValueError, match="whole months"):
        key_figures(company=acme, date_from=date_from, date_to=date_to)
    with scope(company=acme), pytest.raises(ValueError, match="whole months"):
        cash_flow(company=acme, date_from=date_from, date_to=date_to)

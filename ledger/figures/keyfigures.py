"""Key figures and the indirect cash-flow statement of a period, from the synced balances.

Both take a half-open period [date_from, date_to) of whole months (dateTo exclusive, as everywhere
in the ledger). Balance figures are read at the end of the period's last month; result figures are
the period's sums. Nothing is annualised: the return figures of a quarter are the quarter's.

Key figures, as Statistics Norway defines them for Norwegian limited companies (SSB, "Nøkkeltall
for aksjeselskaper", https://www.ssb.no/418852/nokkeltall-for-aksjeselskaper, and its glossary
https://www.ssb.no/ajax/ordforklaring?key=327485 and ?key=280138), with the NS 4102 account
classes of `ledger.figures.layout` (eholding.no, "Kontokodeklasser",
http://www.eholding.no/regnskap/kontokodeklasser.htm):

* Liquidity ratio (likviditetsgrad 1) = current assets (14xx–19xx) / short-term debt (23xx–29xx).
* Equity ratio (egenkapitalandel) = equity / total assets × 100, equity being 20xx plus the year's
  result not yet moved to equity (the balance sheet's line of that name).
* Result margin (resultatgrad) = result before tax / operating revenue (3xxx) × 100.
* Return on equity (egenkapitalrentabilitet) = net result for the period / equity × 100.
* Return on assets (totalrentabilitet) = (result before tax + interest costs) / total assets × 100;
  interest costs are 8130–8159 (kontohjelp.no's 81 group: 8130 to companies in the same group,
  8140 not deductible, 8150 bank loans, 8154 overdraft, 8155 trade payables, 8159 other,
  https://kontohjelp.no/kontoplan/81-finanskostnad/8150-rentekostnad-banklan).

A figure whose denominator is zero (no operating revenue, no short-term debt) is None: shown "–".

The cash-flow statement follows the indirect method's Norwegian layout (result before tax, paid
tax, depreciation, working-capital changes; investing; financing; cash at the start and end, as
published statements show it, e.g. https://2016.him.as/resultatregnskap/kontantstromsanalyse/).
Every balance account falls in exactly one line, so the lines add up to the change in 19xx (bank
and cash) whenever the books balance; `is_reconciled` says whether they do. Depreciation (60xx) is
added back in operating and taken out of the fixed-asset line, so that line is the net purchase of
fixed assets. The year's result and dividends moved to equity (88xx–89xx against 20xx and 28xx)
cancel inside the equity line, so only paid-in equity and paid dividends remain there.
Limitation: a gain or loss on selling an asset stays in the result line (there is no voucher-level
split of proceeds); value changes of 18xx shares booked in the result likewise.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.accounts import (
    BALANCE,
    CURRENT_ASSETS,
    NET_RESULT,
    RESULT,
    SHORT_TERM_DEBT,
    AccountRange,
)
from ledger.figures.selectors import Dimensions, balances_at, money, results_through
from ledger.models import AccountBalance, Posting
from ledger.periods import add_months, fiscal_year_of, fiscal_year_start_month_of, month_next

ZERO = Decimal(0)

TOTAL_ASSETS = AccountRange(1000, 2000)
EQUITY = AccountRange(2000, 2100)
OPERATING_REVENUE = AccountRange(3000, 4000)
PRE_TAX = AccountRange(3000, 8300)
TAX = AccountRange(8300, 8400)
OTHER_RESULT = AccountRange(8400, 8800)
ALLOCATIONS = AccountRange(8800, 9000)
INTEREST_COSTS = AccountRange(8130, 8160)
DEPRECIATION = AccountRange(6000, 6100)
CASH = AccountRange(1900, 2000)


@dataclass(frozen=True)
class KeyFigure:
    """One key figure: its value (None when the denominator is zero) and how it is computed."""

    key: str
    label: str | Promise
    formula: str | Promise
    numerator: Decimal
    denominator: Decimal
    is_percent: bool

    @property
    def value(self) -> Decimal | None:
        if not self.denominator:
            return None
        ratio = self.numerator / self.denominator
        if self.is_percent:
            return (ratio * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return ratio.quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class KeyFigures:
    """The key figures of [date_from, date_to), balance figures at the end of its last month."""

    date_from: datetime.date
    date_to: datetime.date
    figures: list[KeyFigure]

    def __getitem__(self, key: str) -> KeyFigure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)


@dataclass(frozen=True)
class CashFlowLine:
    key: str
    label: str | Promise
    formula: str | Promise
    amount: Decimal


@dataclass(frozen=True)
class CashFlowSection:
    key: str
    label: str | Promise
    total_label: str | Promise
    lines: list[CashFlowLine]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class CashFlow:
    """The indirect cash-flow statement of [date_from, date_to) (cash = 19xx)."""

    date_from: datetime.date
    date_to: datetime.date
    sections: list[CashFlowSection]
    cash_opening: Decimal
    cash_closing: Decimal
    lines_by_key: dict[str, CashFlowLine] = field(default_factory=dict)

    @property
    def net_change(self) -> Decimal:
        return sum((s.total for s in self.sections), ZERO)

    @property
    def is_reconciled(self) -> bool:
        """True when the lines explain the change in cash exactly (the books balance)."""
        return self.cash_opening + self.net_change == self.cash_closing

    def __getitem__(self, key: str) -> CashFlowLine:
        return self.lines_by_key[key]


# ---- the amounts both read ----------------------------------------------------------------------


def _check_period(date_from: datetime.date, date_to: datetime.date) -> None:
    if date_from.day != 1 or date_to.day != 1 or date_from >= date_to:
        raise ValueError(f"not a period of whole months: [{date_from}, {date_to})")


def _result_changes(
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    dimensions: Dimensions | None = None,
) -> dict[int, Decimal]:
    """Each result account's change in [date_from, date_to) (Tripletex signs); with
    `dimensions`, summed from that department's or project's stored postings."""
    rows: Iterable[tuple[int, Decimal]]
    if dimensions is not None:
        rows = (
            Posting.objects.filter(
                company=company,
                **RESULT.lookups(),
                **dimensions.lookups(),
                date__gte=date_from,
                date__lt=date_to,
            )
            .values("account_number")
            .annotate(total=Sum("amount"))
            .values_list("account_number", "total")
        )
    else:
        rows = (
            AccountBalance.objects.filter(
                company=company, **RESULT.lookups(), month__gte=date_from, month__lt=date_to
            )
            .values("account_number")
            .annotate(total=Sum("balance_change"))
            .values_list("account_number", "total")
        )
    return {number: money(total) for number, total in rows}


def _balances(
    company: Company, month: datetime.date, dimensions: Dimensions | None
) -> dict[int, Decimal]:
    """Each balance account's balance at the end of `month`; with `dimensions`, the sum of that
    department's or project's stored postings up to then (as the balance sheet's filter)."""
    if dimensions is None:
        return balances_at(company=company, month=month)
    rows = (
        Posting.objects.filter(
            company=company,
            **BALANCE.lookups(),
            **dimensions.lookups(),
            date__lt=month_next(month),
        )
        .values("account_number")
        .annotate(total=Sum("amount"))
        .values_list("account_number", "total")
    )
    return {number: money(total) for number, total in rows}


def _unallocated(company: Company, last: datetime.date, dimensions: Dimensions | None) -> Decimal:
    """Raw sum of the result accounts from the fiscal year's start through `last`."""
    fiscal_year = fiscal_year_of(last, fiscal_year_start_month_of(company=company))
    if dimensions is None:
        now, _before = results_through(
            company=company, now=fiscal_year, at=last, before=fiscal_year.previous()
        )
        return now
    changes = _result_changes(company, fiscal_year.start, month_next(last), dimensions)
    return sum(changes.values(), ZERO)


def _sum(values: dict[int, Decimal], accounts: AccountRange) -> Decimal:
    return sum((v for n, v in values.items() if n in accounts), ZERO)


# ---- key figures --------------------------------------------------------------------------------


def key_figures(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    dimensions: Dimensions | None = None,
) -> KeyFigures:
    """Liquidity ratio, equity ratio, result margin, return on equity and on assets (4 queries);
    with `dimensions`, of one department's or project's stored postings.

    Raises ValueError unless [date_from, date_to) is a non-empty period of whole months."""
    _check_period(date_from, date_to)
    last = add_months(date_to, -1)
    closing = _balances(company, last, dimensions)
    unallocated = _unallocated(company, last, dimensions)
    results = _result_changes(company, date_from, date_to, dimensions)
    # Display signs: assets as stored (debit +), equity, debt and profit flipped (credit +).
    current_assets = _sum(closing, CURRENT_ASSETS)
    total_assets = _sum(closing, TOTAL_ASSETS)
    equity = -_sum(closing, EQUITY) - unallocated
    short_term_debt = -_sum(closing, SHORT_TERM_DEBT)
    revenue = -_sum(results, OPERATING_REVENUE)
    pre_tax = -_sum(results, PRE_TAX)
    net_result = -_sum(results, NET_RESULT)
    interest = _sum(results, INTEREST_COSTS)
    figures = [
        KeyFigure(
            "liquidity_ratio",
            _("Liquidity ratio"),
            _("Current assets (14xx–19xx) / short-term debt (23xx–29xx), at the period's end"),
            current_assets,
            short_term_debt,
            is_percent=False,
        ),
        KeyFigure(
            "equity_ratio",
            _("Equity ratio"),
            _(
                "Equity (20xx and the year's result not yet allocated) / total assets "
                "(1xxx) × 100, at the period's end"
            ),
            equity,
            total_assets,
            is_percent=True,
        ),
        KeyFigure(
            "result_margin",
            _("Result margin"),
            _("Result before tax (3000–8299) / operating revenue (3xxx) × 100, for the period"),
            pre_tax,
            revenue,
            is_percent=True,
        ),
        KeyFigure(
            "return_on_equity",
            _("Return on equity"),
            _(
                "Net result (3000–8799) for the period / equity at the period's end × 100 "
                "(not annualised)"
            ),
            net_result,
            equity,
            is_percent=True,
        ),
        KeyFigure(
            "return_on_assets",
            _("Return on assets"),
            _(
                "(Result before tax + interest costs 8130–8159) for the period / total assets "
                "at the period's end × 100 (not annualised)"
            ),
            pre_tax + interest,
            total_assets,
            is_percent=True,
        ),
    ]
    return KeyFigures(date_from, date_to, figures)


# ---- cash flow ----------------------------------------------------------------------------------

# A line's amount is Σ factor × (the period's sum of a result range, "r", or the change of a
# balance range from the opening to the closing balance, "d"), in Tripletex signs; a factor of −1
# turns credit into inflow. Every balance account 1000–2999 but cash (19xx) is in exactly one line,
# every result account in exactly one result term (60xx in two that cancel), so the lines add up to
# the change in cash when the books balance.
Term = tuple[str, AccountRange, int]
_B = AccountRange
_OPERATING: tuple[tuple[str, str | Promise, str | Promise, tuple[Term, ...]], ...] = (
    ("pre_tax", _("Result before tax"), _("−Σ 3000–8299"), (("r", PRE_TAX, -1),)),
    ("other_result", _("Other result items"), _("−Σ 8400–8799"), (("r", OTHER_RESULT, -1),)),
    (
        "tax_paid",
        _("Tax paid in the period"),
        _("−(tax expense 83xx + change in tax payable 25xx)"),
        (("r", TAX, -1), ("d", _B(2500, 2600), -1)),
    ),
    (
        "depreciation",
        _("Depreciation and write-downs"),
        _("+Σ 60xx"),
        (("r", DEPRECIATION, 1),),
    ),
    ("inventory", _("Change in inventory"), _("−Δ 14xx"), (("d", _B(1400, 1500), -1),)),
    ("receivables", _("Change in receivables"), _("−Δ 15xx"), (("d", _B(1500, 1600), -1),)),
    ("payables", _("Change in trade payables"), _("−Δ 24xx"), (("d", _B(2400, 2500), -1),)),
    (
        "accruals",
        _("Change in other accruals"),
        _("−Δ (16xx, 17xx, 21xx, 26xx, 27xx, 29xx)"),
        (
            ("d", _B(1600, 1800), -1),
            ("d", _B(2100, 2200), -1),
            ("d", _B(2600, 2800), -1),
            ("d", _B(2900, 3000), -1),
        ),
    ),
)
_INVESTING: tuple[tuple[str, str | Promise, str | Promise, tuple[Term, ...]], ...] = (
    (
        "fixed_assets",
        _("Purchase and sale of fixed assets (net)"),
        _("−(Δ 10xx–12xx + Σ 60xx)"),
        (("d", _B(1000, 1300), -1), ("r", DEPRECIATION, -1)),
    ),
    (
        "financial_assets",
        _("Investments in financial fixed assets (net)"),
        _("−Δ 13xx"),
        (("d", _B(1300, 1400), -1),),
    ),
    (
        "short_investments",
        _("Short-term investments (net)"),
        _("−Δ 18xx"),
        (("d", _B(1800, 1900), -1),),
    ),
)
_FINANCING: tuple[tuple[str, str | Promise, str | Promise, tuple[Term, ...]], ...] = (
    (
        "long_term_debt",
        _("Long-term debt raised or repaid (net)"),
        _("−Δ 22xx"),
        (("d", _B(2200, 2300), -1),),
    ),
    (
        "short_term_loans",
        _("Short-term loans and overdraft (net)"),
        _("−Δ 23xx"),
        (("d", _B(2300, 2400), -1),),
    ),
    (
        "equity",
        _("Equity paid in, dividends paid"),
        _("−(Δ 20xx + Δ 28xx + Σ 88xx–89xx)"),
        (("d", _B(2000, 2100), -1), ("d", _B(2800, 2900), -1), ("r", ALLOCATIONS, -1)),
    ),
)


def cash_flow(
    *,
    company: Company,
    date_from: datetime.date,
    date_to: datetime.date,
    dimensions: Dimensions | None = None,
) -> CashFlow:
    """The indirect cash-flow statement of [date_from, date_to) (3 queries); with `dimensions`,
    of one department's or project's stored postings.

    Raises ValueError unless the period is a non-empty period of whole months."""
    _check_period(date_from, date_to)
    opening = _balances(company, add_months(date_from, -1), dimensions)
    closing = _balances(company, add_months(date_to, -1), dimensions)
    delta = {n: closing.get(n, ZERO) - opening.get(n, ZERO) for n in set(opening) | set(closing)}
    sources = {"r": _result_changes(company, date_from, date_to, dimensions), "d": delta}
    by_key: dict[str, CashFlowLine] = {}
    sections = []
    for key, label, total_label, specs in (
        (
            "operating",
            _("Cash flow from operating activities"),
            _("Net cash flow from operating activities"),
            _OPERATING,
        ),
        (
            "investing",
            _("Cash flow from investing activities"),
            _("Net cash flow from investing activities"),
            _INVESTING,
        ),
        (
            "financing",
            _("Cash flow from financing activities"),
            _("Net cash flow from financing activities"),
            _FINANCING,
        ),
    ):
        lines = []
        for line_key, line_label, formula, terms in specs:
            amount = sum(
                (factor * _sum(sources[source], accounts) for source, accounts, factor in terms),
                ZERO,
            )
            by_key[line_key] = CashFlowLine(line_key, line_label, formula, amount)
            lines.append(by_key[line_key])
        sections.append(CashFlowSection(key, label, total_label, lines))
    return CashFlow(
        date_from,
        date_to,
        sections,
        cash_opening=_sum(opening, CASH),
        cash_closing=_sum(closing, CASH),
        lines_by_key=by_key,
    )

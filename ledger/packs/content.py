"""What a report pack shows: one firm, the fiscal year to date through one month.

Every figure comes from the selectors the figures pages use, so the PDF shows exactly the page's
numbers: the P&L from `ledger.figures.selectors.pnl_for_period` (display signs: revenue and profit
positive), the balance sheet from `balance_sheet_at`, the budget from
`ledger.budgets.selectors.budget_by_account` (the ledger's signs, flipped for display exactly as
the actual figure beside it). Columns of the P&L: the month, the fiscal year to date, the same
months last year, the change against last year, the budget of the months to date and the variance
against it (actual − budget, in display signs: positive is better for income and the result lines,
worse for costs, as on the P&L page).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from companies.models import Company
from ledger.budgets.selectors import budget_by_account
from ledger.figures.keyfigures import CashFlow, KeyFigure, KeyFigures, cash_flow, key_figures
from ledger.figures.layout import PNL_GROUPS, PNL_LAYOUT, TotalSpec, display_sign, group_of
from ledger.figures.selectors import (
    BalanceSheet,
    Period,
    Pnl,
    balance_sheet_at,
    figures_status_for,
    pnl_for_period,
)
from ledger.holdings.selectors import Position, Realisation, positions, realisations
from ledger.models import ReportComment
from ledger.models.reporting import Section
from ledger.periods import fiscal_year_of, fiscal_year_start_month_of, month_end, month_next
from ledger.sync.selectors import FiguresStatus

ZERO = Decimal(0)


@dataclass
class PnlRow:
    """One line of the pack's P&L, in display signs."""

    label: str
    kind: str  # "group" | "account" | "total"
    month: Decimal
    ytd: Decimal
    last_year: Decimal
    budget: Decimal | None

    @property
    def change(self) -> Decimal:
        return self.ytd - self.last_year

    @property
    def budget_variance(self) -> Decimal | None:
        return None if self.budget is None else self.ytd - self.budget


@dataclass
class Holdings:
    """What the firm holds at the end of the month, and what it sold in the year to date."""

    positions: list[Position]
    realisations: list[Realisation]

    @property
    def cost_total(self) -> Decimal:
        return sum((p.cost for p in self.positions), ZERO)

    @property
    def result_total(self) -> Decimal:
        return sum((r.result for r in self.realisations), ZERO)


def holdings_for(*, company: Company, period: Period) -> Holdings | None:
    """The holdings section (None for a firm that has never held securities here)."""
    end = month_end(period.through)
    held = positions(company=company, on=end)
    sold = [
        r for r in realisations(company=company) if period.fiscal_year.start <= r.trade_date <= end
    ]
    if not held and not sold:
        return None
    return Holdings(held, sold)


@dataclass
class PackContent:
    """Everything the PDF template renders."""

    company: Company
    period: Period
    status: FiguresStatus
    pnl_rows: list[PnlRow]
    has_budget: bool
    balance: BalanceSheet
    comments: dict[str, str]
    generated_at: datetime.datetime
    highlights: dict[str, Decimal] = field(default_factory=dict)
    key_figures: KeyFigures | None = None
    cash_flow: CashFlow | None = None
    holdings: Holdings | None = None

    @property
    def month(self) -> datetime.date:
        return self.period.through

    @property
    def key_figure_list(self) -> list[KeyFigure]:
        """The key figures (a template cannot reach KeyFigures.figures past its __getitem__)."""
        return self.key_figures.figures if self.key_figures else []


def pack_period(*, company: Company, month: datetime.date) -> Period:
    """The firm's fiscal year through `month` (display signs), as the figures pages resolve it."""
    start_month = fiscal_year_start_month_of(company=company)
    fiscal_year = fiscal_year_of(month, start_month)
    return Period(fiscal_year, month, False, start_month, [fiscal_year], True)


def comments_for(*, company: Company, month: datetime.date) -> dict[str, str]:
    """The accountant's stored comment per section for the month ('' where none)."""
    stored = dict(
        ReportComment.objects.filter(company=company, month=month).values_list("section", "text")
    )
    return {section: stored.get(section, "") for section in Section.values}


def pack_content(*, company: Company, month: datetime.date) -> PackContent:
    """The figures and comments of the firm's report pack through `month`."""
    period = pack_period(company=company, month=month)
    pnl = pnl_for_period(company=company, period=period)
    budget = budget_by_account(
        company=company, date_from=period.fiscal_year.start, date_to=month_next(month)
    )
    rows = pnl_rows(pnl, budget)
    date_from, date_to = period.fiscal_year.start, month_next(month)
    balance = balance_sheet_at(company=company, period=period)
    highlights = {
        "revenue": _row_ytd(pnl, "revenue"),
        "operating_result": _row_ytd(pnl, "operating_result"),
        "net_result": _row_ytd(pnl, "net_result"),
        "total_assets": balance.total_assets.amount,
        "equity": sum(
            (line.amount for line in balance.equity_liabilities[:2]), ZERO
        ),  # equity and the year's result not yet allocated
    }
    return PackContent(
        company=company,
        period=period,
        status=figures_status_for(company=company),
        pnl_rows=rows,
        has_budget=bool(budget),
        balance=balance,
        comments=comments_for(company=company, month=month),
        generated_at=timezone.localtime(),
        highlights=highlights,
        key_figures=key_figures(company=company, date_from=date_from, date_to=date_to),
        cash_flow=cash_flow(company=company, date_from=date_from, date_to=date_to),
        holdings=holdings_for(company=company, period=period),
    )


def _row_ytd(pnl: Pnl, key: str) -> Decimal:
    return next((line.cells.ytd for line in pnl.lines if line.key == key), ZERO)


def pnl_rows(pnl: Pnl, budget: dict[int, Decimal]) -> list[PnlRow]:
    """The P&L's groups with their accounts and result lines, with the budget beside them.

    An account with a budget but no actual amount still gets its row (zero actuals), so the group's
    budget is the sum of the rows under it. `budget` is in the ledger's signs; without any budget
    the budget cells are None (shown as a dash)."""
    has_budget = bool(budget)
    lines = {line.key: line for line in pnl.lines}
    by_group: dict[str, dict[int, Decimal]] = {}
    for number, amount in budget.items():
        owner = group_of(number, PNL_GROUPS)
        if owner is not None:
            by_group.setdefault(owner.key, {})[number] = amount
    rows: list[PnlRow] = []
    running_raw = ZERO
    for spec in PNL_LAYOUT:
        if isinstance(spec, TotalSpec):
            total = lines[spec.key]
            rows.append(
                PnlRow(
                    total.label,
                    "total",
                    total.cells.months[-1],
                    total.cells.ytd,
                    total.cells.last_year,
                    -running_raw if has_budget else None,
                )
            )
            continue
        group_budget = by_group.get(spec.key, {})
        line = lines.get(spec.key)
        if line is None and not group_budget:
            continue  # a group hidden when empty, with no budget either
        sign = display_sign(spec.nature, False)
        raw_group_budget = sum(group_budget.values(), ZERO)
        if spec.in_result:
            running_raw += raw_group_budget
        account_rows = []
        shown = set()
        for account in line.accounts if line else []:
            shown.add(account.number)
            account_budget = group_budget.get(account.number)
            account_rows.append(
                PnlRow(
                    f"{account.number} {account.name}",
                    "account",
                    account.cells.months[-1],
                    account.cells.ytd,
                    account.cells.last_year,
                    _budget_cell(account_budget, sign, has_budget),
                )
            )
        for number in sorted(set(group_budget) - shown):
            account_rows.append(
                PnlRow(str(number), "account", ZERO, ZERO, ZERO, group_budget[number] * sign)
            )
        account_rows.sort(key=lambda row: row.label)
        cells = line.cells if line else None
        rows.append(
            PnlRow(
                line.label if line else str(spec.label),
                "group",
                cells.months[-1] if cells else ZERO,
                cells.ytd if cells else ZERO,
                cells.last_year if cells else ZERO,
                raw_group_budget * sign if has_budget else None,
            )
        )
        rows.extend(account_rows)
    return rows


def _budget_cell(raw: Decimal | None, sign: int, has_budget: bool) -> Decimal | None:
    if not has_budget:
        return None
    return (raw or ZERO) * sign

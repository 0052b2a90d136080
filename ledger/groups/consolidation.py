"""Consolidation: the chosen firms' accounts summed, intercompany pairs eliminated, laid out as the
NS 4102 P&L and balance sheet with one column per firm, the eliminations and the group total.

Amounts are the ledger's (Tripletex's) signs, debit positive and credit negative, per firm and
account: result accounts (3000–8999) as the sum of the fiscal year's months through the chosen
month, balance accounts (1000–2999) as the balance at that month's end.

**Elimination.** A pair names an account of one firm and an account of another whose amounts are
the two sides of the same intercompany item (NS 4102, as the sources in README "Group view"
give it): the parent's 1300/1310 investment in a subsidiary (debit) against the subsidiary's
paid-in equity 2000/2020 (credit); a receivable 1320/1550/1560 against the other firm's payable
2920 (or 2800 for a dividend not paid yet); a dividend received 8000 against the subsidiary's
8920 allocation; a group contribution received 8002/8930 against 8935 given. A pair takes away
the amount both sides still have: when one is a debit of `a` and the other a credit of `b`, it
eliminates E = min(a, b) from each (the debit side −E, the credit side +E); sides of the same
sign, or a zero, eliminate nothing. So every elimination is a debit and a credit of the same
size: the group's balance sheet still balances, and whatever does not match (goodwill or excess
value when an investment exceeds the equity bought, a receivable the other firm has not booked)
stays on its account, where the page shows it as the pair's unmatched rest. Pairs are applied in
their order, each to what the pairs before it left, so one account may meet several others.

The balance sheet's "result for the year, not yet allocated" line is the result accounts after
elimination: eliminating a dividend (8000 against 8920) changes both sides of the result by the
same amount and so leaves the group's equity as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from ledger.accounts import BALANCE, RESULT
from ledger.figures.layout import (
    BALANCE_ASSETS,
    BALANCE_EQUITY_LIABILITIES,
    PNL_LAYOUT,
    GroupSpec,
    TotalSpec,
    display_sign,
)

ZERO = Decimal(0)

# {firm id: {account number: amount}}, Tripletex signs.
Amounts = Mapping[int, Mapping[int, Decimal]]


@dataclass(frozen=True)
class PairSpec:
    """One elimination pair: an account of firm A against an account of firm B."""

    firm_a: int
    account_a: int
    firm_b: int
    account_b: int
    kind: str = "other"
    key: int = 0


@dataclass(frozen=True)
class PairOutcome:
    """What a pair found (after the pairs before it) and eliminated, Tripletex signs."""

    pair: PairSpec
    amount_a: Decimal
    amount_b: Decimal
    eliminated: Decimal  # E ≥ 0, taken from each side

    @property
    def unmatched(self) -> Decimal:
        """What is left on the two sides together (their sum after elimination)."""
        return self.amount_a + self.amount_b

    @property
    def is_matched(self) -> bool:
        return self.eliminated > 0 and self.unmatched == 0


@dataclass
class Eliminations:
    """The eliminations per (firm, account) and each pair's outcome."""

    by_account: dict[tuple[int, int], Decimal]
    outcomes: list[PairOutcome]

    def for_account(self, number: int) -> Decimal:
        return sum((v for (_, n), v in self.by_account.items() if n == number), ZERO)


def eliminate(amounts: Amounts, pairs: Sequence[PairSpec]) -> Eliminations:
    """Apply the pairs in order to what is left of each (firm, account); see the module docstring."""
    left: dict[tuple[int, int], Decimal] = {}
    by_account: dict[tuple[int, int], Decimal] = {}
    outcomes = []
    for pair in pairs:
        side_a, side_b = (pair.firm_a, pair.account_a), (pair.firm_b, pair.account_b)
        if side_a == side_b:
            outcomes.append(PairOutcome(pair, ZERO, ZERO, ZERO))
            continue
        a = left.get(side_a, amounts.get(pair.firm_a, {}).get(pair.account_a, ZERO))
        b = left.get(side_b, amounts.get(pair.firm_b, {}).get(pair.account_b, ZERO))
        eliminated = min(abs(a), abs(b)) if (a > 0 > b) or (a < 0 < b) else ZERO
        change_a = -eliminated if a > 0 else eliminated
        left[side_a], left[side_b] = a + change_a, b - change_a
        if eliminated:
            by_account[side_a] = by_account.get(side_a, ZERO) + change_a
            by_account[side_b] = by_account.get(side_b, ZERO) - change_a
        outcomes.append(PairOutcome(pair, a, b, eliminated))
    return Eliminations(by_account, outcomes)


# ---- the statements -----------------------------------------------------------------------------


@dataclass
class Row:
    """A line of a group statement: one value per firm, then the eliminations, then the total.

    Values are in display signs (revenue, profit, equity and liabilities positive)."""

    key: str
    label: str
    kind: str  # "group" | "account" | "total" | "line" | "sum" | "check"
    values: list[Decimal]
    accounts: list[Row] = field(default_factory=list)

    @property
    def eliminations(self) -> Decimal:
        return self.values[-2]

    @property
    def total(self) -> Decimal:
        return self.values[-1]


@dataclass
class GroupStatements:
    firm_ids: list[int]
    pnl: list[Row]
    assets: list[Row]
    equity_liabilities: list[Row]
    total_assets: Row
    total_equity_liabilities: Row
    check: Row
    eliminations: Eliminations

    @property
    def is_balanced(self) -> bool:
        return all(v == 0 for v in self.check.values)

    def pnl_row(self, key: str) -> Row:
        return next(r for r in self.pnl if r.key == key)


def _vector(
    firm_ids: list[int], amounts: Amounts, elims: Eliminations, number: int
) -> list[Decimal]:
    """Raw amounts of one account: each firm's, the eliminations, and the group total."""
    values = [amounts.get(f, {}).get(number, ZERO) for f in firm_ids]
    eliminated = sum((elims.by_account.get((f, number), ZERO) for f in firm_ids), ZERO)
    return [*values, eliminated, sum(values, ZERO) + eliminated]


def _add(a: list[Decimal], b: list[Decimal]) -> list[Decimal]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _scaled(values: list[Decimal], sign: int) -> list[Decimal]:
    return [v * sign for v in values]


def _group_row(
    spec: GroupSpec,
    numbers: list[int],
    raw: dict[int, list[Decimal]],
    names: Mapping[int, str],
    width: int,
) -> tuple[Row, list[Decimal]]:
    """A group's row with its accounts (display signs), and its raw sum."""
    sign = display_sign(spec.nature, False)
    members = [n for n in numbers if n in spec]
    group_raw = [ZERO] * width
    accounts = []
    for n in members:
        group_raw = _add(group_raw, raw[n])
        label = f"{n} {names.get(n, '')}".strip()
        accounts.append(Row(str(n), label, "account", _scaled(raw[n], sign)))
    row = Row(spec.key, str(spec.label), "group", _scaled(group_raw, sign), accounts)
    return row, group_raw


def group_statements(
    *,
    firm_ids: list[int],
    amounts: Amounts,
    pairs: Sequence[PairSpec],
    names: Mapping[int, str],
) -> GroupStatements:
    """The consolidated P&L and balance sheet (display signs) with per-firm columns."""
    elims = eliminate(amounts, pairs)
    width = len(firm_ids) + 2
    numbers = sorted({n for firm in firm_ids for n in amounts.get(firm, {})})
    raw = {n: _vector(firm_ids, amounts, elims, n) for n in numbers}
    pnl: list[Row] = []
    running = [ZERO] * width
    result_numbers = [n for n in numbers if n in RESULT]
    for spec in PNL_LAYOUT:
        if isinstance(spec, TotalSpec):
            pnl.append(Row(spec.key, str(spec.label), "total", _scaled(running, -1)))
            continue
        row, group_raw = _group_row(spec, result_numbers, raw, names, width)
        if spec.hide_when_empty and not row.accounts:
            continue
        if spec.in_result:
            running = _add(running, group_raw)
        pnl.append(row)
    all_results = [ZERO] * width
    for n in result_numbers:
        all_results = _add(all_results, raw[n])
    balance_numbers = [n for n in numbers if n in BALANCE]
    assets = [_group_row(s, balance_numbers, raw, names, width)[0] for s in BALANCE_ASSETS]
    equity_liabilities = [
        _group_row(s, balance_numbers, raw, names, width)[0] for s in BALANCE_EQUITY_LIABILITIES
    ]
    equity_liabilities.insert(
        1,
        Row(
            "unallocated_result",
            _("Result for the year, not yet allocated"),
            "line",
            _scaled(all_results, -1),
        ),
    )
    total_assets = _sum_row("total_assets", _("Total assets"), assets, width)
    total_el = _sum_row(
        "total_equity_liabilities", _("Total equity and liabilities"), equity_liabilities, width
    )
    check = Row(
        "check",
        _("Difference (assets − equity and liabilities)"),
        "check",
        [a - b for a, b in zip(total_assets.values, total_el.values, strict=True)],
    )
    return GroupStatements(
        firm_ids, pnl, assets, equity_liabilities, total_assets, total_el, check, elims
    )


def _sum_row(key: str, label: str, rows: list[Row], width: int) -> Row:
    values = [ZERO] * width
    for row in rows:
        values = _add(values, row.values)
    return Row(key, label, "sum", values)

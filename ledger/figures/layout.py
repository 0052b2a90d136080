"""The NS 4102 layout of the figures pages: which accounts make up which P&L and balance-sheet line.

Groups are account-number ranges (`ledger.accounts.AccountRange`, half-open) of the Norwegian
standard chart of accounts, in the order of the oppstillingsplan. A group is income-natured
(credit: revenue, financial income, equity, liabilities) or cost-natured (debit: costs, assets);
in the default display signs the income-natured groups and every result line are flipped, so that
profit and revenue read positive (`display_sign`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ledger.accounts import RESULT, AccountRange

INCOME = "income"  # credit-natured: shown flipped in display signs
COST = "cost"  # debit-natured: shown as stored

# 8800–8999 (the year's result and its allocation to equity) follow the net result: shown, never
# summed into it.
ALLOCATIONS = AccountRange(8800, RESULT.end)
# The accounts whose changes make up the net result for the year.
NET_RESULT = AccountRange(RESULT.first, ALLOCATIONS.first)


@dataclass(frozen=True)
class GroupSpec:
    """One group of accounts: its account-number ranges and whether it is income or cost."""

    key: str
    label: str | Promise
    ranges: tuple[AccountRange, ...]
    nature: str
    hide_when_empty: bool = False
    in_result: bool = True

    def __contains__(self, number: int) -> bool:
        return any(number in accounts for accounts in self.ranges)


@dataclass(frozen=True)
class TotalSpec:
    """A result line: the sum of every group above it that counts in the result."""

    key: str
    label: str | Promise


PNL_LAYOUT: tuple[GroupSpec | TotalSpec, ...] = (
    GroupSpec("revenue", _("Operating revenue"), (AccountRange(3000, 4000),), INCOME),
    GroupSpec("cogs", _("Cost of goods sold"), (AccountRange(4000, 5000),), COST),
    GroupSpec("payroll", _("Payroll expenses"), (AccountRange(5000, 6000),), COST),
    GroupSpec("depreciation", _("Depreciation"), (AccountRange(6000, 6100),), COST),
    GroupSpec("opex", _("Other operating expenses"), (AccountRange(6100, 8000),), COST),
    TotalSpec("operating_result", _("Operating result")),
    GroupSpec("fin_income", _("Financial income"), (AccountRange(8000, 8100),), INCOME),
    # NS 4102 leaves 82xx unused; anything booked there is a financial item, not tax.
    GroupSpec("fin_cost", _("Financial expenses"), (AccountRange(8100, 8300),), COST),
    TotalSpec("pre_tax", _("Result before tax")),
    GroupSpec("tax", _("Tax expense"), (AccountRange(8300, 8400),), COST),
    # 84xx–87xx (the old extraordinary items) only appear in old charts of accounts.
    GroupSpec(
        "other",
        _("Other result items"),
        (AccountRange(8400, ALLOCATIONS.first),),
        COST,
        hide_when_empty=True,
    ),
    TotalSpec("net_result", _("Net result for the year")),
    GroupSpec(
        "allocations",
        _("Transfers and allocations"),
        (ALLOCATIONS,),
        COST,
        hide_when_empty=True,
        in_result=False,
    ),
)
PNL_GROUPS: tuple[GroupSpec, ...] = tuple(s for s in PNL_LAYOUT if isinstance(s, GroupSpec))

BALANCE_ASSETS: tuple[GroupSpec, ...] = (
    GroupSpec("fixed_assets", _("Fixed assets"), (AccountRange(1000, 1400),), COST),
    GroupSpec("current_assets", _("Current assets"), (AccountRange(1400, 2000),), COST),
)
BALANCE_EQUITY_LIABILITIES: tuple[GroupSpec, ...] = (
    GroupSpec("equity", _("Equity"), (AccountRange(2000, 2100),), INCOME),
    GroupSpec("long_term_debt", _("Long-term liabilities"), (AccountRange(2100, 2300),), INCOME),
    GroupSpec("short_term_debt", _("Current liabilities"), (AccountRange(2300, 3000),), INCOME),
)

# Every group a page can open or close, P&L first.
GROUP_KEYS: list[str] = [s.key for s in (*PNL_GROUPS, *BALANCE_ASSETS, *BALANCE_EQUITY_LIABILITIES)]


def display_sign(nature: str, is_raw: bool) -> int:
    """The factor that turns a stored (Tripletex) amount of a group of `nature` into a shown one."""
    return 1 if is_raw or nature == COST else -1


def group_of(number: int, specs: Iterable[GroupSpec]) -> GroupSpec | None:
    """The first of `specs` that holds account `number`, if any."""
    for spec in specs:
        if number in spec:
            return spec
    return None


def pnl_members(numbers: Iterable[int]) -> dict[str, list[int]]:
    """The P&L group key of each account number, as {group key: sorted account numbers}."""
    members: dict[str, list[int]] = defaultdict(list)
    for number in sorted(numbers):
        spec = group_of(number, PNL_GROUPS)
        if spec is not None:
            members[spec.key].append(number)
    return members

"""The account ranges (ledger/accounts.py) and the NS 4102 layout built on them."""

from ledger.accounts import ACCOUNT_NUMBERS, BALANCE, RESULT, AccountRange, is_result_account
from ledger.figures.layout import (
    ALLOCATIONS,
    BALANCE_ASSETS,
    BALANCE_EQUITY_LIABILITIES,
    NET_RESULT,
    PNL_GROUPS,
    group_of,
    pnl_members,
)


def test_ranges_are_half_open():
    assert [n in RESULT for n in (2999, 3000, 8999, 9000)] == [False, True, True, False]
    assert [n in BALANCE for n in (999, 1000, 2999, 3000)] == [False, True, True, False]
    assert (RESULT.first, RESULT.last) == (3000, 8999)
    assert (ACCOUNT_NUMBERS.first, ACCOUNT_NUMBERS.last) == (1000, 99999)
    assert [is_result_account(n) for n in (1920, 3000, 8070, 8999, 9000)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_lookups_select_the_same_numbers_as_membership():
    assert AccountRange(3000, 4000).lookups() == {
        "account_number__gte": 3000,
        "account_number__lt": 4000,
    }
    assert BALANCE.lookups("number") == {"number__gte": 1000, "number__lt": 3000}


def test_every_result_account_is_in_exactly_one_pnl_group():
    for number in range(RESULT.first, RESULT.end):
        holders = [spec.key for spec in PNL_GROUPS if number in spec]
        assert len(holders) == 1, (number, holders)
    assert group_of(RESULT.first - 1, PNL_GROUPS) is None
    assert group_of(RESULT.end, PNL_GROUPS) is None


def test_every_balance_account_is_in_exactly_one_balance_group():
    groups = (*BALANCE_ASSETS, *BALANCE_EQUITY_LIABILITIES)
    for number in range(BALANCE.first, BALANCE.end):
        holders = [spec.key for spec in groups if number in spec]
        assert len(holders) == 1, (number, holders)


def test_net_result_and_allocations_split_the_result_accounts():
    assert (NET_RESULT.first, NET_RESULT.end, ALLOCATIONS.end) == (
        RESULT.first,
        ALLOCATIONS.first,
        RESULT.end,
    )
    in_result = {
        n
        for spec in PNL_GROUPS
        if spec.in_result
        for r in spec.ranges
        for n in range(r.first, r.end)
    }
    assert in_result == set(range(NET_RESULT.first, NET_RESULT.end))


def test_pnl_members_groups_sorted_numbers_and_drops_balance_accounts():
    assert pnl_members([8070, 1920, 3000, 8040, 8960]) == {
        "revenue": [3000],
        "fin_income": [8040, 8070],
        "allocations": [8960],
    }

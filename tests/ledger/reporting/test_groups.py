"""The group view: a holding company and two subsidiaries consolidated, with the eliminations a
person computed by hand; proposals from the charts; confirmation; who may see it.

The books (Tripletex signs, debit +, credit −), all in March 2025:

Holding (H): 1300 investment in S1 +100 000, 1310 investment in S2 +50 000, 1560 receivable on S1
+20 000, 1920 bank +68 000, 2000 share capital −200 000, 2050 other equity −10 000, 8000 dividend
from S1 −30 000, 6500 cost +2 000.          (100 + 50 + 20 + 68 − 200 − 10 − 30 + 2 = 0)
S1: 2000 −100 000, 2050 −5 000, 2920 payable to H −20 000, 1920 +155 000, 3000 −80 000, 6300
+20 000, 8920 dividend allocated +30 000 (paid from the bank).   (−100 − 5 − 20 + 155 − 80 + 20 + 30 = 0)
S2: 2000 −30 000, 2020 share premium −30 000, 1920 +75 000, 3000 −40 000, 5000 +25 000.  (= 0)

Pairs, in order, each on what the ones before left:
1. H 1300 +100 000 ↔ S1 2000 −100 000: E = 100 000, nothing left.
2. H 1310 +50 000 ↔ S2 2000 −30 000: E = 30 000; H 1310 keeps 20 000.
3. H 1310 +20 000 ↔ S2 2020 −30 000: E = 20 000; S2 2020 keeps −10 000 (unmatched −10 000).
4. H 1560 +20 000 ↔ S1 2920 −20 000: E = 20 000.
5. S1 8920 +30 000 ↔ H 8000 −30 000: E = 30 000.

Group P&L (revenue and result positive): revenue 80 000 + 40 000 = 120 000; payroll 25 000; other
operating costs 20 000 + 2 000 = 22 000; operating result 120 000 − 25 000 − 22 000 = 73 000;
financial income 30 000 − 30 000 = 0; net result H 28 000 + S1 60 000 + S2 15 000 − 30 000 = 73 000.
Group balance: fixed assets 150 000 − 150 000 = 0; current assets 88 000 + 155 000 + 75 000 −
20 000 = 298 000 = total assets; equity 210 000 + 105 000 + 60 000 − 150 000 = 225 000; result not
allocated 28 000 + 30 000 + 15 000 + 0 = 73 000 (8000 and 8920 eliminate each other); short-term
debt 20 000 − 20 000 = 0; total equity and liabilities 225 000 + 73 000 = 298 000.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from companies.services import company_create, membership_set
from ledger.groups.consolidation import PairSpec, eliminate
from ledger.groups.selectors import group_view
from ledger.groups.services import group_create, mapping_confirm, pairs_propose
from ledger.models import CompanyGroup, EliminationPair
from tests.ledger.figures_data import month, seed_changes

pytestmark = pytest.mark.django_db
D = Decimal
MARCH = month(2025, 3)

BOOKS = {
    "H": {
        1300: 100_000,
        1310: 50_000,
        1560: 20_000,
        1920: 68_000,
        2000: -200_000,
        2050: -10_000,
        8000: -30_000,
        6500: 2_000,
    },
    "S1": {
        2000: -100_000,
        2050: -5_000,
        2920: -20_000,
        1920: 155_000,
        3000: -80_000,
        6300: 20_000,
        8920: 30_000,
    },
    "S2": {2000: -30_000, 2020: -30_000, 1920: 75_000, 3000: -40_000, 5000: 25_000},
}
ORG = {"H": "910000004", "S1": "910000012", "S2": "910000020"}


@pytest.fixture
def group_firms(anders):
    firms = {}
    for key, books in BOOKS.items():
        firm = company_create(org_number=ORG[key], name=f"{key} AS")
        membership_set(company=firm, user=anders, role="accountant")
        with scope(company=firm):
            seed_changes(firm, {n: {MARCH: v} for n, v in books.items()})
        firms[key] = firm
    return firms


def _pairs(firms):
    h, s1, s2 = firms["H"], firms["S1"], firms["S2"]
    return [
        ("investment", h, 1300, s1, 2000),
        ("investment", h, 1310, s2, 2000),
        ("investment", h, 1310, s2, 2020),
        ("balance", h, 1560, s1, 2920),
        ("dividend", s1, 8920, h, 8000),
    ]


@pytest.fixture
def confirmed_group(group_firms, anders):
    with scope(company=group_firms["H"]):
        group = group_create(
            parent=group_firms["H"],
            name="H konsern",
            member_ids=[group_firms["S1"].pk, group_firms["S2"].pk],
            by=anders,
        )
        for i, (kind, fa, aa, fb, ab) in enumerate(_pairs(group_firms)):
            EliminationPair.objects.create(
                group=group,
                kind=kind,
                firm_a=fa,
                account_a=aa,
                firm_b=fb,
                account_b=ab,
                position=i,
            )
        mapping_confirm(group=group, by=anders)
    return group


def _fy(firm):
    from ledger.periods import fiscal_year_of

    return fiscal_year_of(MARCH, 1)


def _columns(row):
    return [int(v) for v in row.values]


def test_the_hand_computed_consolidation(confirmed_group, group_firms):
    with scope(company=group_firms["H"]):
        view = group_view(group=confirmed_group, fiscal_year=_fy(None), through=MARCH)
    s = view.statements
    assert [f.name for f in view.firms] == ["H AS", "S1 AS", "S2 AS"]
    outcomes = [(o.eliminated, o.unmatched) for o in s.eliminations.outcomes]
    assert outcomes == [
        (D(100_000), D(0)),
        (D(30_000), D(20_000)),
        (D(20_000), D(-10_000)),
        (D(20_000), D(0)),
        (D(30_000), D(0)),
    ]
    # Columns: H, S1, S2, eliminations, group.
    assert _columns(s.pnl_row("revenue")) == [0, 80_000, 40_000, 0, 120_000]
    assert _columns(s.pnl_row("payroll")) == [0, 0, 25_000, 0, 25_000]
    assert _columns(s.pnl_row("opex")) == [2_000, 20_000, 0, 0, 22_000]
    assert _columns(s.pnl_row("operating_result")) == [-2_000, 60_000, 15_000, 0, 73_000]
    assert _columns(s.pnl_row("fin_income")) == [30_000, 0, 0, -30_000, 0]
    assert _columns(s.pnl_row("net_result")) == [28_000, 60_000, 15_000, -30_000, 73_000]
    assert _columns(s.pnl_row("allocations")) == [0, 30_000, 0, -30_000, 0]
    fixed, current = s.assets
    assert _columns(fixed) == [150_000, 0, 0, -150_000, 0]
    assert _columns(current) == [88_000, 155_000, 75_000, -20_000, 298_000]
    assert _columns(s.total_assets) == [238_000, 155_000, 75_000, -170_000, 298_000]
    equity, unallocated, long_term, short_term = s.equity_liabilities
    assert _columns(equity) == [210_000, 105_000, 60_000, -150_000, 225_000]
    assert _columns(unallocated) == [28_000, 30_000, 15_000, 0, 73_000]
    assert _columns(short_term) == [0, 20_000, 0, -20_000, 0]
    assert _columns(s.total_equity_liabilities) == [238_000, 155_000, 75_000, -170_000, 298_000]
    assert s.is_balanced
    # The unmatched share premium stays on S2's 2020 in the group column.
    premium = next(a for a in equity.accounts if a.key == "2020")
    assert _columns(premium) == [0, 0, 30_000, -20_000, 10_000]


def test_nothing_is_eliminated_before_the_mapping_is_confirmed(confirmed_group, group_firms):
    confirmed_group.mapping_confirmed_at = None
    confirmed_group.save()
    with scope(company=group_firms["H"]):
        view = group_view(group=confirmed_group, fiscal_year=_fy(None), through=MARCH)
    assert not view.is_confirmed
    assert _columns(view.statements.pnl_row("net_result")) == [28_000, 60_000, 15_000, 0, 103_000]
    assert view.statements.is_balanced  # summing alone balances too


def test_proposals_from_the_charts_are_the_hand_mapping(group_firms, anders):
    with scope(company=group_firms["H"]):
        group = group_create(
            parent=group_firms["H"],
            name="H konsern",
            member_ids=[group_firms["S1"].pk, group_firms["S2"].pk],
            by=anders,
        )
        count = pairs_propose(group=group, fiscal_year=_fy(None), through=MARCH)
    proposed = {
        (p.kind, p.firm_a_id, p.account_a, p.firm_b_id, p.account_b) for p in group.pairs.all()
    }
    expected = {(k, fa.pk, aa, fb.pk, ab) for k, fa, aa, fb, ab in _pairs(group_firms)}
    # 1300 and 1310 are both proposed against each subsidiary's paid-in equity; the person
    # removes the pairs that do not belong (1300 ↔ S2, 1310 ↔ S1).
    h, s1, s2 = group_firms["H"], group_firms["S1"], group_firms["S2"]
    extra = {
        ("investment", h.pk, 1300, s2.pk, 2000),
        ("investment", h.pk, 1300, s2.pk, 2020),
        ("investment", h.pk, 1310, s1.pk, 2000),
    }
    assert proposed == expected | extra
    assert count == len(proposed)
    with scope(company=group_firms["H"]):
        group.refresh_from_db()
    assert group.mapping_confirmed_at is None


def test_eliminate_takes_the_smaller_side_and_never_the_same_sign():
    amounts = {1: {1300: D(150)}, 2: {2000: D(-100)}, 3: {2000: D(40)}}
    result = eliminate(amounts, [PairSpec(1, 1300, 2, 2000), PairSpec(1, 1300, 3, 2000)])
    first, second = result.outcomes
    assert (first.eliminated, first.unmatched) == (D(100), D(50))
    assert (second.amount_a, second.eliminated) == (D(50), D(0))  # both debit: nothing
    assert result.by_account == {(1, 1300): D(-100), (2, 2000): D(100)}


def test_the_group_page_and_who_may_see_it(client, anders, confirmed_group, group_firms):
    client.force_login(anders)
    url = reverse("ledger:group", kwargs={"company_slug": group_firms["H"].slug})
    page = client.get(url, {"ar": 2025, "mnd": 3})
    assert page.status_code == 200
    html = page.content.decode()
    assert "S1 AS" in html
    assert "S2 AS" in html
    assert 'data-testid="mapping-confirmed"' in html
    assert "298\u00a0000,00" in html
    mapping = client.get(
        reverse("ledger:group_mapping", kwargs={"company_slug": group_firms["H"].slug}),
        {"ar": 2025, "mnd": 3},
    )
    assert mapping.status_code == 200
    # Without access to S2 the group's figures are not shown at all.
    group_firms["S2"].memberships.filter(user=anders).delete()
    blocked = client.get(url, {"ar": 2025, "mnd": 3})
    assert blocked.status_code == 403
    assert "S2 AS" not in blocked.content.decode()


def test_creating_a_group_takes_only_firms_one_can_open(client, anders, group_firms):
    outsider = company_create(org_number="910000039", name="Fremmed AS")
    client.force_login(anders)
    url = reverse("ledger:group", kwargs={"company_slug": group_firms["H"].slug})
    bad = client.post(url, {"name": "X", "members": [outsider.pk]})
    assert bad.status_code == 400
    good = client.post(url, {"name": "H konsern", "members": [group_firms["S1"].pk]})
    assert good.status_code == 302
    with scopes_disabled():
        group = CompanyGroup.objects.get()
        assert list(group.members.all()) == [group_firms["S1"]]
        # Proposed at once: H's 1300 and 1310 against S1's 2000 (2050 is not paid-in equity),
        # H's 1560 against S1's 2920, and S1's 8920 against H's 8000.
        assert group.pairs.count() == 4

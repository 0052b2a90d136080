"""Groups: create one for a holding company, choose its subsidiaries, propose the elimination
pairs from the firms' amounts, change them, and confirm the mapping (which makes it count).

Every change to the members or the pairs withdraws the confirmation: the figures never eliminate
by a mapping nobody has looked at. Only firms the person may read can be put in a group.

Proposals follow NS 4102 as the sources in README "Group view" give it (kontohjelp.no's 13, 15
and 89 groups, Tripletex's account help for 1320 and 2800, regnskapsskole.no on group
contributions): an account is proposed only when it has an amount at the proposal's month.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.accounts import AccountRange
from ledger.groups.selectors import firm_amounts, group_firms, readable_firm_ids
from ledger.models import CompanyGroup, EliminationPair
from ledger.periods import FiscalYear

Kind = EliminationPair.Kind

# (kind, debit-side accounts, credit-side accounts, who holds the debit side)
# "parent": the parent's account against each subsidiary's; "any": each firm's against each other's.
PROPOSALS: tuple[tuple[str, AccountRange, AccountRange, str], ...] = (
    # 1300 Investeringer i datterselskaper / 1310 … i annet foretak i samme konsern against the
    # subsidiary's paid-in equity: 2000 Aksjekapital, 2020 Overkurs, 2030 Annen innskutt egenkapital.
    (Kind.INVESTMENT, AccountRange(1300, 1320), AccountRange(2000, 2040), "parent"),
    # Loans 1320–1329 and receivables 1550–1569 on companies in the same group against
    # 2920 Gjeld til selskap i samme konsern.
    (Kind.BALANCE, AccountRange(1320, 1330), AccountRange(2920, 2930), "any"),
    (Kind.BALANCE, AccountRange(1550, 1570), AccountRange(2920, 2930), "any"),
    # A dividend receivable against the subsidiary's 2800 Avsatt utbytte; the parent's 8000
    # Aksjeutbytte fra datterselskap against the subsidiary's 8920–8922 Avsatt utbytte.
    (Kind.DIVIDEND, AccountRange(1550, 1570), AccountRange(2800, 2810), "parent"),
    (Kind.DIVIDEND, AccountRange(8920, 8923), AccountRange(8000, 8001), "child"),
    # Group contributions: 8935 Avsatt konsernbidrag (given) against 8002 / 8930 Mottatt
    # konsernbidrag (received).
    (Kind.CONTRIBUTION, AccountRange(8935, 8936), AccountRange(8002, 8003), "child"),
    (Kind.CONTRIBUTION, AccountRange(8935, 8936), AccountRange(8930, 8931), "child"),
)


class GroupError(Exception):
    """A change that cannot be made; the message is for the person who asked."""


def _unconfirm(group: CompanyGroup) -> None:
    group.mapping_confirmed_at, group.mapping_confirmed_by = None, None
    group.save(update_fields=["mapping_confirmed_at", "mapping_confirmed_by"])


def _members_checked(*, by: User, parent: Company, member_ids: Iterable[int]) -> list[Company]:
    ids = set(member_ids) - {parent.pk}
    if not ids:
        raise GroupError(_("Choose at least one subsidiary."))
    if not ids <= readable_firm_ids(user=by):
        raise GroupError(_("You can only add firms you can open."))
    return list(Company.objects.filter(pk__in=ids))


@transaction.atomic
def group_create(
    *, parent: Company, name: str, member_ids: Iterable[int], by: User
) -> CompanyGroup:
    """Create the parent's group with its subsidiaries; the mapping starts unconfirmed."""
    if CompanyGroup.objects.filter(company=parent).exists():
        raise GroupError(_("This company already has a group."))
    members = _members_checked(by=by, parent=parent, member_ids=member_ids)
    group = CompanyGroup.objects.create(company=parent, name=name.strip(), created_by=by)
    group.members.set(members)
    return group


@transaction.atomic
def group_members_set(*, group: CompanyGroup, member_ids: Iterable[int], by: User) -> None:
    """Replace the subsidiaries (pairs of firms no longer in the group go too)."""
    members = _members_checked(by=by, parent=group.company, member_ids=member_ids)
    group.members.set(members)
    keep = {group.company_id, *(m.pk for m in members)}
    group.pairs.exclude(firm_a__in=keep, firm_b__in=keep).delete()
    _unconfirm(group)


def proposals(
    firms: list[Company], amounts: dict[int, dict[int, Decimal]]
) -> list[tuple[str, int, int, int, int]]:
    """(kind, firm A, account A, firm B, account B) for each proposed pair, in order."""
    parent, children = firms[0], firms[1:]
    found: list[tuple[str, int, int, int, int]] = []
    for kind, debit, credit, holder in PROPOSALS:
        if holder == "parent":
            couples = [(parent, child) for child in children]
        elif holder == "child":
            couples = [(child, parent) for child in children]
        else:
            couples = [(x, y) for x in firms for y in firms if x.pk != y.pk]
        for x, y in couples:
            for a in sorted(n for n, v in amounts[x.pk].items() if n in debit and v):
                for b in sorted(n for n, v in amounts[y.pk].items() if n in credit and v):
                    found.append((str(kind), x.pk, a, y.pk, b))
    return found


@transaction.atomic
def pairs_propose(*, group: CompanyGroup, fiscal_year: FiscalYear, through: datetime.date) -> int:
    """Replace the pairs with the ones proposed from the firms' amounts through `through`."""
    firms = group_firms(group)
    amounts = {
        f.pk: firm_amounts(company=f, fiscal_year=fiscal_year, through=through) for f in firms
    }
    found = proposals(firms, amounts)
    group.pairs.all().delete()
    EliminationPair.objects.bulk_create(
        [
            EliminationPair(
                group=group,
                kind=kind,
                firm_a_id=fa,
                account_a=aa,
                firm_b_id=fb,
                account_b=ab,
                position=i,
            )
            for i, (kind, fa, aa, fb, ab) in enumerate(found)
        ]
    )
    _unconfirm(group)
    return len(found)


@transaction.atomic
def pair_add(
    *,
    group: CompanyGroup,
    kind: str,
    firm_a: Company,
    account_a: int,
    firm_b: Company,
    account_b: int,
) -> EliminationPair:
    """Add a pair at the end of the mapping."""
    firm_ids = {f.pk for f in group_firms(group)}
    if firm_a.pk not in firm_ids or firm_b.pk not in firm_ids:
        raise GroupError(_("Both firms must be in the group."))
    if firm_a.pk == firm_b.pk:
        raise GroupError(_("A pair eliminates between two different firms."))
    last = group.pairs.order_by("-position").values_list("position", flat=True).first()
    pair = EliminationPair.objects.create(
        group=group,
        kind=kind,
        firm_a=firm_a,
        account_a=account_a,
        firm_b=firm_b,
        account_b=account_b,
        position=(last or 0) + 1,
    )
    _unconfirm(group)
    return pair


@transaction.atomic
def pairs_remove(*, group: CompanyGroup, pair_ids: Iterable[int]) -> int:
    """Remove pairs of this group; returns how many."""
    removed, _ = group.pairs.filter(pk__in=list(pair_ids)).delete()
    if removed:
        _unconfirm(group)
    return removed


def mapping_confirm(*, group: CompanyGroup, by: User) -> None:
    """The accountant has checked the pairs: the group figures eliminate by them from now on."""
    group.mapping_confirmed_at, group.mapping_confirmed_by = timezone.now(), by
    group.save(update_fields=["mapping_confirmed_at", "mapping_confirmed_by"])

"""What the group pages read: the group of a holding company, the firms a person may put in it,
and each firm's amounts for the consolidation (two queries per firm)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Subquery, Sum
from django_scopes import scope, scopes_disabled

from companies.models import Company, Membership, Role, User
from ledger.accounts import BALANCE, RESULT
from ledger.groups.consolidation import GroupStatements, PairSpec, group_statements
from ledger.models import AccountBalance, CompanyGroup, EliminationPair, LedgerAccount
from ledger.periods import FiscalYear, fiscal_year_start_month_of

READ_ROLES = (Role.ACCOUNTANT, Role.FINANCE, Role.ADMIN)


def group_of(*, company: Company) -> CompanyGroup | None:
    """The group whose parent is `company`, if any."""
    return CompanyGroup.objects.filter(company=company).first()


def group_firms(group: CompanyGroup) -> list[Company]:
    """The parent first, then the subsidiaries by name."""
    members = [m for m in group.members.order_by("name") if m.pk != group.company_id]
    return [group.company, *members]


def readable_firm_ids(*, user: User) -> set[int]:
    """The firms `user` may read figures of (accountant or more)."""
    return set(
        Membership.objects.filter(user=user, role__in=READ_ROLES).values_list(
            "company_id", flat=True
        )
    )


def candidate_firms(*, user: User, parent: Company) -> list[Company]:
    """Firms `user` may put in the parent's group: every other firm they may read."""
    ids = readable_firm_ids(user=user) - {parent.pk}
    return list(Company.objects.filter(pk__in=ids).order_by("name"))


def pairs_of(group: CompanyGroup) -> list[EliminationPair]:
    return list(group.pairs.select_related("firm_a", "firm_b"))


def pair_specs(pairs: list[EliminationPair]) -> list[PairSpec]:
    return [
        PairSpec(p.firm_a_id, p.account_a, p.firm_b_id, p.account_b, p.kind, p.pk) for p in pairs
    ]


def firm_amounts(
    *, company: Company, fiscal_year: FiscalYear, through: datetime.date
) -> dict[int, Decimal]:
    """Account → amount (Tripletex signs): result accounts summed over [fiscal year start,
    through], balance accounts' balance at the end of `through` (2 queries)."""
    with scope(company=company):
        results = (
            AccountBalance.objects.filter(
                company=company,
                **RESULT.lookups(),
                month__gte=fiscal_year.start,
                month__lte=through,
            )
            .values("account_number")
            .annotate(total=Sum("balance_change"))
            .values_list("account_number", "total")
        )
        amounts = {n: (t or Decimal(0)).quantize(Decimal("0.01")) for n, t in results}
        amounts.update(_balances_at(company, through))
    return {n: v for n, v in amounts.items() if v}


def _balances_at(company: Company, month: datetime.date) -> dict[int, Decimal]:
    rows = AccountBalance.objects.filter(company=company, **BALANCE.lookups(), month__lte=month)
    if connection.vendor == "postgresql":
        latest = rows.order_by("account_number", "-month").distinct("account_number")
    else:
        newest = (
            AccountBalance.objects.filter(
                company=company, account_number=OuterRef("account_number"), month__lte=month
            )
            .order_by("-month")
            .values("month")[:1]
        )
        latest = rows.filter(month=Subquery(newest))
    return dict(latest.values_list("account_number", "balance_out"))


def account_names(firms: list[Company]) -> dict[int, str]:
    """Account number → name, the first firm's name where charts differ (the parent's first)."""
    names: dict[int, str] = {}
    with scopes_disabled():
        rows = LedgerAccount.objects.filter(company__in=firms).values_list(
            "company_id", "number", "name"
        )
        by_firm: dict[int, dict[int, str]] = {}
        for firm_id, number, name in rows:
            by_firm.setdefault(firm_id, {})[number] = name
    for firm in reversed(firms):
        names.update(by_firm.get(firm.pk, {}))
    return names


@dataclass
class GroupView:
    group: CompanyGroup
    firms: list[Company]
    fiscal_year: FiscalYear
    through: datetime.date
    statements: GroupStatements
    pairs: list[EliminationPair]
    is_confirmed: bool
    # Members whose fiscal year starts in another month than the parent's.
    other_fiscal_years: list[Company]


def group_view(
    *, group: CompanyGroup, fiscal_year: FiscalYear, through: datetime.date
) -> GroupView:
    """The consolidated statements of the group through `through`; the eliminations count only
    once the mapping is confirmed."""
    firms = group_firms(group)
    amounts = {
        f.pk: firm_amounts(company=f, fiscal_year=fiscal_year, through=through) for f in firms
    }
    pairs = pairs_of(group)
    confirmed = group.mapping_confirmed_at is not None
    statements = group_statements(
        firm_ids=[f.pk for f in firms],
        amounts=amounts,
        pairs=pair_specs(pairs) if confirmed else [],
        names=account_names(firms),
    )
    other = []
    for firm in firms[1:]:
        with scope(company=firm):
            if fiscal_year_start_month_of(company=firm) != fiscal_year.start.month:
                other.append(firm)
    return GroupView(group, firms, fiscal_year, through, statements, pairs, confirmed, other)

"""Tie-out checks of a company's stored monthly balances: do the figures add up?

Checked per fiscal year of the firm (twelve months from its start month, the rule in
`ledger.periods`: January for most firms, July for a July–June year), over the months stored:

1. a month's balance changes over all accounts sum to 0 (every voucher balances);
2. every row has in + change = out;
3. each month's in equals the previous month's out, account by account, within a fiscal year;
4. result accounts (3000–8999, `ledger.accounts`) start the fiscal year at 0, and the year's
   result (their summed out at the last stored month) equals the sum of their monthly changes.

A key that cannot see some rows (salary vouchers are the usual case: Tripletex silently leaves them
out) breaks check 1; a month pulled at another moment than its neighbours breaks check 3.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from companies.models import Company
from ledger.accounts import is_result_account
from ledger.models import AccountBalance
from ledger.periods import FiscalYear, add_months
from ledger.templatetags.money import format_amount

ZERO = Decimal("0")
# Reasons listed per month before "and N more", so a broken month does not flood the page.
MAX_REASONS = 5

Row = tuple[Decimal, Decimal, Decimal]


def tieout_check(
    *, company: Company, fiscal_years: Sequence[FiscalYear]
) -> dict[datetime.date, list[str]]:
    """Plain-language problems per month of `fiscal_years` (months that tie out are absent)."""
    grid: dict[datetime.date, dict[int, Row]] = defaultdict(dict)
    if not fiscal_years:
        return {}
    rows = AccountBalance.objects.filter(
        company=company,
        month__gte=min(fy.start for fy in fiscal_years),
        month__lt=max(fy.end for fy in fiscal_years),
    ).values_list("month", "account_number", "balance_in", "balance_change", "balance_out")
    for month, number, b_in, b_change, b_out in rows.iterator(chunk_size=5000):
        grid[month][number] = (b_in, b_change, b_out)
    problems: dict[datetime.date, list[str]] = defaultdict(list)
    for fy in fiscal_years:
        for month in sorted(m for m in grid if fy.contains(m)):
            accounts = grid[month]
            problems[month].extend(_month_checks(accounts))
            previous = add_months(month, -1)
            if fy.contains(previous) and previous in grid:
                problems[month].extend(_chain_checks(grid[previous], accounts, previous))
            if month == fy.start:
                problems[month].extend(_year_start_checks(accounts))
        _year_result_check(grid, fy, problems)
    return {m: _capped(p) for m, p in problems.items() if p}


def _month_checks(accounts: dict[int, Row]) -> list[str]:
    problems = []
    total = sum((row[1] for row in accounts.values()), ZERO)
    if total != ZERO:
        problems.append(
            _(
                "The month's changes over all accounts sum to %(total)s instead of 0: debits and "
                "credits do not match. The key may not see every voucher (e.g. salary)."
            )
            % {"total": format_amount(total)}
        )
    for number, (b_in, b_change, b_out) in sorted(accounts.items()):
        if b_in + b_change != b_out:
            problems.append(
                _("Account %(account)s: in %(in)s + change %(change)s ≠ out %(out)s.")
                % {
                    "account": number,
                    "in": format_amount(b_in),
                    "change": format_amount(b_change),
                    "out": format_amount(b_out),
                }
            )
    return problems


def _chain_checks(
    before: dict[int, Row], accounts: dict[int, Row], previous: datetime.date
) -> list[str]:
    problems = []
    for number in sorted(before.keys() | accounts.keys()):
        closing = before[number][2] if number in before else ZERO
        opening = accounts[number][0] if number in accounts else ZERO
        if opening != closing:
            problems.append(
                _(
                    "Account %(account)s: opening balance %(in)s differs from the closing balance "
                    "%(out)s of %(previous)s."
                )
                % {
                    "account": number,
                    "in": format_amount(opening),
                    "out": format_amount(closing),
                    "previous": f"{previous:%Y-%m}",
                }
            )
    return problems


def _year_start_checks(accounts: dict[int, Row]) -> list[str]:
    carried = sum((row[0] for number, row in accounts.items() if is_result_account(number)), ZERO)
    if carried == ZERO:
        return []
    return [
        _(
            "The result accounts start the fiscal year at %(amount)s instead of 0 (last year's "
            "result was not closed to equity)."
        )
        % {"amount": format_amount(carried)}
    ]


def _year_result_check(
    grid: dict[datetime.date, dict[int, Row]],
    fy: FiscalYear,
    problems: dict[datetime.date, list[str]],
) -> None:
    months = sorted(m for m in grid if fy.contains(m))
    if not months:
        return
    last = months[-1]
    result = sum((row[2] for number, row in grid[last].items() if is_result_account(number)), ZERO)
    changes = sum(
        (row[1] for m in months for number, row in grid[m].items() if is_result_account(number)),
        ZERO,
    )
    # Only meaningful over an unbroken run of months from the fiscal year's first.
    if months[0] != fy.start or len(months) != fy.months.index(last) + 1:
        return
    if result != changes:
        problems[last].append(
            _(
                "The year's result so far (%(result)s) differs from the sum of the result "
                "accounts' monthly changes (%(changes)s)."
            )
            % {"result": format_amount(result), "changes": format_amount(changes)}
        )


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_REASONS:
        return problems
    more = len(problems) - MAX_REASONS
    return [*problems[:MAX_REASONS], _("… and %(count)s more.") % {"count": more}]

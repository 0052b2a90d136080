"""Rendering helpers for the figures tables: a row of amount cells, rendered in one go.

A P&L with 400 accounts has thousands of cells; building them in Python here is several times
faster than a template loop with a filter per cell. Templates still only format: every number
comes from ledger.figures.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ledger.figures import Cells
from ledger.templatetags.money import MINUS, NBSP, format_amount

register = template.Library()
ONE = Decimal(1)


def _whole(value: Decimal) -> str:
    """format_amount(value, 0) without its generality: this runs for every cell of the table."""
    whole = int(value.quantize(ONE, rounding=ROUND_HALF_UP))
    text = f"{abs(whole):,}".replace(",", NBSP)
    return f'<span class="negative">{MINUS}{text}</span>' if whole < 0 else text


def _variance_class(cells: Cells) -> str:
    favourable = cells.is_favourable
    if favourable is None:
        return "variance"
    return "variance fav" if favourable else "variance unfav"


@register.simple_tag
def amount_cells(
    cells: Cells, drill: str = "", account: int | None = None, months: object = None
) -> SafeString:
    """<td>s for each month (linked to the drill-down when `drill` is set), YTD, LY and variance.

    Built with plain string formatting for speed (a P&L of 400 accounts has ~7 000 cells): every
    piece is a formatted number, a fixed class name or a URL made of the company slug (a slug is
    HTML-safe) and integers, so nothing here needs escaping.
    """
    if drill and account is not None and months is not None:
        month_cells = "".join(
            f'<td><a href="{drill}{account}/{m.year}/{m.month}/">{_whole(v)}</a></td>'
            for m, v in zip(months, cells.months, strict=True)  # type: ignore[call-overload]
        )
    else:
        month_cells = "".join(f"<td>{_whole(v)}</td>" for v in cells.months)
    pct = cells.variance_pct
    pct_text = "" if pct is None else format_amount(pct, 1) + NBSP + "%"
    variance_class = _variance_class(cells)
    return mark_safe(  # noqa: S308 - see the docstring: numbers, fixed classes and a slug URL
        f'{month_cells}<td class="ytd">{_whole(cells.ytd)}</td>'
        f"<td>{_whole(cells.last_year)}</td>"
        f'<td class="{variance_class}">{_whole(cells.variance)}</td>'
        f'<td class="{variance_class}">{pct_text}</td>'
    )


@register.simple_tag
def account_rows(line: object, drill: str, months: object) -> SafeString:
    """The <tr>s of a group's accounts, each month linked to its postings (names escaped)."""
    rows = []
    for account in line.accounts:  # type: ignore[attr-defined]
        name = escape(account.name) if account.name else "\u2014"
        cells = amount_cells(account.cells, drill, account.number, months)
        rows.append(
            f'<tr class="row-account" data-account="{account.number}"><td class="col-label">'
            f'<span class="acct-no">{account.number}</span> {name}</td>{cells}</tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - names escaped, the rest as in amount_cells


@register.filter
def lookup(mapping: dict[str, object], key: str) -> object:
    """{{ toggle|lookup:line.key }}"""
    return mapping.get(key, "")


@register.simple_tag
def balance_cells(amount: Decimal, previous: Decimal, change: Decimal) -> SafeString:
    """<td>s for a balance-sheet line: at the month end, at the previous year end, change."""
    return mark_safe(  # noqa: S308 - formatted numbers only
        f'<td class="num">{_whole(amount)}</td><td class="num">{_whole(previous)}</td>'
        f'<td class="num">{_whole(change)}</td>'
    )

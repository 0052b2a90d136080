"""Rendering helpers for the figures tables: a row of amount cells, rendered in one go.

A P&L with 400 accounts has thousands of cells; building them in Python here is several times
faster than a template loop with a filter per cell. Templates still only format: every number
comes from ledger.figures.selectors.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ledger.figures.selectors import Cells, PnlLine
from ledger.templatetags.money import MINUS, NBSP, format_amount

register = template.Library()


def _whole(value: Decimal) -> str:
    """format_amount(value, 0) without its generality: this runs for every cell of the table."""
    whole = int(value.to_integral_value(ROUND_HALF_UP))
    if whole < 0:
        return f'<span class="negative">{MINUS}{-whole:,}</span>'.replace(",", NBSP)
    return f"{whole:,}".replace(",", NBSP)


def _variance_class(cells: Cells) -> str:
    favourable = cells.is_favourable
    if favourable is None:
        return "variance"
    return "variance fav" if favourable else "variance unfav"


def _cells_html(cells: Cells, links: list[str] | None) -> str:
    """The <td>s of one line; `links` holds each month's drill-down URL up to its closing quote."""
    if links is not None:
        month_cells = "".join(
            [
                f"<td><a {link}>{_whole(v)}</a></td>"
                for link, v in zip(links, cells.months, strict=True)
            ]
        )
    else:
        month_cells = "".join([f"<td>{_whole(v)}</td>" for v in cells.months])
    pct = cells.variance_pct
    pct_text = "" if pct is None else format_amount(pct, 1) + NBSP + "%"
    variance_class = _variance_class(cells)
    return (
        f'{month_cells}<td class="ytd">{_whole(cells.ytd)}</td>'
        f"<td>{_whole(cells.last_year)}</td>"
        f'<td class="{variance_class}">{_whole(cells.variance)}</td>'
        f'<td class="{variance_class}">{pct_text}</td>'
    )


@register.simple_tag
def amount_cells(cells: Cells) -> SafeString:
    """<td>s for each month, YTD, LY and variance of a group or result line.

    Built with plain string formatting for speed (a P&L of 400 accounts has ~7 000 cells): every
    piece is a formatted number or a fixed class name, so nothing here needs escaping.
    """
    return mark_safe(_cells_html(cells, None))  # noqa: S308 - numbers and fixed classes


@register.simple_tag
def account_rows(line: PnlLine, drill: str, months: list[datetime.date]) -> SafeString:
    """The <tr>s of a group's accounts, each month linked to its postings (names escaped).

    A link is the drill-down base (the company slug, which is HTML-safe), the account number and
    the month: integers only, so only the account names need escaping.
    """
    paths = [f'{m.year}/{m.month}/"' for m in months]
    rows = []
    for account in line.accounts:
        name = escape(account.name) if account.name else "\u2014"
        base = f'href="{drill}{account.number}/'
        cells = _cells_html(account.cells, [base + path for path in paths])
        rows.append(
            f'<tr class="row-account" data-account="{account.number}"><td class="col-label">'
            f'<span class="acct-no">{account.number}</span> {name}</td>{cells}</tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - names escaped, the rest numbers and a slug URL


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

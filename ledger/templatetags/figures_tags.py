"""Rendering helpers for the figures tables: a row of amount cells, rendered in one go.

A P&L with 400 accounts has thousands of cells; building them in Python here is several times
faster than a template loop with a filter per cell. Templates still only format: every number
comes from ledger.figures.selectors.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django import template
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from ledger.figures.selectors import BalanceAccount, BalanceLine, Cells, PnlLine
from ledger.templatetags.money import MINUS, NBSP, format_amount

register = template.Library()


@lru_cache(maxsize=4096)
def _month_format(language: str | None, month: datetime.date, fmt: str) -> str:
    return date_format(month, fmt)


def month_format(month: datetime.date, fmt: str) -> str:
    """A month as the `date` filter shows it ({{ m|date:"F Y" }}), each month, format and
    language formatted once per process: a 36-month P&L shows some 400 month names (headings, the
    period picker, the charts' labels and tips), and Django's date formatting is slow."""
    return _month_format(get_language(), month, fmt)


@register.filter
def month_label(month: datetime.date, fmt: str) -> str:
    """{{ m|month_label:"F Y" }}: {{ m|date:"F Y" }} for a date (not a datetime), cached."""
    return month_format(month, fmt)


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


def _cells_html(cells: Cells, base: str | None = None, paths: list[str] | None = None) -> str:
    """The <td>s of one line; with `base` each month links to its drill-down, `base` + the
    month's entry of `paths` being the URL up to its closing quote.

    A month without an amount is no link: its drill-down would list nothing."""
    if base is not None and paths is not None:
        month_cells = "".join(
            [
                f"<td><a {base}{path}>{_whole(v)}</a></td>" if v else "<td>0</td>"
                for path, v in zip(paths, cells.months, strict=True)
            ]
        )
    else:
        month_cells = "".join(
            [f"<td>{_whole(v)}</td>" if v else "<td>0</td>" for v in cells.months]
        )
    pct = cells.variance_pct
    pct_text = "" if pct is None else format_amount(pct, 1) + NBSP + "%"
    variance_class = _variance_class(cells)
    return (
        f'{month_cells}<td class="ytd">{_whole(cells.ytd)}</td><td>{_whole(cells.compared)}</td>'
        f'<td class="{variance_class}">{_whole(cells.variance)}</td>'
        f'<td class="{variance_class}">{pct_text}</td>'
    )


@register.simple_tag
def amount_cells(cells: Cells) -> SafeString:
    """<td>s for each month, YTD, LY and variance of a group or result line.

    Built with plain string formatting for speed (a P&L of 400 accounts has ~7 000 cells): every
    piece is a formatted number or a fixed class name, so nothing here needs escaping.
    """
    return mark_safe(_cells_html(cells))  # noqa: S308 - numbers and fixed classes


@register.simple_tag
def account_rows(
    line: PnlLine, drill: str, months: list[datetime.date], query: str = ""
) -> SafeString:
    """The <tr>s of a group's accounts, each month linked to its postings (names escaped).

    A link is the drill-down base (the company slug, which is HTML-safe), the account number, the
    month (integers) and a fixed query string (`query`, HTML-safe: the signs shown), so only the
    account names need escaping.
    """
    paths = [f'{m.year}/{m.month}/{query}"' for m in months]
    rows = []
    for account in line.accounts:
        name = escape(account.name) if account.name else "\u2014"
        base = f'href="{drill}{account.number}/'
        cells = _cells_html(account.cells, base, paths)
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
def balance_cells(line: BalanceLine | BalanceAccount) -> SafeString:
    """<td>s for a balance-sheet line: at each shown month end, at the previous year end, change."""
    months = "".join([f'<td class="num">{_whole(v)}</td>' for v in line.by_month])
    return mark_safe(  # noqa: S308 - formatted numbers only
        f'{months}<td class="num">{_whole(line.previous)}</td>'
        f'<td class="num">{_whole(line.change)}</td>'
    )


@register.simple_tag
def balance_account_cells(
    account: BalanceAccount, drill: str, months: list[datetime.date], query: str
) -> SafeString:
    """As balance_cells for one account, each month end linked to that month's postings, except a
    zero balance (a link to nothing helps nobody). `query` is the links' HTML-safe query string."""
    cells = []
    for month, value in zip(months, account.by_month, strict=True):
        text = _whole(value)
        if value:
            text = (
                f'<a href="{drill}{account.number}/{month.year}/{month.month}/{query}">{text}</a>'
            )
        cells.append(f'<td class="num">{text}</td>')
    return mark_safe(  # noqa: S308 - numbers, a slug URL, a fixed query and fixed classes
        "".join(cells)
        + f'<td class="num">{_whole(account.previous)}</td>'
        + f'<td class="num">{_whole(account.change)}</td>'
    )

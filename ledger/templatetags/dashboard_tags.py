"""The office dashboard's table rows, rendered in one go.

An office with 200 firms has 200 rows of nine cells, three links, three dates and eight amounts
each; a template loop with a tag or filter per cell spent most of the page's time resolving
variables, reversing URLs and formatting dates. Here the URLs are reversed once with a
placeholder slug, the translated words are looked up and escaped once, each distinct date is
formatted once, and a row is one f-string: names, words, dates and the formula are escaped as the
template escaped them, amounts are format_amount's digits (nothing to escape). The markup is the
one the template had (compared with the template's output when it moved here). Templates still only format: every figure comes
from `ledger.dashboard.selectors`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import template
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from ledger.dashboard.selectors import DashboardRow
from ledger.models import SyncRun
from ledger.templatetags.money import format_amount, nok_cell

register = template.Library()

SLUG = "company-slug-placeholder"
_BADGES = {"succeeded": "ok", "failed": "bad", "incomplete": "warn"}


def _url(name: str) -> Callable[[str], str]:
    """A function slug → the URL `name` of that company (reversed once, the slug substituted)."""
    pattern = reverse(name, kwargs={"company_slug": SLUG})
    before, after = pattern.split(SLUG, 1)
    return lambda slug: f"{before}{slug}{after}"


class _Dates:
    """The template's `date` filter, in the current time zone as the template shows datetimes,
    each distinct shown value formatted once (200 rows share a handful of dates)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, Hashable], str] = {}

    def __call__(self, value: datetime.date, fmt: str, key: Callable[[Any], Hashable]) -> str:
        local = value
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            local = timezone.localtime(value)
        seen = (fmt, key(local))
        text = self._seen.get(seen)
        if text is None:
            text = self._seen[seen] = escape(date_format(local, fmt))
        return text


def _minute(value: datetime.datetime) -> Hashable:
    return (value.year, value.month, value.day, value.hour, value.minute)


def _day(value: datetime.date) -> Hashable:
    return (value.year, value.month, value.day)


def _month(value: datetime.date) -> Hashable:
    return (value.year, value.month)


@dataclass(frozen=True)
class _Page:
    """What every row of one page shares: its links, its words (escaped) and its dates."""

    home: Callable[[str], str]
    pnl: Callable[[str], str]
    budget: Callable[[str], str]
    words: Mapping[str, str]
    statuses: Mapping[str, str]
    dates: _Dates


@register.simple_tag
def dashboard_rows(rows: list[DashboardRow]) -> SafeString:
    """The <tr>s of the dashboard table, one per firm."""
    words = {
        key: escape(text)
        for key, text in {
            "same_months": gettext("Same months last year"),
            "budget": gettext("Budget"),
            "no_figures": gettext("No figures"),
            "no_budget": gettext("No budget"),
            "hidden": gettext("Visible to finance and administrators"),
            "never": gettext("Never"),
            "broken": gettext("Broken"),
            "failed": gettext("Failed"),
            "being_made": gettext("Being made"),
            "none_yet": gettext("None yet"),
        }.items()
    }
    page = _Page(
        home=_url("companies:company_home"),
        pnl=_url("ledger:pnl"),
        budget=_url("ledger:budget"),
        words=words,
        statuses={value: escape(label) for value, label in SyncRun.Status.choices},
        dates=_Dates(),
    )
    formulas: dict[str, str] = {}
    html = [_row(row, page, formulas) for row in rows]
    return mark_safe("".join(html))  # noqa: S308 - names, words and dates escaped; the rest numbers


def _pct(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f' <span class="muted">({format_amount(value, 1)}&nbsp;%)</span>'


def _row(row: DashboardRow, page: _Page, formulas: dict[str, str]) -> str:
    """One firm's <tr>. Amounts are format_amount's digits, spaces, minus and comma (nothing to
    escape); the slug is a slug; names, words, dates and the formula are escaped."""
    company, overview, words = row.company, row.overview, page.words
    slug = company.slug
    if row.has_figures:
        figures = (
            f'<td class="num" data-testid="result"><a href="{page.pnl(slug)}">'
            f"{nok_cell(row.result, 0)}</a></td>"
            f'<td class="num" data-testid="change" title="{words["same_months"]}: '
            f'{format_amount(row.result_last_year, 0)}">{nok_cell(row.change, 0)}'
            f"{_pct(row.change_pct)}</td>"
        )
    else:
        figures = (
            f'<td class="num muted" data-testid="result">{words["no_figures"]}</td>'
            '<td class="num muted" data-testid="change">–</td>'
        )
    if row.budget is not None:
        variance = (
            f'<span title="{words["budget"]}: {format_amount(row.budget, 0)}">'
            f"{nok_cell(row.variance, 0)}{_pct(row.variance_pct)}</span>"
        )
    else:
        variance = f'<a class="muted" href="{page.budget(slug)}">{words["no_budget"]}</a>'
    formula = str(row.liquidity.formula)
    if formula not in formulas:
        formulas[formula] = escape(formula)
    liquidity = row.liquidity_value
    if overview.can_see_transactions:
        waiting = str(localize(overview.waiting))
        failed = (
            f'<span class="negative">{localize(overview.failed)}</span>' if overview.failed else "0"
        )
    else:
        waiting = failed = f'<span class="muted" title="{words["hidden"]}">–</span>'
    return (
        f'<tr data-testid="dashboard-row" data-company="{escape(slug)}">'
        f'<th scope="row"><a href="{page.home(slug)}">{escape(company.name)}</a> '
        f'<span class="muted">{escape(row.fiscal_year.label)}</span></th>'
        f"{figures}"
        f'<td class="num" data-testid="variance">{variance}</td>'
        f'<td class="num" data-testid="liquidity" title="{formulas[formula]}">'
        f"{'–' if liquidity is None else format_amount(liquidity, 2)}</td>"
        f'<td class="num" data-testid="waiting">{waiting}</td>'
        f'<td class="num" data-testid="failed">{failed}</td>'
        f'<td data-testid="last-sync">{_last_sync(row, page)}</td>'
        f'<td data-testid="pack">{_pack(row, page)}</td>'
        "</tr>"
    )


def _last_sync(row: DashboardRow, page: _Page) -> str:
    run = row.overview.last_run
    if run:
        status = page.statuses.get(run.status) or escape(run.status)
        when = page.dates(run.finished_at or run.created_at, "j. N H:i", _minute)
        text = (
            f'<span class="badge {_BADGES.get(run.status, "")}">{status}</span> '
            f'<span class="muted">{when}</span>'
        )
    else:
        text = f'<span class="muted">{page.words["never"]}</span>'
    if row.overview.connection_status == "broken":
        text += f' <span class="badge bad">{page.words["broken"]}</span>'
    return text


def _pack(row: DashboardRow, page: _Page) -> str:
    pack = row.pack
    if not pack:
        return f'<span class="muted">{page.words["none_yet"]}</span>'
    state = ""
    if pack.status != "done":
        if pack.status == "failed":
            state = f' <span class="badge bad">{page.words["failed"]}</span>'
        else:
            state = f' <span class="badge">{page.words["being_made"]}</span>'
    month = page.dates(pack.month, "F Y", _month)
    made = page.dates(pack.created_at, "j. N", _day)
    return f'{month} <span class="muted">{made}</span>{state}'

"""Server-rendered SVG charts for the P&L: no JavaScript, no CDN, no inline styles (CSP).

Colours and strokes come from classes in static/css/figures.css. Every chart is an accessible
image: role="img" with a <title> and a <desc> that says what it shows in words, text labels on
both axes and a legend, and a <title> on each bar or point for a hover tooltip.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ledger.figures.selectors import ChartMonth
from ledger.templatetags.figures_tags import month_format as date_format
from ledger.templatetags.money import format_amount

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 20, 54


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: Sequence[Decimal]) -> tuple[float, float, float]:
    """(low, high, step) of the y axis: nice round ticks that include zero."""
    low = min([0.0, *(float(v) for v in values)])
    high = max([0.0, *(float(v) for v in values)])
    if low == high:
        high = low + 1
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def short_amount(value: float) -> str:
    """An axis label: 1 250 000 → '1,3 mill.', 25 000 → '25 k', 300 → '300' (nb-NO)."""
    if abs(value) >= 1_000_000:
        return _("%(amount)s mill.") % {"amount": format_amount(Decimal(value) / 1_000_000, 1)}
    if abs(value) >= 1_000:
        return _("%(amount)s k") % {"amount": format_amount(Decimal(value) / 1_000, 0)}
    return format_amount(Decimal(value), 0)


def _month_label(month: datetime.date) -> str:
    return date_format(month, "N")


def _frame(chart_id: str, title: str, desc: str, low: float, high: float, step: float) -> list[str]:
    """The svg element, title, desc, horizontal grid lines and y-axis labels."""
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    ticks = round((high - low) / step)
    for i in range(ticks + 1):
        value = low + i * step
        y = _y(value, low, high)
        css = "chart-zero" if abs(value) < step / 1000 else "chart-grid"
        parts.append(f'<line class="{css}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        parts.append(
            f'<text class="chart-label chart-label-y" x="{LEFT - 8}" y="{y + 4}" '
            f'text-anchor="end">{escape(short_amount(value))}</text>'
        )
    return parts


def _y(value: float, low: float, high: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return round(TOP + plot * (high - value) / (high - low), 1)


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    parts, x = [], LEFT
    y = HEIGHT - 12
    for css, label in items:
        parts.append(f'<rect class="{css}" x="{x}" y="{y - 10}" width="12" height="12" rx="2"/>')
        parts.append(f'<text class="chart-label" x="{x + 18}" y="{y}">{escape(label)}</text>')
        x += 30 + 8 * len(label)
    return parts


def _band(i: int, n: int) -> tuple[float, float]:
    """(left x, width) of month i's band of n."""
    width = (WIDTH - LEFT - RIGHT) / max(n, 1)
    return LEFT + i * width, width


def pnl_months_svg(months: Sequence[ChartMonth]) -> SafeString:
    """Bars of revenue and costs per month with the month's result as a line of points."""
    chart_id = "chart-pnl"
    values = [v for m in months for v in (m.revenue, m.costs, m.result)]
    low, high, step = _scale(values)
    title = _("Income, costs and result per month")
    if months:
        best = max(months, key=lambda m: m.result)
        desc = _(
            "%(first)s to %(last)s. Income in total %(revenue)s, costs %(costs)s, result "
            "%(result)s. Best month: %(best)s with a result of %(best_result)s."
        ) % {
            "first": date_format(months[0].month, "F Y"),
            "last": date_format(months[-1].month, "F Y"),
            "revenue": format_amount(sum(m.revenue for m in months), 0),
            "costs": format_amount(sum(m.costs for m in months), 0),
            "result": format_amount(sum(m.result for m in months), 0),
            "best": date_format(best.month, "F Y"),
            "best_result": format_amount(best.result, 0),
        }
    else:
        desc = _("No figures for this period.")
    parts = _frame(chart_id, title, desc, low, high, step)
    zero = _y(0, low, high)
    points, dots, labels = [], [], []
    for i, m in enumerate(months):
        x, band = _band(i, len(months))
        bar = band * 0.32
        for offset, value, css, label in (
            (band * 0.16, m.revenue, "chart-revenue", _("Income")),
            (band * 0.52, m.costs, "chart-costs", _("Costs")),
        ):
            y = _y(float(value), low, high)
            top, height = min(y, zero), max(abs(zero - y), 0.5)
            tip = f"{date_format(m.month, 'F Y')}: {label} {format_amount(value, 0)}"
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{top}" width="{bar:.1f}" '
                f'height="{height}"><title>{escape(tip)}</title></rect>'
            )
        cx, cy = x + band / 2, _y(float(m.result), low, high)
        points.append(f"{cx:.1f},{cy}")
        tip = f"{date_format(m.month, 'F Y')}: {_('Result')} {format_amount(m.result, 0)}"
        dots.append(
            f'<circle class="chart-result-point" cx="{cx:.1f}" cy="{cy}" r="4">'
            f"<title>{escape(tip)}</title></circle>"
        )
        labels.append(
            f'<text class="chart-label chart-label-x" x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(_month_label(m.month))}</text>'
        )
    if len(points) > 1:
        parts.append(f'<polyline class="chart-result-line" points="{" ".join(points)}"/>')
    parts += dots + labels
    parts += _legend(
        [
            ("chart-revenue", _("Income")),
            ("chart-costs", _("Costs")),
            ("chart-result-point", _("Result")),
        ]
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def result_trend_svg(months: Sequence[ChartMonth]) -> SafeString:
    """Accumulated result through the year against the same months last year."""
    chart_id = "chart-trend"
    this_year, last_year = [], []
    total_now = total_before = Decimal(0)
    for m in months:
        total_now += m.result
        total_before += m.last_year_result
        this_year.append(total_now)
        last_year.append(total_before)
    low, high, step = _scale(this_year + last_year)
    title = _("Accumulated result against last year")
    if months:
        desc = _(
            "Result so far this year %(now)s against %(before)s in the same months last year "
            "(a difference of %(diff)s)."
        ) % {
            "now": format_amount(total_now, 0),
            "before": format_amount(total_before, 0),
            "diff": format_amount(total_now - total_before, 0),
        }
    else:
        desc = _("No figures for this period.")
    parts = _frame(chart_id, title, desc, low, high, step)
    for values, css, label in (
        (last_year, "chart-last-year", _("Last year")),
        (this_year, "chart-this-year", _("This year")),
    ):
        points = []
        for i, (m, value) in enumerate(zip(months, values, strict=True)):
            x, band = _band(i, len(months))
            cx, cy = x + band / 2, _y(float(value), low, high)
            points.append(f"{cx:.1f},{cy}")
            tip = f"{label}, {date_format(m.month, 'F')}: {format_amount(value, 0)}"
            parts.append(
                f'<circle class="{css}-point" cx="{cx:.1f}" cy="{cy}" r="3.5">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if len(points) > 1:
            parts.append(f'<polyline class="{css}" points="{" ".join(points)}"/>')
    for i, m in enumerate(months):
        x, band = _band(i, len(months))
        parts.append(
            f'<text class="chart-label chart-label-x" x="{x + band / 2:.1f}" '
            f'y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(_month_label(m.month))}</text>"
        )
    parts += _legend(
        [("chart-this-year-point", _("This year")), ("chart-last-year-point", _("Last year"))]
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped

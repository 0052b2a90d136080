"""Server-rendered SVG charts: well-formed, accessible, labelled, and CSP-clean (no style="")."""

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from ledger.figures.charts import pnl_months_svg, result_trend_svg, short_amount
from ledger.figures.selectors import ChartMonth

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


@pytest.fixture(autouse=True)
def _norwegian():
    with translation.override("nb"):
        yield


def _months():
    return [
        ChartMonth(datetime.date(2025, 1, 1), D(100_000), D(82_500), D(17_500), D(19_000)),
        ChartMonth(datetime.date(2025, 2, 1), D(125_000), D(92_500), D(32_500), D(19_000)),
        ChartMonth(datetime.date(2025, 3, 1), D(80_000), D(81_000), D(-1_000), D(3_500)),
    ]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


@pytest.mark.parametrize("render", [pnl_months_svg, result_trend_svg])
def test_charts_are_accessible_images(render):
    svg = str(render(_months()))
    root = _parse(svg)
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None
    assert title.text
    assert desc is not None
    assert desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "jan" in [(label or "").lower().rstrip(".") for label in labels]
    assert "style=" not in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in svg


def test_bars_and_points_per_month():
    root = _parse(str(pnl_months_svg(_months())))
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == 6  # revenue and costs for each of three months
    assert {r.get("class") for r in rects} == {"chart-revenue", "chart-costs"}
    points = list(root.iter(f"{SVG}circle"))
    assert len(points) == 3
    assert "\u22121\u00a0000" in points[2].find(f"{SVG}title").text
    # A negative result sits below the zero line.
    zero = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-zero")
    assert float(points[2].get("cy")) > float(zero.get("y1"))


def test_trend_accumulates_both_years():
    svg = str(result_trend_svg(_months()))
    assert "49\u00a0000" in svg  # 17 500 + 32 500 − 1 000
    assert "41\u00a0500" in svg  # 19 000 + 19 000 + 3 500
    root = _parse(svg)
    lines = [p.get("class") for p in root.iter(f"{SVG}polyline")]
    assert lines == ["chart-last-year", "chart-this-year"]


def test_labels_escape_text_and_handle_no_data():
    root = _parse(str(pnl_months_svg([])))
    assert root.find(f"{SVG}desc").text
    assert short_amount(1_250_000) == "1,3 mill."
    assert short_amount(-25_000) == "\u221225 k"
    assert short_amount(300) == "300"

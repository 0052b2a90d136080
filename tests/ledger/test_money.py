"""Amounts are shown the Norwegian way: 1 234 567,89 with non-breaking spaces and a real minus sign."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from ledger.templatetags.money import format_amount


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("1234567.891"), 2, "1\u00a0234\u00a0567,89"),
        (Decimal("-1234.5"), 2, "\u22121\u00a0234,50"),
        (Decimal("0"), 2, "0,00"),
        (Decimal("999.995"), 2, "1\u00a0000,00"),
        (Decimal("-0.004"), 2, "0,00"),
        (Decimal("1234567.5"), 0, "1\u00a0234\u00a0568"),
        ("12", 0, "12"),
        (12345, 0, "12\u00a0345"),
        (-2.5, 0, "\u22123"),
        (Decimal("-0.5"), 0, "\u22121"),
        (Decimal("-0.49"), 0, "0"),
        (Decimal("0.125"), 1, "0,1"),
        (Decimal("2.5"), 3, "2,500"),
        (
            Decimal("123456789012345678901234567.895"),
            2,
            "123\u00a0456\u00a0789\u00a0012\u00a0345\u00a0678\u00a0901\u00a0234\u00a0567,90",
        ),
        (Decimal("NaN"), 2, ""),
        (None, 2, ""),
        ("not a number", 2, ""),
    ],
)
def test_format_amount(value, decimals, expected):
    assert format_amount(value, decimals) == expected


def test_nok_cell_marks_negative_amounts():
    html = Template("{% load money %}{{ a|nok_cell }}|{{ b|nok_cell:0 }}").render(
        Context({"a": Decimal("-5"), "b": Decimal("7")})
    )
    assert html == '<span class="negative">\u22125,00</span>|7'


def test_orgnr_is_grouped():
    assert Template("{% load money %}{{ n|orgnr }}").render(Context({"n": "923609016"})) == (
        "923 609 016"
    )


@pytest.mark.parametrize("language", ["nb", "en"])
def test_month_label_is_the_date_filter_cached(language):
    """The figures pages' cached month names read exactly as {{ m|date:… }} in each language."""
    months = [datetime.date(2025, m, 1) for m in range(1, 13)]
    source = "{% load figures_tags %}{% for m in months %}{{ m|month_label:f }}|{% endfor %}"
    expected = "{% for m in months %}{{ m|date:f }}|{% endfor %}"
    with translation.override(language):
        for fmt in ("F Y", "N Y", "N", "F", "Y-m"):
            context = Context({"months": months, "f": fmt})
            assert Template(source).render(context) == Template(expected).render(context)

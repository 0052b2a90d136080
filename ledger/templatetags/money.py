"""Number formatting for Norwegian accountants: 1 234 567,89 (non-breaking spaces, decimal comma)."""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

register = template.Library()

NBSP = "\u00a0"
MINUS = "\u2212"


def format_amount(value: object, decimals: int = 2) -> str:
    """'1 234 567,89' (nb-NO); negative with a real minus sign; '' for None or non-numbers."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    quantum = Decimal(1).scaleb(-decimals)
    # Enough digits for any stored number (a 30-digit amount a row kept from before the checks at
    # entry): the default context's 28 would raise InvalidOperation, a 500 on every page showing it.
    digits = Context(prec=max(28, amount.adjusted() + decimals + 2))
    amount = amount.quantize(quantum, rounding=ROUND_HALF_UP, context=digits)
    sign = MINUS if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):.{decimals}f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = NBSP.join(groups) or "0"
    return f"{sign}{text},{fraction}" if decimals else f"{sign}{text}"


@register.filter
def nok(value: object, decimals: int = 2) -> str:
    """Format an amount: {{ x|nok }} → 1 234,50; {{ x|nok:0 }} → 1 235."""
    return format_amount(value, int(decimals))


@register.filter
def nok_cell(value: object, decimals: int = 2) -> str:
    """An amount as a span marked negative when below zero (red, with a minus sign)."""
    text = format_amount(value, int(decimals))
    if text.startswith(MINUS):
        return format_html('<span class="negative">{}</span>', text)
    return text


@register.filter
def orgnr(value: str) -> str:
    """'923609016' → '923 609 016'."""
    value = str(value or "")
    return f"{value[:3]} {value[3:6]} {value[6:]}" if len(value) == 9 else value

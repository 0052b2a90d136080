"""Number formatting for Norwegian accountants: 1 234 567,89 (non-breaking spaces, decimal comma)."""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

register = template.Library()

NBSP = "\u00a0"
MINUS = "\u2212"


# The context of an amount that fits 28 digits, as before one per call (only its flags change).
_CONTEXT_28 = Context(prec=28)
_QUANTA = {d: Decimal(1).scaleb(-d) for d in range(7)}


def format_amount(value: object, decimals: int = 2) -> str:
    """'1 234 567,89' (nb-NO); negative with a real minus sign; '' for None or non-numbers.

    Runs for every amount of every page (a dashboard of 200 firms formats some 1 600): a Decimal
    is taken as it is, the usual contexts and quanta are made once, and the digits are grouped by
    the format specification instead of a loop."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return ""
    if not amount.is_finite():
        return ""
    quantum = _QUANTA.get(decimals) or Decimal(1).scaleb(-decimals)
    # Enough digits for any stored number (a 30-digit amount a row kept from before the checks at
    # entry): the default context's 28 would raise InvalidOperation, a 500 on every page showing it.
    needed = amount.adjusted() + decimals + 2
    digits = _CONTEXT_28 if needed <= 28 else Context(prec=needed)
    amount = amount.quantize(quantum, rounding=ROUND_HALF_UP, context=digits)
    sign = MINUS if amount < 0 else ""
    text = f"{abs(amount):,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    return f"{sign}{text}"


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

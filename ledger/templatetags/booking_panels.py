"""The firm page's panel of transactions waiting to be booked or failed."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    return ""

"""The firm page's panel of the company's Tripletex connection state."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def connection_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    return ""

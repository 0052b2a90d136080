"""The firm page's panel of figures as of, the last sync runs and Sync now."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def sync_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    return ""

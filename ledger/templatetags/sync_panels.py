"""The firm page's panel of figures as of, the last sync runs and Sync now."""

from django import template
from django.template.loader import render_to_string

from ledger.sync.selectors import sync_page

register = template.Library()


@register.simple_tag(takes_context=True)
def sync_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    request = context.get("request")
    company = getattr(request, "company", None)
    if company is None:
        return ""
    page = sync_page(company=company, runs=3)
    return render_to_string(
        "ledger/sync/_panel.html", {"page": page, "company": company}, request=request
    )

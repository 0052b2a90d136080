"""The firm page's panel of the company's Tripletex connection state."""

from django import template
from django.template.loader import render_to_string

from companies.selectors import connection_for

register = template.Library()


@register.simple_tag(takes_context=True)
def connection_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    request = context.get("request")
    company = getattr(request, "company", None)
    if company is None:
        return ""
    connection = connection_for(company=company)
    return render_to_string(
        "companies/_connection_panel.html",
        {
            "company": company,
            "connection": connection,
            "badge": connection.badge if connection else "warn",
        },
        request=request,
    )

"""The firm page's panel of transactions waiting to be booked or failed."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' when there is nothing to show)."""
    from ledger.transactions.services import booking_panel_data

    request = context.get("request")
    company = getattr(request, "company", None)
    if company is None:
        return ""
    data = booking_panel_data(company=company)
    if not any(data["counts"].values()):
        return ""
    return render_to_string(
        "ledger/transactions/_panel.html", {"company": company, **data}, request=request
    )

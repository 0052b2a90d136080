"""The firm page's report pack panel: the last pack (downloadable when ready) and the way to a new
one, and the group view when the firm is a group's parent."""

from django import template
from django.template.loader import render_to_string

from ledger.models import CompanyGroup, ReportPack

register = template.Library()


@register.simple_tag(takes_context=True)
def report_pack_panel(context: template.Context) -> str:
    """Rendered HTML of the panel for context["request"].company ('' outside a company page)."""
    request = context.get("request")
    company = getattr(request, "company", None)
    if company is None:
        return ""
    last = ReportPack.objects.filter(company=company).defer("pdf").order_by("-created_at").first()
    has_group = CompanyGroup.objects.filter(company=company).exists()
    return render_to_string(
        "ledger/packs/_panel.html",
        {"company": company, "last": last, "has_group": has_group},
        request=request,
    )


@register.filter
def wrap_list(value: object) -> list[object]:
    """One row as a list, for a template that loops over rows."""
    return [value]


@register.filter
def units(value: object) -> str:
    """A quantity of units as it is (up to 4 decimals, trailing zeros dropped): 1 250 or 12,5."""
    from decimal import Decimal, InvalidOperation

    from ledger.templatetags.money import format_amount

    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    exponent = amount.normalize().as_tuple().exponent
    decimals = min(4, -exponent) if isinstance(exponent, int) and exponent < 0 else 0
    return format_amount(amount, decimals)

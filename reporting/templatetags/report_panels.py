"""The firm page's report pack panel: the last pack (downloadable when ready) and the way to a new
one, and the group view when the firm is a group's parent."""

from django import template
from django.template.loader import render_to_string

from reporting.models import CompanyGroup, ReportPack

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
        "reporting/packs/_panel.html",
        {"company": company, "last": last, "has_group": has_group},
        request=request,
    )


@register.filter
def wrap_list(value: object) -> list[object]:
    """One row as a list, for a template that loops over rows."""
    return [value]

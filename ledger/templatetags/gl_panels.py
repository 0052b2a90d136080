"""The firm page's warning while a transaction type has a GL role without a valid account."""

from django import template
from django.template.loader import render_to_string

from companies.models import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def gl_accounts_warning(context: template.Context) -> str:
    """Rendered HTML of the warning for context["request"].company ('' while every role is fine)."""
    from ledger.transactions.vouchers import gl_settings_warnings

    request = context.get("request")
    company = getattr(request, "company", None)
    if company is None:
        return ""
    warnings = gl_settings_warnings(company=company)
    if not warnings:
        return ""
    membership = getattr(request, "membership", None)
    can_choose = membership is not None and membership.has_role(Role.FINANCE)
    return render_to_string(
        "ledger/transactions/_gl_warning.html",
        {"company": company, "warnings": warnings, "can_choose": can_choose},
        request=request,
    )

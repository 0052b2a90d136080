"""The audit log: who did what to which firm, key or person."""

from django.db.models import QuerySet

from companies.models import AuditEvent, Company, User


def audit_record(
    *, company: Company | None, actor: User | None, action: str, detail: str = ""
) -> None:
    """Append an audit event (never pass a key in `detail`); `action` is a code with a label in
    companies/audit_actions.py."""
    AuditEvent.objects.create(
        company=company,
        company_label=str(company) if company else "",
        actor=actor if actor and actor.pk else None,
        action=action,
        detail=detail,
    )


def audit_events_of(*, company: Company) -> QuerySet[AuditEvent]:
    """The company's own audit events, newest first, with who did them (nothing of other firms)."""
    return AuditEvent.objects.filter(company=company).select_related("actor").order_by("-at", "-pk")

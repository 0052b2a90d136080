"""The audit log: who did what to which firm, key or person."""

from companies.models import AuditEvent, Company, User


def audit_record(
    *, company: Company | None, actor: User | None, action: str, detail: str = ""
) -> None:
    """Append an audit event (never pass a key in `detail`)."""
    AuditEvent.objects.create(
        company=company,
        company_label=str(company) if company else "",
        actor=actor if actor and actor.pk else None,
        action=action,
        detail=detail,
    )

"""The task that pulls a firm's budgets after its sync run (`ledger.budgets.sync`)."""

from celery import shared_task

from companies.models import Company
from ledger.budgets.sync import budgets_sync

__all__ = ["budgets_sync_task"]


@shared_task(name="ledger.budget_tasks.budgets_sync_task", ignore_result=True, acks_late=True)
def budgets_sync_task(company_id: int) -> str:
    """Pull one company's budgets; returns "rows per fiscal year" or "missing"."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return "missing"
    counts = budgets_sync(company=company)
    return " ".join(f"{label}={rows}" for label, rows in counts.items())

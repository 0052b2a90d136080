"""The task that makes a queued report pack (`ledger.packs.services.pack_generate`); registered
through ledger/tasks.py, enqueued by its stable name (`ledger.queue.PACK_GENERATE`)."""

from celery import shared_task
from django_scopes import scope

from companies.tenancy import company_for_task
from ledger.packs.services import pack_generate

__all__ = ["report_pack_generate_task"]


@shared_task(
    name="ledger.pack_tasks.report_pack_generate_task",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=300,
    time_limit=360,
)
def report_pack_generate_task(*, company_id: int, pack_id: int) -> str:
    """Make one queued report pack (claimed first, so a second delivery does nothing)."""
    company = company_for_task(company_id)
    with scope(company=company):
        return pack_generate(company=company, pack_id=pack_id)

"""Celery tasks of the transactions capability: each calls one service."""

from celery import shared_task
from django_scopes import scope

from companies.models import Company
from companies.onboarding.saving import GL_ACCOUNTS_PROPOSE_TASK
from companies.tenancy import company_for_task
from ledger.transactions.vouchers import gl_settings_propose_from_tripletex

__all__ = ["gl_accounts_propose_task"]


@shared_task(name=GL_ACCOUNTS_PROPOSE_TASK, ignore_result=True)
def gl_accounts_propose_task(*, company_id: int) -> str:
    """Onboarding: propose the firm's GL accounts from its chart in Tripletex (safe to run twice:
    confirmed roles are never touched); returns proposed / flagged / chart-unavailable /
    no-company."""
    try:
        company = company_for_task(company_id)
    except Company.DoesNotExist:
        return "no-company"  # deleted before a worker got to it
    with scope(company=company):
        return gl_settings_propose_from_tripletex(company=company)

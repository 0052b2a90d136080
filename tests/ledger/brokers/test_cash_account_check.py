"""A broker account's GL cash account must be in Tripletex's chart and active, whichever way the
row comes in: the inbox and the direct import apply the same entry check
(`ledger.transactions.checks.account_problems`), before Tripletex would refuse the voucher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.imports.inbox import inbox_upload
from ledger.imports.service import file_import
from ledger.models import BrokerAccount, InboxRow, LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from tests.ledger.brokers.files import nordnet_30, row

pytestmark = pytest.mark.django_db
PORTFOLIO = "12345678"


def _day(offset: int) -> str:
    return (timezone.localdate() - timedelta(days=offset)).isoformat()


ROWS = [row(5101, _day(5), "INNSKUDD", "1 000,00", "1 000,00", portfolio=PORTFOLIO)]
MISSING = "The cash account of Nordnet 12345678: Account 1921 does not exist in Tripletex."
INACTIVE = "The cash account of Nordnet 12345678: Account 1921 is inactive in Tripletex."


@pytest.fixture
def nordnet_firm(acme):
    """Acme with a fresh chart of the GL defaults, and its Nordnet account on 1921."""
    at = timezone.now() - timedelta(hours=1)
    with scope(company=acme):
        for number in set(GL_DEFAULTS.values()):
            LedgerAccount.objects.create(
                company=acme,
                tripletex_id=300_000 + number,
                number=number,
                name=f"Konto {number}",
                synced_at=at,
            )
        BrokerAccount.objects.create(
            company=acme, broker="nordnet", number=PORTFOLIO, cash_account=1921
        )
    return acme


def test_a_cash_account_missing_from_the_chart_stops_the_direct_import(nordnet_firm):
    with scope(company=nordnet_firm):
        result = file_import(company=nordnet_firm, content=nordnet_30(ROWS), by=None)
        assert not Transaction.objects.filter(company=nordnet_firm).exists()
    assert MISSING in [message for _line, message in result.errors]


def test_an_inactive_cash_account_is_a_problem_of_the_inbox_row(nordnet_firm):
    with scope(company=nordnet_firm):
        LedgerAccount.objects.create(
            company=nordnet_firm,
            tripletex_id=301_921,
            number=1921,
            name="Nordnet",
            is_active=False,
            synced_at=timezone.now() - timedelta(hours=1),
        )
        upload = inbox_upload(
            company=nordnet_firm, content=nordnet_30(ROWS), file_name="f", by=None
        )
        assert upload.batch is not None
        (inbox_row,) = InboxRow.objects.filter(company=nordnet_firm)
    assert INACTIVE in inbox_row.problems


def test_with_the_cash_account_in_the_chart_the_deposit_is_imported(nordnet_firm):
    with scope(company=nordnet_firm):
        LedgerAccount.objects.create(
            company=nordnet_firm,
            tripletex_id=301_921,
            number=1921,
            name="Nordnet",
            synced_at=timezone.now() - timedelta(hours=1),
        )
        result = file_import(company=nordnet_firm, content=nordnet_30(ROWS), by=None)
        assert result.errors == []
        assert Transaction.objects.filter(company=nordnet_firm, kind="cash_deposit").count() == 1

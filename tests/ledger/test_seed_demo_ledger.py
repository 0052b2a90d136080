"""`make run`'s demo ledger: ready transactions and a group for the demo holding company, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from companies.models import Company
from ledger.models import CompanyGroup, Transaction
from tripletex.sandbox import demo


@pytest.mark.django_db
def test_seed_demo_ledger_makes_ready_rows_and_a_group_once():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_ledger", stdout=out, stderr=StringIO())
    holding = Company.objects.get(org_number=demo.HOLDING.org_number)
    with scopes_disabled():
        rows = list(Transaction.objects.filter(company=holding).order_by("trade_date"))
        assert [r.kind for r in rows] == ["purchase", "purchase", "sale", "dividend", "fee"]
        assert {r.status for r in rows} == {Transaction.Status.READY}
        group = CompanyGroup.objects.get(company=holding)
        assert [m.org_number for m in group.members.all()] == [demo.OPERATING.org_number]
        assert group.mapping_confirmed_at is None
    assert "5 transaction(s)" in out.getvalue()

    call_command("seed_demo_ledger", stdout=StringIO(), stderr=StringIO())
    with scopes_disabled():
        assert Transaction.objects.filter(company=holding).count() == 5
        assert CompanyGroup.objects.filter(company=holding).count() == 1

"""The budget selectors the P&L, the report pack and the dashboard read: sums per account over
half-open periods, per month, per level (company, department, project), and has_budget."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.budgets.selectors import budget_by_account, budget_by_account_month, has_budget
from ledger.models import Budget

D = datetime.date


def _budget(company, number, month, amount, *, department_id=None, project_id=None):
    Budget.objects.create(
        company=company,
        account_number=number,
        month=month,
        amount=Decimal(amount),
        department_id=department_id,
        project_id=project_id,
        source=Budget.Source.UPLOAD,
        updated_at=timezone.now(),
    )


@pytest.fixture
def budgeted_acme(acme, bergen):
    with scope(company=acme):
        _budget(acme, 3000, D(2026, 1, 1), "-100000.00")
        _budget(acme, 3000, D(2026, 2, 1), "-120000.50")
        _budget(acme, 3000, D(2026, 3, 1), "-90000.00")
        _budget(acme, 6300, D(2026, 1, 1), "15000.00")
        _budget(acme, 6300, D(2026, 3, 1), "15000.25")
        _budget(acme, 3000, D(2026, 1, 1), "-40000.00", department_id=11)
        _budget(acme, 3000, D(2026, 2, 1), "-45000.00", department_id=11)
        _budget(acme, 3000, D(2026, 1, 1), "-7000.00", department_id=12)
        _budget(acme, 6300, D(2026, 2, 1), "2500.00", project_id=21)
    with scope(company=bergen):
        _budget(bergen, 3000, D(2026, 1, 1), "-1.00")
    return acme


def test_company_level_sums_months_of_the_half_open_period(budgeted_acme):
    with scope(company=budgeted_acme):
        q1 = budget_by_account(
            company=budgeted_acme, date_from=D(2026, 1, 1), date_to=D(2026, 4, 1)
        )
        jan_feb = budget_by_account(
            company=budgeted_acme, date_from=D(2026, 1, 1), date_to=D(2026, 3, 1)
        )
    # 3000: -100 000 - 120 000,50 - 90 000 = -310 000,50; 6300: 15 000 + 15 000,25
    assert q1 == {3000: Decimal("-310000.50"), 6300: Decimal("30000.25")}
    # March (the exclusive end) is out; departments' and Bergen's rows never count.
    assert jan_feb == {3000: Decimal("-220000.50"), 6300: Decimal("15000.00")}


def test_department_and_project_levels(budgeted_acme):
    args = {"company": budgeted_acme, "date_from": D(2026, 1, 1), "date_to": D(2027, 1, 1)}
    with scope(company=budgeted_acme):
        assert budget_by_account(**args, department_id=11) == {3000: Decimal("-85000.00")}
        assert budget_by_account(**args, department_id=12) == {3000: Decimal("-7000.00")}
        assert budget_by_account(**args, project_id=21) == {6300: Decimal("2500.00")}
        assert budget_by_account(**args, department_id=99) == {}
        assert budget_by_account(**args, department_id=11, project_id=21) == {}


def test_by_account_month(budgeted_acme):
    with scope(company=budgeted_acme):
        months = budget_by_account_month(
            company=budgeted_acme, date_from=D(2026, 2, 1), date_to=D(2026, 4, 1)
        )
        by_dept = budget_by_account_month(
            company=budgeted_acme, date_from=D(2026, 1, 1), date_to=D(2026, 4, 1), department_id=11
        )
    assert months == {
        3000: {D(2026, 2, 1): Decimal("-120000.50"), D(2026, 3, 1): Decimal("-90000.00")},
        6300: {D(2026, 3, 1): Decimal("15000.25")},
    }
    assert by_dept == {
        3000: {D(2026, 1, 1): Decimal("-40000.00"), D(2026, 2, 1): Decimal("-45000.00")}
    }


def test_has_budget(budgeted_acme, bergen):
    with scope(company=budgeted_acme):
        assert has_budget(company=budgeted_acme)
    with scope(company=bergen):
        Budget.objects.filter(company=bergen).delete()
        assert not has_budget(company=bergen)


def test_one_dimension_per_row(acme):
    from django.db import IntegrityError, transaction

    with scope(company=acme), pytest.raises(IntegrityError), transaction.atomic():
        _budget(acme, 3000, D(2026, 1, 1), "1", department_id=1, project_id=2)

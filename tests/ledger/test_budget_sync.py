"""Budgets pulled from the sandbox's /resultbudget after a full sync: company level and per
department and project, stored as Tripletex has them; the one-source rule against uploads; a
failed call written on the year; the task enqueued after full runs only."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from ledger import queue
from ledger.budgets.selectors import budget_by_account, budget_by_account_month
from ledger.budgets.sync import budgets_sync
from ledger.models import Budget, BudgetYear, SyncRun
from ledger.periods import FiscalYear
from tripletex.errors import TripletexValidationError
from tripletex.sandbox import demo

OPERATING_ID = demo.OPERATING.company_id


def _sandbox_rows(server, year: int, level: str) -> list[dict]:
    return server.store.result_budgets(OPERATING_ID, year=year, level=level)


def _number(server, account_ref) -> int:
    return server.store.account(OPERATING_ID, account_ref.id)["number"]


def _period_start(server, period_ref) -> datetime.date:
    period = next(p for p in server.store.periods(OPERATING_ID) if p["id"] == period_ref.id)
    return datetime.date.fromisoformat(period["start"])


def test_sync_stores_every_level_as_tripletex_has_it(operating_acme, tripletex_sandbox):
    server = tripletex_sandbox
    today = server.store.today()
    counts = budgets_sync(company=operating_acme, today=today)
    years = [today.year - 1, today.year]
    expected_rows = {
        str(y): sum(
            len(_sandbox_rows(server, y, lvl)) for lvl in ("COMPANY", "DEPARTMENT", "PROJECT")
        )
        for y in years
    }
    assert counts == expected_rows
    assert all(n > 0 for n in counts.values())
    with scope(company=operating_acme):
        assert Budget.objects.filter(company=operating_acme).count() == sum(counts.values())
        assert set(Budget.objects.values_list("source", flat=True)) == {"tripletex"}
        last_year = FiscalYear(datetime.date(today.year - 1, 1, 1))
        company_level = budget_by_account(
            company=operating_acme, date_from=last_year.start, date_to=last_year.end
        )
        sales = server.store.departments(OPERATING_ID)[1]["id"]
        by_sales = budget_by_account_month(
            company=operating_acme,
            date_from=last_year.start,
            date_to=last_year.end,
            department_id=sales,
        )
        project = server.store.projects(OPERATING_ID)[0]["id"]
        by_project = budget_by_account(
            company=operating_acme,
            date_from=last_year.start,
            date_to=last_year.end,
            project_id=project,
        )
        years_stored = {y.start: (y.source, y.rows) for y in BudgetYear.objects.all()}
    # Company level: each account's year is the sum of the sandbox's twelve months.
    want: dict[int, Decimal] = {}
    for row in _sandbox_rows(server, today.year - 1, "COMPANY"):
        number = _number(server, row["account"])
        want[number] = want.get(number, Decimal(0)) + row["amount"]
    assert company_level == want
    want_sales: dict[int, dict[datetime.date, Decimal]] = {}
    for row in _sandbox_rows(server, today.year - 1, "DEPARTMENT"):
        if row["department"].id == sales:
            month = _period_start(server, row["accountingPeriod"])
            want_sales.setdefault(_number(server, row["account"]), {})[month] = row["amount"]
    assert by_sales == want_sales
    assert by_sales
    want_project: dict[int, Decimal] = {}
    for row in _sandbox_rows(server, today.year - 1, "PROJECT"):
        if row["project"].id == project:
            number = _number(server, row["account"])
            want_project[number] = want_project.get(number, Decimal(0)) + row["amount"]
    assert by_project == want_project
    assert years_stored == {
        datetime.date(y, 1, 1): ("tripletex", expected_rows[str(y)]) for y in years
    }


def test_a_budget_removed_in_tripletex_is_removed_here(operating_acme, tripletex_sandbox):
    server = tripletex_sandbox
    budgets_sync(company=operating_acme, today=server.store.today())
    server.store.delete_result_budgets(OPERATING_ID)
    counts = budgets_sync(company=operating_acme, today=server.store.today())
    assert set(counts.values()) == {0}
    with scope(company=operating_acme):
        assert not Budget.objects.exists()
        assert set(BudgetYear.objects.values_list("source", "rows")) == {("none", 0)}


def test_uploaded_budget_stays_when_tripletex_has_none_and_yields_when_it_has(
    operating_acme, tripletex_sandbox
):
    server = tripletex_sandbox
    server.store.delete_result_budgets(OPERATING_ID)
    today = server.store.today()
    year = FiscalYear(datetime.date(today.year, 1, 1))
    with scope(company=operating_acme):
        BudgetYear.objects.create(company=operating_acme, start=year.start, source="upload", rows=1)
        Budget.objects.create(
            company=operating_acme,
            account_number=3000,
            month=year.start,
            amount=Decimal("-5000.00"),
            source=Budget.Source.UPLOAD,
            updated_at=year_start_time(),
        )
    budgets_sync(company=operating_acme, today=today)
    with scope(company=operating_acme):
        assert list(Budget.objects.values_list("account_number", "amount", "source")) == [
            (3000, Decimal("-5000.00"), "upload")
        ]
        assert BudgetYear.objects.get(start=year.start).source == "upload"
    server.store.set_result_budget(
        OPERATING_ID, account_number=3100, month=year.start, amount=Decimal("-700.00")
    )
    budgets_sync(company=operating_acme, today=today)
    with scope(company=operating_acme):
        assert list(Budget.objects.values_list("account_number", "amount", "source")) == [
            (3100, Decimal("-700.00"), "tripletex")
        ]
        assert BudgetYear.objects.get(start=year.start).source == "tripletex"


def year_start_time():
    return timezone.now()


class _RefusingClient:
    def result_budgets_company(self, *, year):
        raise TripletexValidationError("Refused", status=403, request_id="req-budget-1")

    def result_budgets_dimensions(self, *, year):  # pragma: no cover - the first call fails
        raise AssertionError


def test_a_failed_call_is_written_on_the_year_and_changes_nothing(acme):
    today = datetime.date(2026, 5, 10)
    with scope(company=acme):
        Budget.objects.create(
            company=acme,
            account_number=3000,
            month=datetime.date(2026, 1, 1),
            amount=Decimal("-1.00"),
            source=Budget.Source.TRIPLETEX,
            updated_at=year_start_time(),
        )
    counts = budgets_sync(company=acme, client=_RefusingClient(), today=today)
    assert counts == {"2025": -1, "2026": -1}
    with scope(company=acme):
        assert Budget.objects.count() == 1
        problems = list(BudgetYear.objects.values_list("problem", flat=True))
    assert len(problems) == 2
    assert all("could not be read from Tripletex" in p and "req-budget-1" in p for p in problems)


@pytest.mark.parametrize(
    ("kind", "trigger", "enqueued"),
    [
        (SyncRun.Kind.FULL, SyncRun.Trigger.MANUAL, True),
        (SyncRun.Kind.RECHECK, SyncRun.Trigger.MANUAL, True),
        (SyncRun.Kind.CURRENT, SyncRun.Trigger.MANUAL, False),
        (SyncRun.Kind.FULL, SyncRun.Trigger.COMMAND, False),  # the command pulls them itself
    ],
)
def test_budget_task_follows_full_runs(
    holding, monkeypatch, settings, django_capture_on_commit_callbacks, kind, trigger, enqueued
):
    from ledger.sync.services import balances_sync

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, **kw: sent.append((name, kw)))
    run = SyncRun.objects.create(company=holding, trigger=trigger, kind=kind)
    with django_capture_on_commit_callbacks(execute=True):
        balances_sync(company=holding, run=run)
    budget_calls = [kw for name, kw in sent if name == queue.BUDGETS_SYNC]
    assert budget_calls == (
        [{"queue": settings.CELERY_QUEUE, "company_id": holding.pk}] if enqueued else []
    )


def test_the_sync_command_pulls_the_budgets(operating_acme, tripletex_sandbox):
    out = io.StringIO()
    call_command("sync_balances", operating_acme.org_number, stdout=out)
    with scope(company=operating_acme):
        stored = Budget.objects.filter(company=operating_acme).count()
    assert stored > 0
    assert "budget rows" in out.getvalue()

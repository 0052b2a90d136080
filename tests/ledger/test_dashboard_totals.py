"""The totals the office dashboard reads instead of summing rows: MonthSync's net result, current
assets and short-term debt (written with the balances by the sync) and BudgetTotal (written with
the budget rows by the budget sync and the upload). Each equals the sum of the stored rows after
a sync, an upload and a budget sync, and writing a month or a year again replaces it, never adds
to it; the migration computes them for months stored before it."""

import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

from companies.models import Company
from ledger.accounts import CURRENT_ASSETS, NET_RESULT, SHORT_TERM_DEBT
from ledger.budgets.sync import budgets_sync
from ledger.budgets.upload import budget_upload
from ledger.dashboard.selectors import office_dashboard
from ledger.models import AccountBalance, Budget, BudgetTotal, MonthSync
from ledger.periods import FiscalYear, fiscal_year_of, fiscal_year_start_month_of, month_start
from ledger.sync.month_replace import balances_month_replace
from tests.ledger.figures_data import seed_changes
from tests.ledger.test_sync import run_sync

D = Decimal
FY = FiscalYear(datetime.date(2026, 1, 1))
JAN, FEB, MAR = FY.months[:3]


def _balance_totals(company: Company) -> dict[datetime.date, tuple[Decimal, Decimal, Decimal]]:
    """{month: (net result change, current assets out, short-term debt out)} summed from the rows."""
    sums: dict = defaultdict(lambda: [D(0), D(0), D(0)])
    with scopes_disabled():
        rows = AccountBalance.objects.filter(company=company).values_list(
            "account_number", "month", "balance_change", "balance_out"
        )
        for number, month, change, out in rows:
            s = sums[month]
            s[0] += change if number in NET_RESULT else 0
            s[1] += out if number in CURRENT_ASSETS else 0
            s[2] += out if number in SHORT_TERM_DEBT else 0
    return {month: tuple(s) for month, s in sums.items()}


def _stored_month_totals(company: Company) -> dict[datetime.date, tuple[Decimal, Decimal, Decimal]]:
    with scopes_disabled():
        return {
            m.month: (m.net_result, m.current_assets, m.short_term_debt)
            for m in MonthSync.objects.filter(company=company, balance_rows__gt=0)
        }


def _budget_totals(company: Company) -> dict[datetime.date, tuple[Decimal, int]]:
    """{month: (company-level net-result budget, rows)} summed from the budget rows."""
    sums: dict = defaultdict(lambda: [D(0), 0])
    with scopes_disabled():
        rows = Budget.objects.filter(
            company=company, department_id=None, project_id=None
        ).values_list("account_number", "month", "amount")
        for number, month, amount in rows:
            if number in NET_RESULT:
                sums[month][0] += amount
                sums[month][1] += 1
    return {month: tuple(s) for month, s in sums.items()}


def _stored_budget_totals(company: Company) -> dict[datetime.date, tuple[Decimal, int]]:
    with scopes_disabled():
        return {
            t.month: (t.net_result, t.rows) for t in BudgetTotal.objects.filter(company=company)
        }


def test_sync_stores_month_totals_equal_to_the_balances_and_a_resync_replaces_them(
    holding, tripletex_sandbox, alice
):
    run = run_sync(holding)
    assert run.status == "succeeded", run.error
    expected = _balance_totals(holding)
    assert expected
    assert any(net for net, _a, _d in expected.values())
    assert any(assets and debt for _n, assets, debt in expected.values())
    assert _stored_month_totals(holding) == expected

    run_sync(holding)  # every month written again: replaced, not added to
    assert _stored_month_totals(holding) == expected == _balance_totals(holding)

    # The dashboard's figures from the totals are the balances' sums of the fiscal year.
    today = timezone.localdate()
    current = month_start(today)
    with scope(company=holding):
        fiscal_year = fiscal_year_of(current, fiscal_year_start_month_of(company=holding))
    row = office_dashboard(user=alice, today=today)[0]
    this_year = [m for m in expected if fiscal_year.start <= m <= current]
    assert row.result == -sum((expected[m][0] for m in this_year), D(0))
    last = expected[max(m for m in expected if m <= current)]
    assert (row.liquidity.numerator, row.liquidity.denominator) == (last[1], -last[2])


def test_writing_a_month_again_replaces_its_totals(acme):
    now = timezone.now()
    first = [
        (1920, D(0), D("100.00"), D("100.00")),
        (2400, D(0), D("-40.00"), D("-40.00")),
        (3000, D(0), D("-500.00"), D("-500.00")),
        (6300, D(0), D("120.50"), D("120.50")),
        (8960, D(0), D("7.00"), D("7.00")),  # an allocation: not in the net result
    ]
    second = [
        (1500, D("10.00"), D("5.00"), D("15.00")),
        (2740, D(0), D("-25.00"), D("-25.00")),
        (3000, D(0), D("-300.00"), D("-300.00")),
    ]
    with scope(company=acme):
        balances_month_replace(company=acme, month=JAN, values=first, synced_at=now)
        assert _stored_month_totals(acme) == {JAN: (D("-379.50"), D("100.00"), D("-40.00"))}
        balances_month_replace(company=acme, month=JAN, values=second, synced_at=now)
        assert _stored_month_totals(acme) == {JAN: (D("-300.00"), D("15.00"), D("-25.00"))}
        assert _stored_month_totals(acme) == _balance_totals(acme)
        balances_month_replace(company=acme, month=JAN, values=[], synced_at=now)
        month = MonthSync.objects.get(company=acme, month=JAN)
    assert (month.net_result, month.current_assets, month.short_term_debt) == (0, 0, 0)


def test_budget_sync_stores_totals_equal_to_the_budget_rows(operating_acme, tripletex_sandbox):
    today = tripletex_sandbox.store.today()
    counts = budgets_sync(company=operating_acme, today=today)
    assert all(n > 0 for n in counts.values())
    expected = _budget_totals(operating_acme)
    assert expected
    assert all(rows for _total, rows in expected.values())
    assert _stored_budget_totals(operating_acme) == expected

    budgets_sync(company=operating_acme, today=today)  # the same years again: replaced
    assert _stored_budget_totals(operating_acme) == expected == _budget_totals(operating_acme)


def _workbook(rows) -> io.BytesIO:
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.append(["Konto", "Navn", *(f"{m:%Y-%m}" for m in FY.months)])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.fixture
def budget_file_acme(acme):
    with scope(company=acme):
        seed_changes(
            acme,
            {3000: {JAN: D("-1000")}, 4000: {JAN: D("400")}, 8960: {JAN: D("10")}},
            names={3000: "Salgsinntekt", 4000: "Varekjøp", 8960: "Overføringer"},
        )
    return acme


def test_upload_stores_totals_and_a_new_file_replaces_them(budget_file_acme, alice):
    with scope(company=budget_file_acme):
        # Shown signs in the file: income positive, costs positive (stored with ledger signs).
        budget_upload(
            company=budget_file_acme,
            fiscal_year=FY,
            upload=_workbook(
                [
                    [3000, "Salg", 1000, 1100, 1200],
                    [4000, "Varer", 300, 0, 500],
                    [8960, "Overført", 50],  # an allocation: not in the net result
                ]
            ),
            file_name="budsjett.xlsx",
            by=alice,
        )
        stored = _stored_budget_totals(budget_file_acme)
        assert stored == {
            JAN: (D("-700.00"), 2),
            FEB: (D("-1100.00"), 1),
            MAR: (D("-700.00"), 2),
        }
        assert stored == _budget_totals(budget_file_acme)

        budget_upload(
            company=budget_file_acme,
            fiscal_year=FY,
            upload=_workbook([[3000, "Salg", 0, 2000]]),
            file_name="budsjett-2.xlsx",
            by=alice,
        )
        assert _stored_budget_totals(budget_file_acme) == {FEB: (D("-2000.00"), 1)}
        assert _stored_budget_totals(budget_file_acme) == _budget_totals(budget_file_acme)


# ---- the migration ----------------------------------------------------------------------------

BEFORE = [("ledger", "0019_instrument_ref")]
AFTER = [("ledger", "0020_month_and_budget_totals")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration_computes_the_totals_of_months_stored_before():
    apps = _migrate(BEFORE)
    try:
        company = apps.get_model("companies", "Company").objects.create(
            org_number="923609016", name="Gammel AS", slug="gammel-as"
        )
        balance = apps.get_model("ledger", "AccountBalance").objects
        budget = apps.get_model("ledger", "Budget").objects
        now = timezone.now()
        for month in (JAN, FEB):
            apps.get_model("ledger", "MonthSync").objects.create(
                company=company, month=month, synced_at=now, balance_rows=1
            )
        for number, month, change, out in [
            (1500, JAN, "10", "110"),
            (2400, JAN, "-20", "-220"),
            (3000, JAN, "-300", "-300"),
            (8960, JAN, "5", "5"),
            (4000, FEB, "70", "70"),
            (3000, FEB, "-100", "-400"),
        ]:
            balance.create(
                company=company,
                account_number=number,
                month=month,
                balance_in=D(out) - D(change),
                balance_change=D(change),
                balance_out=D(out),
                synced_at=now,
            )
        for number, month, amount, department in [
            (3000, JAN, "-250", None),
            (4000, JAN, "60", None),
            (3000, JAN, "-999", 7),  # a department's: not the company's
            (8960, FEB, "3", None),  # an allocation only: no total
        ]:
            budget.create(
                company=company,
                account_number=number,
                month=month,
                amount=D(amount),
                department_id=department,
                source="upload",
                updated_at=now,
            )

        apps = _migrate(AFTER)

        months = {
            m.month: (m.net_result, m.current_assets, m.short_term_debt)
            for m in apps.get_model("ledger", "MonthSync").objects.filter(company_id=company.pk)
        }
        assert months == {
            JAN: (D("-300.00"), D("110.00"), D("-220.00")),
            FEB: (D("-30.00"), D("0.00"), D("0.00")),
        }
        totals = {
            t.month: (t.net_result, t.rows)
            for t in apps.get_model("ledger", "BudgetTotal").objects.filter(company_id=company.pk)
        }
        assert totals == {JAN: (D("-190.00"), 2)}
    finally:
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())  # the schema the other tests expect

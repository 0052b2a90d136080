"""The postings strategy of the sync (ledger/sync/postings.py) against the Tripletex sandbox: the
monthly balances it derives equal the sandbox's own monthly /balanceSheet for every account, its
control total catches postings the key cannot see, a large firm goes by months, and a re-sync
costs (almost) nothing."""

import datetime
from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.models import (
    AccountBalance,
    Department,
    FiscalYearSync,
    LedgerAccount,
    Posting,
    Project,
    SyncRun,
)
from ledger.periods import FiscalYear, month_next, months_in
from ledger.sync import postings as postings_module
from ledger.sync.month_replace import balance_rows_values
from ledger.sync.postings import MAX_PAGES, months_derive
from ledger.sync.services import MONTHS, balances_sync, sync_request
from tests.ledger.support import connect
from tests.ledger.test_fiscal_year_july import SYNCED as JULY_SYNCED
from tests.ledger.test_fiscal_year_july import TODAY as JULY_TODAY
from tests.ledger.test_fiscal_year_july import _sync as july_sync
from tests.ledger.test_sync import (
    book,
    fast_client,
    months_until_now,
    run_sync,
    stored_balances,
)
from tests.sandbox.support import create_session_token
from tripletex.sandbox import demo

# session aside: chart, departments, projects, periods (what the monthly strategy pulls each run)
REFERENCE_CALLS = 4
# The postings strategy's first sync of a firm without departments and projects (the holding
# company): the chart, because its postings name accounts we do not know yet, and the periods.
CHART_AND_PERIODS = 2


def sandbox_months(server, token: str, months: list[datetime.date]) -> dict:
    """{(account, month): (in, change, out)} from the sandbox's own monthly /balanceSheet, every
    active account included, all-zero rows left out (as a synced month stores them)."""
    client = fast_client(server, token=token)
    grid = {}
    for month in months:
        rows = client.balance_sheet(
            date_from=month, date_to=month_next(month), include_accounts_without_movements=True
        )
        for number, b_in, change, out in balance_rows_values(rows):
            grid[(number, month)] = (b_in, change, out)
    return grid


def test_derived_months_equal_the_monthly_balance_sheet_for_a_calendar_year_firm(
    holding, tripletex_sandbox
):
    run = run_sync(holding)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    months = months_until_now()
    expected = sandbox_months(tripletex_sandbox, demo.HOLDING_TOKEN, months)
    stored = stored_balances(holding)
    assert stored == expected
    # What makes the comparison worth having: accounts that did not move in a month but carry a
    # balance, and the fiscal-year boundary (result accounts restart, balance accounts carry).
    january = datetime.date(months[-1].year, 1, 1)
    assert any(change == 0 and b_in != 0 for (_n, _m), (b_in, change, _o) in stored.items())
    carried = {n for (n, m), (b_in, _c, _o) in stored.items() if m == january and b_in}
    assert carried
    assert all(n < 3000 for n in carried), "only balance accounts open a year"
    december = datetime.date(january.year - 1, 12, 1)
    assert any(n >= 3000 and b_in for (n, m), (b_in, _c, _o) in stored.items() if m == december)
    # Two fiscal years from one posting page and two yearly balance sheets; the holding company's
    # postings name no department or project, so neither list is pulled.
    assert run.tripletex_calls == CHART_AND_PERIODS + 1 + 2
    assert [s["strategy"] for s in run.strategies] == ["postings", "postings"]
    with scopes_disabled():
        postings = Posting.objects.filter(company=holding).count()
        records = list(FiscalYearSync.objects.filter(company=holding).values_list("strategy"))
    assert postings == len(tripletex_sandbox.store.all_postings(demo.HOLDING.company_id))
    assert records == [("postings",), ("postings",)]


def test_derived_months_equal_the_monthly_balance_sheet_across_a_july_fiscal_year(
    acme, july_sandbox
):
    """The July firm: its first sync learns the fiscal year from monthly balances; a forced
    re-pull then derives every month of both July–June years from postings."""
    firm = connect(acme, token=demo.JULY_TOKEN)
    first = july_sync(firm)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    with scope(company=firm):
        run, _created = sync_request(company=firm, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
        again = balances_sync(company=firm, run=run, today=JULY_TODAY, force=True)

    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert [(s["year"], s["strategy"]) for s in again.strategies] == [
        ("2024/25", "postings"),
        ("2025/26", "postings"),
    ]
    assert again.months_done == len(JULY_SYNCED)
    stored = stored_balances(firm)
    assert stored == sandbox_months(july_sandbox, demo.JULY_TOKEN, JULY_SYNCED)
    july, june = datetime.date(2025, 7, 1), datetime.date(2025, 6, 1)
    assert all(n < 3000 for (n, m), (b_in, _c, _o) in stored.items() if m == july and b_in)
    assert any(n >= 3000 and b_in for (n, m), (b_in, _c, _o) in stored.items() if m == june)


def test_months_derive_resets_result_accounts_at_the_fiscal_year_start():
    months = months_in(datetime.date(2025, 5, 1), datetime.date(2025, 9, 1))
    changes = {
        datetime.date(2025, 5, 1): {3000: Decimal("-10.00"), 1920: Decimal("10.00")},
        datetime.date(2025, 8, 1): {3000: Decimal("-5.00"), 1920: Decimal("5.00")},
    }
    opening = {1920: Decimal("100.00"), 3000: Decimal("-40.00")}

    derived = months_derive(months, opening, changes, start_month=7)

    assert derived[datetime.date(2025, 5, 1)] == [
        (1920, Decimal("100.00"), Decimal("10.00"), Decimal("110.00")),
        (3000, Decimal("-40.00"), Decimal("-10.00"), Decimal("-50.00")),
    ]
    # June: no movement, both carry.
    assert derived[datetime.date(2025, 6, 1)] == [
        (1920, Decimal("110.00"), Decimal("0"), Decimal("110.00")),
        (3000, Decimal("-50.00"), Decimal("0"), Decimal("-50.00")),
    ]
    # July opens the fiscal year: the result account restarts at zero, the bank carries.
    assert derived[datetime.date(2025, 7, 1)] == [
        (1920, Decimal("110.00"), Decimal("0"), Decimal("110.00")),
    ]
    assert derived[datetime.date(2025, 8, 1)][-1] == (
        3000,
        Decimal("0"),
        Decimal("-5.00"),
        Decimal("-5.00"),
    )


def test_the_control_total_catches_salary_the_key_cannot_see_and_falls_back_to_months(
    acme, tripletex_sandbox
):
    firm = connect(acme, token=demo.OPERATING_TOKEN)
    tripletex_sandbox.faults.hide_salary_postings = True

    run = run_sync(firm)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert [s["strategy"] for s in run.strategies] == ["months", "months"]
    assert all("5000" in s["reason"] and "salary" in s["reason"] for s in run.strategies)
    assert any("salary" in note for note in run.strategy_notes)
    months = months_until_now()
    assert stored_balances(firm) == sandbox_months(tripletex_sandbox, demo.OPERATING_TOKEN, months)
    # One posting page, two yearly balance sheets, then every month on its own; the operating
    # company's postings name departments and projects, so those lists are pulled too.
    assert run.tripletex_calls == REFERENCE_CALLS + 1 + 2 + len(months)
    with scopes_disabled():
        stored_salary = Posting.objects.filter(company=firm, account_number=5000).count()
    assert stored_salary == 0, "the postings the key could see are stored, salary is not among them"

    # The next night the open months follow the year's strategy: by months, no postings.
    second = run_sync(firm)
    open_months = _open_months(tripletex_sandbox, demo.OPERATING.company_id)
    assert second.tripletex_calls == 1 + len(open_months)
    assert stored_balances(firm) == sandbox_months(tripletex_sandbox, demo.OPERATING_TOKEN, months)


def test_a_firm_over_the_page_threshold_uses_the_monthly_strategy(
    holding, tripletex_sandbox, monkeypatch
):
    # Ten postings to a page and a threshold of one page a year make the sandbox's holding
    # company (about 120 postings a year) "large" without seeding 100,000 postings.
    monkeypatch.setattr(postings_module, "POSTING_PAGE_MAX", 10)
    monkeypatch.setattr("tripletex.client.POSTING_PAGE_MAX", 10)
    monkeypatch.setattr(postings_module, "MAX_PAGES", 1)

    run = run_sync(holding)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert [s["strategy"] for s in run.strategies] == ["months", "months"]
    assert all("pages" in s["reason"] for s in run.strategies)
    months = months_until_now()
    # The first page told; then one /balanceSheet per month, as the monthly strategy alone.
    assert run.tripletex_calls == CHART_AND_PERIODS + 1 + len(months)
    assert stored_balances(holding) == sandbox_months(tripletex_sandbox, demo.HOLDING_TOKEN, months)


def test_max_pages_follows_from_the_call_arithmetic():
    # A year by postings costs the yearly balance sheet plus its pages; by months, 12 calls.
    assert 1 + MAX_PAGES < 12 <= 1 + (MAX_PAGES + 1)


def _open_months(server, company_id: int) -> list[datetime.date]:
    return [
        datetime.date.fromisoformat(p["start"])
        for p in server.store.periods(company_id)
        if not p["isClosed"] and p["start"] <= timezone.localdate().isoformat()
    ]


def test_resync_after_a_new_voucher_in_an_open_month_picks_it_up_in_one_call(
    holding, tripletex_sandbox
):
    run_sync(holding)
    book(tripletex_sandbox, [(6705, Decimal("1000.10")), (1920, Decimal("-1000.10"))])

    run = run_sync(holding)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # The periods and one posting call; the chart is less than a day old.
    assert run.tripletex_calls == 2
    open_months = _open_months(tripletex_sandbox, demo.HOLDING.company_id)
    assert run.months_done == len(open_months)
    assert stored_balances(holding) == sandbox_months(
        tripletex_sandbox, demo.HOLDING_TOKEN, months_until_now()
    )
    with scopes_disabled():
        assert Posting.objects.filter(
            company=holding, account_number=6705, amount=Decimal("1000.10")
        ).exists()


def test_a_posting_on_an_unknown_account_refreshes_the_chart(holding, tripletex_sandbox):
    run_sync(holding)
    with scopes_disabled():
        LedgerAccount.objects.filter(company=holding, number=6705).delete()
    book(tripletex_sandbox, [(6705, Decimal("10.00")), (1920, Decimal("-10.00"))])

    run = run_sync(holding)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # Periods, postings, then the chart (no department or project is unknown).
    assert run.tripletex_calls == 2 + 1
    with scopes_disabled():
        assert LedgerAccount.objects.filter(company=holding, number=6705).exists()


def test_the_chart_is_refreshed_once_a_day(holding, tripletex_sandbox):
    run_sync(holding)
    with scopes_disabled():
        LedgerAccount.objects.filter(company=holding).update(
            synced_at=timezone.now() - datetime.timedelta(hours=25)
        )
    run = run_sync(holding)
    # The chart (the company holds no departments or projects to refresh), periods, postings.
    assert run.tripletex_calls == 1 + 2


def test_weekly_recheck_is_one_yearly_balance_sheet_per_year_when_nothing_changed(
    holding, tripletex_sandbox
):
    run_sync(holding)
    run = run_sync(holding, kind=SyncRun.Kind.RECHECK)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # Periods, two yearly balance sheets, the open months' postings.
    assert run.tripletex_calls == 1 + 2 + 1
    assert run.strategies == []


def test_weekly_recheck_pulls_a_year_again_when_a_closed_month_changed(holding, tripletex_sandbox):
    run_sync(holding)
    today = timezone.localdate()
    # Moving the sandbox's clock back reopens months we hold as closed; a voucher goes into one.
    tripletex_sandbox.store.today_override = today - datetime.timedelta(days=120)
    day = (today - datetime.timedelta(days=100)).replace(day=10)
    book(tripletex_sandbox, [(6800, Decimal("250.00")), (1920, Decimal("-250.00"))], day=day)
    tripletex_sandbox.store.today_override = None

    run = run_sync(holding, kind=SyncRun.Kind.RECHECK)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert [s["year"] for s in run.strategies] == [str(day.year)]
    assert stored_balances(holding) == sandbox_months(
        tripletex_sandbox, demo.HOLDING_TOKEN, months_until_now()
    )


def test_the_monthly_strategy_stays_as_it_was(holding, tripletex_sandbox):
    run = run_sync(holding, strategy=MONTHS)
    assert run.tripletex_calls == REFERENCE_CALLS + len(months_until_now())
    assert run.strategies == []
    with scopes_disabled():
        assert not Posting.objects.filter(company=holding).exists()
        assert AccountBalance.objects.filter(company=holding).exists()


def test_fiscal_year_label_in_strategies_is_the_firms():
    assert FiscalYear(datetime.date(2025, 7, 1)).label == "2025/26"


def test_intraday_refresh_is_the_periods_and_one_posting_call(holding, tripletex_sandbox):
    run_sync(holding)
    run = run_sync(holding, kind=SyncRun.Kind.CURRENT)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.tripletex_calls == 2
    assert run.months_done == len(_open_months(tripletex_sandbox, demo.HOLDING.company_id))


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `except Exception`."""


def test_worker_killed_mid_run_leaves_each_year_all_old_or_all_new(holding, tripletex_sandbox):
    run_sync(holding)
    old = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    with scopes_disabled():
        AccountBalance.objects.filter(company=holding).update(synced_at=old)
        Posting.objects.filter(company=holding).update(synced_at=old)
    client = fast_client(tripletex_sandbox)
    original = client.balance_sheet
    calls = {"n": 0}

    def killed_on_the_second_year(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerKilled
        return original(**kwargs)

    client.balance_sheet = killed_on_the_second_year
    with pytest.raises(WorkerKilled):
        run_sync(holding, force=True, client=client)

    year = months_until_now()[-1].year
    first, second = FiscalYear(datetime.date(year - 1, 1, 1)), FiscalYear(datetime.date(year, 1, 1))
    with scopes_disabled():
        for model in (AccountBalance, Posting):
            field = "month" if model is AccountBalance else "date"
            for fy, expect_new in ((first, True), (second, False)):
                rows = model.objects.filter(
                    company=holding, **{f"{field}__gte": fy.start, f"{field}__lt": fy.end}
                )
                flags = {synced != old for synced in rows.values_list("synced_at", flat=True)}
                assert flags == {expect_new}, (model.__name__, fy.label)


def _dimension_balance_sheet(server, token, start, end, **dimension) -> dict[int, Decimal]:
    """{account: balanceChange} of the sandbox's /balanceSheet filtered by one dimension."""
    session = create_session_token(server, token)
    response = requests.get(
        f"{server.base_url}/balanceSheet",
        params={
            "dateFrom": start.isoformat(),
            "dateTo": end.isoformat(),
            "fields": "account(number),balanceChange",
            **dimension,
        },
        auth=("0", session),
        timeout=10,
    )
    response.raise_for_status()
    totals: dict[int, Decimal] = {}
    for row in response.json(parse_float=Decimal)["values"]:
        number = row["account"]["number"]
        if number >= 3000 and row["balanceChange"]:
            totals[number] = totals.get(number, Decimal(0)) + row["balanceChange"]
    return totals


def test_department_and_project_filters_give_the_balance_sheets_totals_of_that_dimension(
    client, alice, acme, tripletex_sandbox
):
    firm = connect(acme, token=demo.OPERATING_TOKEN)
    run = run_sync(firm)
    assert [s["strategy"] for s in run.strategies] == ["postings", "postings"]
    client.force_login(alice)
    with scopes_disabled():
        departments = list(Department.objects.filter(company=firm))
        projects = list(Project.objects.filter(company=firm))
    assert departments
    assert projects
    checked = 0
    for param, api_param, chosen in [("avd", "departmentId", d) for d in departments] + [
        ("prosj", "projectId", p) for p in projects
    ]:
        response = client.get(
            f"/c/{firm.slug}/resultat/", {param: chosen.pk, "fortegn": "tripletex"}
        )
        assert response.status_code == 200
        pnl, period = response.context["pnl"], response.context["period"]
        assert pnl.dimensions is not None
        assert pnl.unstored_months == []
        shown = {
            a.number: a.cells for line in pnl.lines if not line.is_total for a in line.accounts
        }
        ytd = {n: c.ytd for n, c in shown.items() if c.ytd}
        last_year = {n: c.last_year for n, c in shown.items() if c.last_year}
        dimension = {api_param: chosen.tripletex_id}
        end = month_next(period.through)
        assert ytd == _dimension_balance_sheet(
            tripletex_sandbox, demo.OPERATING_TOKEN, period.fiscal_year.start, end, **dimension
        )
        assert last_year == _dimension_balance_sheet(
            tripletex_sandbox,
            demo.OPERATING_TOKEN,
            period.last_year_months[0],
            month_next(period.last_year_months[-1]),
            **dimension,
        )
        month = period.months[2]
        in_month = {n: c.months[2] for n, c in shown.items() if c.months[2]}
        assert in_month == _dimension_balance_sheet(
            tripletex_sandbox, demo.OPERATING_TOKEN, month, month_next(month), **dimension
        )
        checked += bool(ytd)
    assert checked >= 2, "some department or project must have postings on result accounts"
    unfiltered = client.get(f"/c/{firm.slug}/resultat/")
    html = unfiltered.content.decode()
    assert 'data-testid="select-department"' in html
    assert 'data-testid="select-project"' in html
    assert unfiltered.context["pnl"].dimensions is None

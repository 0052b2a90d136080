"""Balance sync against the Tripletex sandbox: what is stored, what is pulled again, failures."""

import datetime
from collections import defaultdict
from decimal import Decimal
from decimal import Decimal as D

import pytest
import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import (
    connection_mark,
    connection_set_office_key,
    office_key_set,
)
from companies.models import Company, TripletexConnection
from ledger.models import (
    AccountBalance,
    AccountingPeriod,
    Department,
    LedgerAccount,
    MonthSync,
    Project,
    SyncRun,
)
from ledger.periods import month_next
from ledger.sync import tasks as sync_tasks
from ledger.sync.selectors import figures_status, last_runs_by_company
from ledger.sync.services import (
    MAX_RETRY_COUNTDOWN,
    MONTHS,
    SyncRetryLater,
    balances_sync,
    balances_sync_give_up,
    retry_countdown,
    sync_request,
    sync_runs_expire_stale,
)
from tests.ledger.support import connect
from tripletex.client import RetryPolicy, TripletexClient
from tripletex.sandbox import demo
from tripletex.session import MemorySessionCache

CLOSED_AND_STORED_MSG = "closed months that are already stored are not pulled again"
# Tests that count the monthly strategy's calls or stop it between months pass strategy=MONTHS;
# the postings strategy's own counts are in tests/ledger/test_sync_postings.py.
# accounts, departments, projects, accounting periods
REFERENCE_CALLS = 4


# ---- helpers shared by the other sync test modules ----------------------------------------------


def run_sync(company: Company, **kwargs) -> SyncRun:
    """One synchronous run (as the command does); kwargs go to balances_sync."""
    kind = kwargs.pop("kind", SyncRun.Kind.FULL)
    only_month = kwargs.pop("only_month", None)
    with scope(company=company):
        run, created = sync_request(
            company=company,
            trigger=SyncRun.Trigger.COMMAND,
            kind=kind,
            only_month=only_month,
            enqueue=False,
        )
        assert created
        return balances_sync(company=company, run=run, **kwargs)


def months_until_now() -> list[datetime.date]:
    today = timezone.localdate()
    return [
        datetime.date(y, m, 1)
        for y in (today.year - 1, today.year)
        for m in range(1, 13)
        if datetime.date(y, m, 1) <= today
    ]


def expected_balances(server, company_id: int, months) -> dict:
    """{(account, month): (in, change, out)} computed from the sandbox's stored postings."""
    postings = server.store.all_postings(company_id)
    grid = {}
    for month in months:
        end = month_next(month)
        year_start = datetime.date(month.year, 1, 1)
        sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for number, day, amount in postings:
            if day < month:
                if number < 3000 or day >= year_start:
                    sums[number][0] += amount
            elif day < end:
                sums[number][1] += amount
        for number, (b_in, change) in sums.items():
            if b_in or change:
                grid[(number, month)] = (b_in, change, b_in + change)
    return grid


def stored_balances(company: Company) -> dict:
    with scopes_disabled():
        rows = AccountBalance.objects.filter(company=company).values_list(
            "account_number", "month", "balance_in", "balance_change", "balance_out"
        )
        return {(n, m): (i, c, o) for n, m, i, c, o in rows}


def assert_month_counts_match_balances(company: Company) -> None:
    """Each MonthSync counts exactly the balances stored for its month (the figures rely on it)."""
    with scopes_disabled():
        counted: dict = {}
        for number, month, balance_in in AccountBalance.objects.filter(company=company).values_list(
            "account_number", "month", "balance_in"
        ):
            rows, result, opened = counted.get(month, (0, 0, 0))
            is_result = 3000 <= number <= 8999
            counted[month] = (
                rows + 1,
                result + is_result,
                opened + (is_result and balance_in != 0),
            )
        stored = {
            m.month: (m.balance_rows, m.result_rows, m.result_rows_opened)
            for m in MonthSync.objects.filter(company=company)
        }
    assert counted, "the sync should have stored balances"
    assert stored == {month: counted.get(month, (0, 0, 0)) for month in stored}
    assert set(counted) <= set(stored)


def fast_client(server, token: str = demo.HOLDING_TOKEN, company_id: int = 0, **retry):
    """A client whose retry waits are recorded instead of slept (sleeps: list of delays)."""
    sleeps: list[float] = []
    client = TripletexClient(
        base_url=server.base_url,
        consumer_token=demo.CONSUMER_TOKEN,
        employee_token=token,
        company_id=company_id,
        sessions=MemorySessionCache(),
        retry=RetryPolicy(**retry) if retry else None,
        sleep=sleeps.append,
    )
    client.sleeps = sleeps
    return client


def book(server, lines, *, day=None, company=demo.HOLDING):
    """Book a voucher through the sandbox's HTTP API, like the booking feature does."""
    ids = {a["number"]: a["id"] for a in server.store.accounts(company.company_id)}
    day = day or server.store.today()
    body = {
        "date": day.isoformat(),
        "description": "Sync test",
        "postings": [
            {
                "row": row,
                "account": {"id": ids[number]},
                "amountGross": str(amount),
                "amountGrossCurrency": str(amount),
            }
            for row, (number, amount) in enumerate(lines, start=1)
        ],
    }
    expires = max(day, server.store.today(), timezone.localdate()) + datetime.timedelta(days=7)
    session = server.store.create_session(company.employee_token, expires)
    response = requests.post(
        f"{server.base_url}/ledger/voucher",
        json=body,
        auth=("0", session["token"]),
        timeout=10,
    )
    assert response.status_code == 201, response.text


# ---- what a sync stores -------------------------------------------------------------------------


def test_first_sync_stores_the_sandbox_balances(holding, tripletex_sandbox):
    run = run_sync(holding, strategy=MONTHS)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    months = months_until_now()
    assert run.months_done == run.months_total == len(months)
    expected = expected_balances(tripletex_sandbox, demo.HOLDING.company_id, months)
    assert expected, "the sandbox should have postings"
    assert stored_balances(holding) == expected
    # One /balanceSheet per month plus the reference data, counted and stored.
    assert run.tripletex_calls == len(months) + REFERENCE_CALLS
    assert run.rows_written == len(expected)
    assert run.finished_at is not None
    with scopes_disabled():
        assert LedgerAccount.objects.filter(company=holding).count() == len(
            tripletex_sandbox.store.accounts(demo.HOLDING.company_id)
        )
        assert AccountingPeriod.objects.filter(company=holding).count() == 24
        assert AccountingPeriod.objects.filter(company=holding, is_closed=True).exists()
        assert Department.objects.filter(company=holding).count() == len(
            tripletex_sandbox.store.departments(demo.HOLDING.company_id)
        )
        assert Project.objects.filter(company=holding).count() == len(
            tripletex_sandbox.store.projects(demo.HOLDING.company_id)
        )
        assert MonthSync.objects.filter(company=holding, is_complete=True).count() == len(months)
    assert_month_counts_match_balances(holding)
    with scope(company=holding):
        status = figures_status(company=holding)
    assert status.as_of == run.finished_at
    assert not status.is_incomplete
    assert status.last_run == run
    assert status.running_run is None


def test_resync_after_booking_reflects_the_voucher(holding, tripletex_sandbox):
    run_sync(holding)
    month = timezone.localdate().replace(day=1)
    before = (
        stored_balances(holding)[(6705, month)]
        if (6705, month) in stored_balances(holding)
        else (Decimal(0), Decimal(0), Decimal(0))
    )

    book(tripletex_sandbox, [(6705, Decimal("1000.10")), (1920, Decimal("-1000.10"))])
    run = run_sync(holding)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = stored_balances(holding)[(6705, month)]
    assert after[1] - before[1] == Decimal("1000.10")
    assert after[2] - before[2] == Decimal("1000.10")
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )


def test_closed_months_are_not_pulled_again(holding, tripletex_sandbox):
    first = run_sync(holding, strategy=MONTHS)
    second = run_sync(holding, strategy=MONTHS)

    open_months = [
        p
        for p in tripletex_sandbox.store.periods(demo.HOLDING.company_id)
        if not p["isClosed"] and p["start"] <= timezone.localdate().isoformat()
    ]
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.months_done == len(open_months), CLOSED_AND_STORED_MSG
    assert second.months_skipped == first.months_done - len(open_months)
    assert second.tripletex_calls == REFERENCE_CALLS + len(open_months)


def test_reopened_month_is_pulled_again_and_its_new_voucher_shows(holding, tripletex_sandbox):
    run_sync(holding)
    today = timezone.localdate()
    # Moving the sandbox's clock back two months reopens the two months before the open ones.
    tripletex_sandbox.store.today_override = today - datetime.timedelta(days=62)
    reopened = [
        datetime.date.fromisoformat(p["start"])
        for p in tripletex_sandbox.store.periods(demo.HOLDING.company_id)
        if not p["isClosed"] and p["start"] <= today.isoformat()
    ]
    target = min(reopened)
    book(
        tripletex_sandbox,
        [(6800, Decimal("250.00")), (1920, Decimal("-250.00"))],
        day=target + datetime.timedelta(days=3),
    )

    run = run_sync(holding)

    assert run.months_done == len(reopened) >= 3
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )
    with scopes_disabled():
        assert not MonthSync.objects.get(company=holding, month=target).period_closed


def test_weekly_recheck_pulls_closed_months_too(holding, tripletex_sandbox):
    run_sync(holding, strategy=MONTHS)
    run = run_sync(holding, kind=SyncRun.Kind.RECHECK, strategy=MONTHS)
    assert run.months_done == len(months_until_now())


def test_one_chosen_month(holding, tripletex_sandbox):
    month = timezone.localdate().replace(day=1) - datetime.timedelta(days=200)
    run = run_sync(holding, only_month=month)
    assert run.kind == SyncRun.Kind.MONTH
    assert run.months_done == run.months_total == 1
    with scopes_disabled():
        months = set(AccountBalance.objects.filter(company=holding).values_list("month", flat=True))
    assert months == {month.replace(day=1)}
    assert run.tripletex_calls == REFERENCE_CALLS + 1


# ---- tie-out ------------------------------------------------------------------------------------


def test_tieout_catches_an_unbalanced_month(holding, tripletex_sandbox):
    bad = (timezone.localdate().replace(day=1) - datetime.timedelta(days=100)).replace(day=1)
    tripletex_sandbox.faults.unbalance_month = f"{bad:%Y-%m}"

    run = run_sync(holding, strategy=MONTHS)

    assert run.status == SyncRun.Status.INCOMPLETE
    with scopes_disabled():
        month = MonthSync.objects.get(company=holding, month=bad)
        others = MonthSync.objects.filter(company=holding).exclude(month__in=[bad, month_next(bad)])
        assert not others.filter(is_complete=False).exists()
    assert not month.is_complete
    assert "0" in month.problem
    with scope(company=holding):
        status = figures_status(company=holding)
    assert status.is_incomplete
    assert any(r.startswith(f"{bad:%Y-%m}") for r in status.incomplete_reasons)

    # Once Tripletex's figures add up again, a re-check clears the warning.
    tripletex_sandbox.faults.unbalance_month = None
    run = run_sync(holding, kind=SyncRun.Kind.RECHECK, strategy=MONTHS)
    assert run.status == SyncRun.Status.SUCCEEDED
    with scope(company=holding):
        assert not figures_status(company=holding).is_incomplete


# ---- failures -----------------------------------------------------------------------------------


def test_429_without_reset_waits_and_completes(holding, tripletex_sandbox):
    client = fast_client(
        tripletex_sandbox, total_budget=10_000
    )  # waits are not slept, only recorded
    client.who_am_i()  # a session first, so the faults hit the sync's calls
    tripletex_sandbox.faults.fail_next = 2
    tripletex_sandbox.faults.fail_next_status = 429

    run = run_sync(holding, client=client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.rate_limit_waits >= 2
    assert run.waited_seconds > 0
    assert len(client.sleeps) >= 2


def test_rate_limit_that_never_lifts_fails_cleanly_saying_why(holding, tripletex_sandbox):
    # A budget that lets all three attempts happen (each 429 waits for the ~60 s window); the
    # run counts only its own calls, not the who_am_i below.
    client = fast_client(tripletex_sandbox, max_attempts=3, total_budget=1000.0)
    client.who_am_i()  # a session first, so the fault hits the sync's calls
    tripletex_sandbox.faults.fail_next = 1000
    tripletex_sandbox.faults.fail_next_status = 429

    with pytest.raises(SyncRetryLater) as caught:
        run_sync(holding, client=client)
    run = balances_sync_give_up(run=caught.value.run, error=caught.value.error)

    assert run.status == SyncRun.Status.FAILED
    assert "rate limit" in run.error
    assert run.finished_at is not None
    assert run.tripletex_calls >= 3


def test_5xx_is_retried_and_the_run_completes(holding, tripletex_sandbox):
    client = fast_client(tripletex_sandbox)
    client.who_am_i()
    tripletex_sandbox.faults.fail_next = 3
    tripletex_sandbox.faults.fail_next_status = 503
    run = run_sync(holding, client=client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )


def test_5xx_that_persists_fails_with_the_request_id_and_keeps_pulled_months(
    holding, tripletex_sandbox
):
    client = fast_client(tripletex_sandbox, max_attempts=2)
    calls = {"n": 0}
    original = client.balance_sheet

    def failing_after_three(**kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            tripletex_sandbox.faults.fail_next = 10
            tripletex_sandbox.faults.fail_next_status = 500
        return original(**kwargs)

    client.balance_sheet = failing_after_three
    with pytest.raises(SyncRetryLater) as caught:
        run_sync(holding, client=client, strategy=MONTHS)
    run = balances_sync_give_up(run=caught.value.run, error=caught.value.error)

    assert run.status == SyncRun.Status.FAILED
    assert "request id" in run.error
    assert run.request_ids
    assert run.months_done == 3
    with scopes_disabled():
        assert MonthSync.objects.filter(company=holding).count() == 3


def test_retry_resumes_without_pulling_months_again(holding, tripletex_sandbox):
    client = fast_client(tripletex_sandbox, max_attempts=1)
    original = client.balance_sheet
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            tripletex_sandbox.faults.fail_next = 1
        return original(**kwargs)

    client.balance_sheet = flaky
    with pytest.raises(SyncRetryLater) as caught:
        run_sync(holding, client=client, strategy=MONTHS)
    run = caught.value.run
    assert run.status == SyncRun.Status.QUEUED
    assert "try again" in run.error
    with scope(company=holding):
        run = balances_sync(
            company=holding, run=run, client=fast_client(tripletex_sandbox), strategy=MONTHS
        )
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.months_done == len(months_until_now())
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )


def test_session_expiry_mid_run_renews_and_completes(holding, tripletex_sandbox):
    client = fast_client(tripletex_sandbox)
    original = client.balance_sheet
    calls = {"n": 0}

    def expire_on_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            session = client._shared.sessions.peek()
            assert tripletex_sandbox.store.delete_session(session.token)
        return original(**kwargs)

    client.balance_sheet = expire_on_third
    run = run_sync(holding, client=client, strategy=MONTHS)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert client.stats.retries >= 1
    assert run.months_done == len(months_until_now())


def test_broken_key_marks_the_connection_broken_and_emails_admins_once(
    acme, alice, tripletex_sandbox
):
    connect(acme, token="not-a-valid-token")

    first = run_sync(acme)
    second = run_sync(acme)

    assert first.status == second.status == SyncRun.Status.FAILED
    assert "key" in first.error
    connection = TripletexConnection.objects.get(company=acme)
    assert connection.status == TripletexConnection.Status.BROKEN
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    assert "not-a-valid-token" not in mail.outbox[0].body


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `except Exception`."""


def test_worker_killed_mid_run_leaves_every_month_all_old_or_all_new(holding, tripletex_sandbox):
    run_sync(holding, strategy=MONTHS)
    old_marker = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    with scopes_disabled():
        AccountBalance.objects.filter(company=holding).update(synced_at=old_marker)
    client = fast_client(tripletex_sandbox)
    original = client.balance_sheet
    calls = {"n": 0}

    def killed_on_sixth(**kwargs):
        calls["n"] += 1
        rows = original(**kwargs)
        if calls["n"] == 6:
            raise WorkerKilled
        return rows

    client.balance_sheet = killed_on_sixth
    with pytest.raises(WorkerKilled):
        run_sync(holding, kind=SyncRun.Kind.RECHECK, client=client, strategy=MONTHS)

    with scopes_disabled():
        rows = list(
            AccountBalance.objects.filter(company=holding).values_list("month", "synced_at")
        )
    by_month = defaultdict(set)
    for month, synced_at in rows:
        by_month[month].add(synced_at == old_marker)
    assert all(len(flags) == 1 for flags in by_month.values()), "a month mixes old and new rows"
    new_months = sorted(m for m, flags in by_month.items() if flags == {False})
    assert new_months == months_until_now()[:5]

    # The run lost its worker: once its heartbeat is stale it is failed, and a new sync may start.
    with scopes_disabled():
        run = SyncRun.objects.get(company=holding, status=SyncRun.Status.RUNNING)
        SyncRun.objects.filter(pk=run.pk).update(
            progress_at=timezone.now() - datetime.timedelta(hours=1)
        )
    assert sync_runs_expire_stale(company=holding) == 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error


def test_duplicate_delivery_of_a_finished_run_does_nothing(holding, tripletex_sandbox):
    run = run_sync(holding)
    calls = run.tripletex_calls
    with scope(company=holding):
        again = balances_sync(company=holding, run=run)
    assert again.tripletex_calls == calls
    assert again.status == SyncRun.Status.SUCCEEDED


def test_office_key_with_two_clients_shares_one_rate_limit(acme, bergen, tripletex_sandbox):
    office = office_key_set(office_key=None, name="Tallknuserne", token=demo.OFFICE_TOKEN, by=None)
    for company, client in ((acme, demo.CLIENT_A), (bergen, demo.CLIENT_B)):
        connection_set_office_key(
            company=company, office_key=office, client_company_id=client.company_id, by=None
        )
        connection_mark(company=company, status=TripletexConnection.Status.CONNECTED)
    # One sync alone stays under the budget; two through the same key do not.
    tripletex_sandbox.faults.rate_limit = 40
    tripletex_sandbox.faults.rate_window = 4.0

    first = run_sync(acme, strategy=MONTHS)
    second = run_sync(bergen, strategy=MONTHS)

    assert first.status == second.status == SyncRun.Status.SUCCEEDED
    assert first.tripletex_calls + second.tripletex_calls > 40
    assert first.rate_limit_waits == 0
    assert second.rate_limit_waits >= 1, "the second client must wait for the shared budget"
    assert stored_balances(bergen) == expected_balances(
        tripletex_sandbox, demo.CLIENT_B.company_id, months_until_now()
    )


def test_last_runs_by_company_answers_in_two_queries(acme, bergen, django_assert_max_num_queries):
    with scopes_disabled():
        for company in (acme, bergen):
            SyncRun.objects.create(company=company, trigger="schedule", status="succeeded")
        latest = SyncRun.objects.create(company=acme, trigger="manual", status="failed")
    with django_assert_max_num_queries(2):
        runs = last_runs_by_company(company_ids=[acme.pk, bergen.pk, 999])
    assert runs[acme.pk] == latest
    assert set(runs) == {acme.pk, bergen.pk}


def test_intraday_refresh_pulls_only_open_months_without_reference_data(holding, tripletex_sandbox):
    run_sync(holding, strategy=MONTHS)
    run = run_sync(holding, kind=SyncRun.Kind.CURRENT, strategy=MONTHS)
    open_months = [
        p
        for p in tripletex_sandbox.store.periods(demo.HOLDING.company_id)
        if not p["isClosed"] and p["start"] <= timezone.localdate().isoformat()
    ]
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.months_done == len(open_months)
    assert run.tripletex_calls == 1 + len(open_months)  # the periods, then one call per month


@pytest.mark.usefixtures("tripletex_waits_recorded")
def test_repeated_failures_email_the_admins_once(acme, alice, settings):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"  # nothing listens: Tripletex is down
    connect(acme, token="token-for-a-dead-server")
    for _ in range(4):
        with pytest.raises(SyncRetryLater) as caught:
            run_sync(acme)
        run = balances_sync_give_up(run=caught.value.run, error=caught.value.error)
        assert run.status == SyncRun.Status.FAILED
        assert "did not answer" in run.error
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    connection = TripletexConnection.objects.get(company=acme)
    assert connection.status == TripletexConnection.Status.CONNECTED  # down is not broken


def test_rows_of_accounts_gone_from_a_month_are_removed(holding, tripletex_sandbox):
    run_sync(holding)
    month = timezone.localdate().replace(day=1)
    with scopes_disabled():
        AccountBalance.objects.create(
            company=holding,
            account_number=4999,
            month=month,
            balance_in=0,
            balance_change=D("5"),
            balance_out=D("5"),
            synced_at=timezone.now(),
        )
    run = run_sync(holding)
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )
    assert run.rows_written >= 1
    assert_month_counts_match_balances(holding)


# ---- one delivery at a time ---------------------------------------------------------------------


def test_a_second_delivery_of_a_running_run_does_not_run_it_again(holding, tripletex_sandbox):
    with scope(company=holding):
        run, _created = sync_request(
            company=holding, trigger=SyncRun.Trigger.COMMAND, enqueue=False
        )
    first_client = fast_client(tripletex_sandbox)
    second_client = fast_client(tripletex_sandbox)
    original = first_client.balance_sheet
    seen: dict = {}

    def redelivered_mid_run(**kwargs):
        if "status" not in seen:
            # The broker hands the same task to another worker while this one is still pulling.
            again = SyncRun.objects.get(pk=run.pk)
            seen["status"] = balances_sync(company=holding, run=again, client=second_client).status
        return original(**kwargs)

    first_client.balance_sheet = redelivered_mid_run
    with scope(company=holding):
        finished = balances_sync(company=holding, run=run, client=first_client)

    assert seen["status"] == SyncRun.Status.RUNNING
    assert second_client.stats.calls == 0, "the second delivery must not pull anything"
    assert finished.status == SyncRun.Status.SUCCEEDED, finished.error
    assert finished.months_done == len(months_until_now())


def test_finishing_a_run_keeps_the_heartbeat_the_months_wrote(holding, tripletex_sandbox):
    run = run_sync(holding)

    with scopes_disabled():
        stored = SyncRun.objects.get(pk=run.pk)
        last_month_written = max(
            MonthSync.objects.filter(company=holding).values_list("synced_at", flat=True)
        )
    assert stored.progress_at == last_month_written > stored.started_at
    assert stored.months_done == run.months_done == len(months_until_now())


def test_a_run_over_its_soft_time_limit_fails_saying_so_and_keeps_pulled_months(
    holding, tripletex_sandbox
):
    client = fast_client(tripletex_sandbox)
    original = client.balance_sheet
    calls = {"n": 0}

    def slow_after_two(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SoftTimeLimitExceeded
        return original(**kwargs)

    client.balance_sheet = slow_after_two
    run = run_sync(holding, client=client, strategy=MONTHS)

    assert run.status == SyncRun.Status.FAILED
    assert "minutes" in run.error
    assert run.finished_at is not None
    with scopes_disabled():
        assert MonthSync.objects.filter(company=holding).count() == 2


def test_sync_tasks_end_before_the_broker_would_hand_them_out_again():
    visibility = settings.BROKER_VISIBILITY_TIMEOUT
    longest_wait = MAX_RETRY_COUNTDOWN
    for task in (
        sync_tasks.balances_sync_task,
        sync_tasks.sync_due_dispatch_task,
        sync_tasks.sync_recheck_mark_due_task,
    ):
        assert task.soft_time_limit < task.time_limit, task.name
        # A retry waits in the worker (ETA) before it runs: both count against the timeout.
        assert task.time_limit + longest_wait < visibility, task.name
    retries = range(sync_tasks.MAX_RETRIES + 1)
    assert max(retry_countdown(n) for n in retries for _ in range(50)) <= longest_wait


def test_retry_after_losing_the_race_for_the_active_slot_still_does_not_enqueue(
    acme, monkeypatch, django_capture_on_commit_callbacks
):
    create = SyncRun.objects.create
    attempts = {"n": 0}

    def lost_the_race_once(**kwargs):
        attempts["n"] += 1
        if attempts["n"] == 1:
            # Another request's run held the slot at our insert and finished before our read.
            raise IntegrityError("ledger_syncrun_one_active_per_company")
        return create(**kwargs)

    monkeypatch.setattr(SyncRun.objects, "create", lost_the_race_once)
    with django_capture_on_commit_callbacks() as callbacks, scope(company=acme):
        run, created = sync_request(company=acme, trigger=SyncRun.Trigger.COMMAND, enqueue=False)

    assert (attempts["n"], created, run.status) == (2, True, SyncRun.Status.QUEUED)
    assert callbacks == [], "enqueue=False must hold for the retry too"


def test_a_run_counts_only_its_own_calls_on_a_shared_client(holding, tripletex_sandbox):
    """The client's counters may include calls made before the run (a shared client, a bench):
    the run records what it made itself (ClientStats.mark/since), not module-global state."""
    client = fast_client(tripletex_sandbox)
    for _ in range(5):
        client.who_am_i()
    before = client.stats.calls
    run = run_sync(holding, client=client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.tripletex_calls == client.stats.calls - before

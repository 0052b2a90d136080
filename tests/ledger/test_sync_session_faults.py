"""A sync survives faults on session creation, and says "gave up after N attempts" only after N.

Against the sandbox's `fail_session_create` knob; the clients record their waits instead of
sleeping (fast_client), so nothing here really waits.
"""

import pytest
from django_scopes import scopes_disabled

from ledger.models import SyncRun
from ledger.sync import services as sync
from ledger.sync.services import SyncRetryLater, balances_sync_give_up, sync_request
from ledger.sync.tasks import MAX_RETRIES, balances_sync_task
from tests.ledger.test_sync import (
    expected_balances,
    fast_client,
    months_until_now,
    run_sync,
    stored_balances,
)
from tripletex.client import RetryPolicy
from tripletex.sandbox import demo


def test_sync_completes_after_a_429_and_a_500_on_session_creation(holding, tripletex_sandbox):
    tripletex_sandbox.faults.fail_session_create = (429, 500)
    tripletex_sandbox.faults.fail_session_create_reset = 2
    client = fast_client(tripletex_sandbox)

    run = run_sync(holding, client=client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert tripletex_sandbox.faults.fail_session_create == ()  # both faults were met
    reset_wait, backoff = client.sleeps
    assert 2 <= reset_wait <= 2 * (1 + RetryPolicy().jitter)  # the 429's X-Rate-Limit-Reset
    assert RetryPolicy().base_delay <= backoff < reset_wait
    assert run.months_done == len(months_until_now())
    assert stored_balances(holding) == expected_balances(
        tripletex_sandbox, demo.HOLDING.company_id, months_until_now()
    )


def test_persistent_5xx_on_session_creation_gives_up_saying_how_many_attempts(
    holding, tripletex_sandbox
):
    policy = RetryPolicy()
    tripletex_sandbox.faults.fail_session_create = (503,) * 20
    client = fast_client(tripletex_sandbox)

    with pytest.raises(SyncRetryLater) as caught:
        run_sync(holding, client=client)
    assert caught.value.error.attempts == policy.max_attempts > 1
    assert len(tripletex_sandbox.faults.fail_session_create) == 20 - policy.max_attempts
    run = balances_sync_give_up(run=caught.value.run, error=caught.value.error)

    assert run.status == SyncRun.Status.FAILED
    assert f"Gave up after {policy.max_attempts} attempts" in run.error
    assert len(client.sleeps) == policy.max_attempts - 1


def test_a_single_attempt_is_not_called_several(holding, tripletex_sandbox):
    # A reset longer than the retry budget is not waited for inside the run.
    tripletex_sandbox.faults.fail_session_create = (429,)
    tripletex_sandbox.faults.fail_session_create_reset = 3600
    client = fast_client(tripletex_sandbox)

    with pytest.raises(SyncRetryLater) as caught:
        run_sync(holding, client=client)
    run = balances_sync_give_up(run=caught.value.run, error=caught.value.error)

    assert caught.value.error.attempts == 1
    assert client.sleeps == []
    assert run.status == SyncRun.Status.FAILED
    assert "Gave up" not in run.error
    assert "attempts" not in run.error
    assert "rate limit" in run.error
    assert run.error.endswith("The next scheduled sync tries again.")


def test_the_task_counts_its_own_tries_when_it_gives_up(holding, tripletex_sandbox, monkeypatch):
    tripletex_sandbox.faults.fail_session_create = (503,) * 20
    monkeypatch.setattr(
        sync, "_client_for", lambda company: fast_client(tripletex_sandbox, max_attempts=2)
    )
    with scopes_disabled():
        run, _created = sync_request(company=holding, enqueue=False)

    # The last retry the task is allowed: it gives up instead of retrying again.
    status = balances_sync_task.apply(args=[run.pk], retries=MAX_RETRIES).get()

    assert status == SyncRun.Status.FAILED
    with scopes_disabled():
        run.refresh_from_db()
    assert f"Gave up after {MAX_RETRIES + 1} attempts" in run.error

"""The scheduled path on real processes: beat → dispatcher → balances_sync_task on a Celery
worker over Redis, against the sandbox; and an accountant's Sync now in a browser."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from ledger.models import SyncRun, SyncSchedule
from ledger.sync.schedules import sync_schedule_get
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.processes import celery_worker, redis_url_or_none, wait_for
from tests.requirements import missing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.needs_redis
def test_beat_dispatches_the_nightly_sync_and_a_worker_runs_it(holding, monkeypatch):
    redis_url = redis_url_or_none()
    if redis_url is None:
        missing(
            "redis", "Redis is not running (set REDIS_URL or start redis-server on 127.0.0.1:6379)"
        )
    monkeypatch.setenv("SYNC_DISPATCH_SECONDS", "1")
    with scopes_disabled():
        schedule = sync_schedule_get(company=holding)
        SyncSchedule.objects.filter(pk=schedule.pk).update(
            next_nightly_at=timezone.now() - datetime.timedelta(minutes=1), next_refresh_at=None
        )

    with celery_worker(broker_url=redis_url, beat=True, concurrency=2) as worker:

        def finished():
            with scopes_disabled():
                return SyncRun.objects.filter(
                    company=holding, status__in=["succeeded", "incomplete", "failed"]
                ).first()

        run = wait_for(finished, timeout=120, what=f"a scheduled sync (log: {worker.log_path})")

    assert run.trigger == SyncRun.Trigger.SCHEDULE
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.months_done == run.months_total > 0
    assert run.tripletex_calls > 0
    with scopes_disabled():
        assert SyncSchedule.objects.get(pk=schedule.pk).next_nightly_at > timezone.now()


@pytest.mark.browser
def test_accountant_clicks_sync_now_and_sees_progress_and_figures_as_of(
    page, live_server, holding, anders, tripletex_sandbox
):
    # Slow enough to watch the progress: the postings strategy writes a fiscal year at a time
    # after a handful of calls, so a year's months show for one call's latency before the next.
    tripletex_sandbox.faults.latency_ms = 2000
    # The web process (the live server) sends to its configured broker and default queue (Redis or
    # the embedded broker, a per-run queue under `make test`): the worker consumes exactly that.
    with celery_worker(
        broker_url=settings.CELERY_BROKER_URL,
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        concurrency=1,
    ):
        log_in(page, anders.email, PASSWORD)
        page.goto(f"{live_server.url}/c/{holding.slug}/synk/")
        assert page.get_attribute('[data-testid="figures-as-of"]', "data-as-of") == ""
        page.click('[data-testid="sync-now"]')
        progress = page.locator('[data-testid="sync-progress"]')
        progress.wait_for(state="visible", timeout=30_000)
        page.wait_for_function(
            "() => Number(document.querySelector('[data-sync-done]').textContent) > 0",
            timeout=60_000,
        )
        save_screenshot(page, "sync-progress")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=figures-as-of]')"
            ".getAttribute('data-as-of') !== ''",
            timeout=120_000,
        )
    save_screenshot(page, "sync-done")
    with scopes_disabled():
        run = SyncRun.objects.get(company=holding)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert page.locator(f"#run-{run.pk}").count() == 1
    page.goto(f"{live_server.url}/c/{holding.slug}/")
    page.locator('[data-testid="sync-panel"]').wait_for()
    save_screenshot(page, "sync-panel")

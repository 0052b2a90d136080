"""Queues by kind of work, on real processes: production's two workers, one consuming the
interactive queue and one the batch queue (docker-compose.yml), on the test run's broker (Redis
under `make test` when it runs, else the embedded one). A booking and an accountant's "Sync now"
finish in seconds while the batch worker is busy with the night and most of it still waits."""

import time

import pytest
from django.conf import settings
from django_scopes import scope, scopes_disabled

from companies.models import Company
from ledger.booking.protocol import booking_queue
from ledger.models import SyncRun
from ledger.sync.services import sync_request
from tests.ledger.support import connect, record, reload
from tests.processes import celery_worker, wait_for
from tripletex.sandbox import demo

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCH_FIRMS = 10


def _batch_firms(sandbox) -> list[Company]:
    """Firms with their own sandbox keys, each with a nightly sync of a few seconds to run."""
    firms = []
    for n in range(1, BATCH_FIRMS + 1):
        sandbox.store.token_info(demo.bench_token(n))  # the sandbox seeds its company now
        firm = Company.objects.create(
            org_number=f"9{n:08d}", name=f"Batch {n} AS", slug=f"batch-{n}"
        )
        firms.append(connect(firm, token=demo.bench_token(n)))
    return firms


def _runs(status: str, firms: list[Company]) -> int:
    with scopes_disabled():
        return SyncRun.objects.filter(company__in=firms, status=status).count()


def test_a_booking_and_sync_now_run_while_the_nightly_batch_queue_is_full(
    sandbox_acme, bergen, tripletex_sandbox
):
    """Production's two workers, one per queue, on the test run's broker: the batch worker is busy
    with the night's syncs and more wait behind it; a booking and an accountant's "Sync now" go to
    the interactive queue and finish in seconds, while most of the night is still queued."""
    tripletex_sandbox.faults.latency_ms = 150  # a nightly sync takes ~5 s, a booking ~1 s
    firms = _batch_firms(tripletex_sandbox)
    connect(bergen, token=demo.OPERATING_TOKEN)
    txn = record(sandbox_acme)
    broker = settings.CELERY_BROKER_URL
    interactive, batch = settings.CELERY_QUEUE, settings.CELERY_BATCH_QUEUE
    with (
        celery_worker(
            broker_url=broker, queue=interactive, consume=(interactive,), name="i"
        ) as day,
        celery_worker(broker_url=broker, queue=interactive, consume=(batch,), name="b") as night,
    ):
        with scopes_disabled():
            for firm in firms:
                with scope(company=firm):
                    sync_request(company=firm, trigger=SyncRun.Trigger.SCHEDULE)
        wait_for(
            lambda: _runs(SyncRun.Status.RUNNING, firms),
            timeout=60,
            what=f"the batch worker to start the night (log: {night.log_path})",
        )
        started = time.monotonic()
        with scope(company=sandbox_acme):
            assert booking_queue(company=sandbox_acme, transaction_ids=[txn.pk])["queued"] == 1
        with scope(company=bergen):
            clicked, _created = sync_request(company=bergen, trigger=SyncRun.Trigger.MANUAL)
        wait_for(
            lambda: reload(txn).status == "booked",
            timeout=30,
            what=f"the booking (log: {day.log_path})",
        )
        booked_after = time.monotonic() - started
        with scopes_disabled():
            wait_for(
                lambda: SyncRun.objects.get(pk=clicked.pk).finished_at,
                timeout=30,
                what="the accountant's sync",
            )
            clicked.refresh_from_db()
        synced_after = time.monotonic() - started
        still_queued = _runs(SyncRun.Status.QUEUED, firms)

    assert clicked.status == SyncRun.Status.SUCCEEDED, clicked.error
    # Each waited seconds at most, not the ~50 s of night ahead of it in the batch queue.
    assert booked_after < 15, booked_after
    assert synced_after < 20, synced_after
    assert still_queued >= BATCH_FIRMS // 2, still_queued

"""A real Celery worker is SIGKILLed while its POST is in flight (the sandbox delays the reply);
the stuck-row resolver, run by a second real worker, finishes the row: exactly one voucher."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django_scopes import scope, scopes_disabled

from ledger.booking.protocol import booking_queue
from ledger.booking.tasks import bookings_resolve_stuck_task, transaction_book_task
from ledger.models import BookingAttempt
from tests.ledger.support import record, reload, vouchers_with
from tests.processes import broker_connection, celery_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKER = "filesystem://"


def _connection():
    return broker_connection(BROKER)


# The workers find the sandbox through the environment that sandbox_acme sets.
WORKER_ENV = {"BOOKING_SETTLE_SECONDS": "4", "BOOKING_STUCK_SECONDS": "1"}


def test_worker_killed_mid_post_ends_with_one_voucher_and_a_booked_row(
    sandbox_acme, tripletex_sandbox, monkeypatch
):
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    txn = record(sandbox_acme)
    with scope(company=sandbox_acme):
        booking_queue(company=sandbox_acme, transaction_ids=[txn.pk], enqueue=False)
    # Every call is slow, so the kill lands while the POST is still at Tripletex.
    tripletex_sandbox.faults.latency_ms = 2000
    with celery_worker(broker_url=BROKER) as first:
        with _connection() as conn:
            transaction_book_task.apply_async(
                kwargs={"company_id": sandbox_acme.pk, "transaction_id": txn.pk},
                queue=first.queue,
                connection=conn,
            )
        wait_for(
            lambda: reload(txn).last_post_at is not None,
            timeout=90,
            interval=0.05,
            what=f"the worker to start posting (log: {first.log_path})",
        )
        time.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    row = reload(txn)
    assert row.status == "booking"
    assert vouchers_with(tripletex_sandbox, row.external_voucher_number) == []
    tripletex_sandbox.faults.latency_ms = 0
    # The voucher lands at Tripletex after the worker died.
    wait_for(
        lambda: vouchers_with(tripletex_sandbox, row.external_voucher_number),
        timeout=10,
        what="the in-flight POST to be stored",
    )
    with celery_worker(broker_url=BROKER) as second:
        with _connection() as conn:
            bookings_resolve_stuck_task.apply_async(queue=second.queue, connection=conn)
        wait_for(
            lambda: reload(txn).status == "booked",
            timeout=120,
            what=f"the resolver to finish the row (log: {second.log_path})",
        )
    row = reload(txn)
    stored = vouchers_with(tripletex_sandbox, row.external_voucher_number)
    assert len(stored) == 1
    assert row.tripletex_voucher_id == stored[0]["id"]
    with scopes_disabled():
        actions = list(
            BookingAttempt.objects.filter(transaction=row).values_list("action", "outcome")
        )
    assert ("resolve", "already-booked") in actions

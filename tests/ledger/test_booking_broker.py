"""Bookings outlive their broker. A real worker whose own redis-server is SIGKILLed and started
again empty, while bookings are queued and in flight, keeps running, and every accepted booking
ends booked once; "book all ready" while Redis is down answers at once with a clear message,
and the rows are booked when a worker is back (it sweeps the queued rows when it connects)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from dynamik.celery import app
from ledger.booking import tasks as booking_tasks
from ledger.booking.protocol import booking_queue
from ledger.models import Transaction
from tests.ledger.support import record, reload, vouchers_with
from tests.processes import celery_worker, redis_server, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# What the page says (in bokmål, the default language) when the broker cannot take the task.
BACK_LATER_ONE = "Satt i kø; den bokføres når arbeidsprosessen er tilbake."
BACK_LATER_MANY = "3 transaksjoner er satt i kø; de bokføres når arbeidsprosessen er tilbake."
# The workers find the sandbox through the environment that sandbox_acme sets.
WORKER_ENV = {"BOOKING_SETTLE_SECONDS": "2", "BOOKING_STUCK_SECONDS": "3"}


@pytest.fixture
def worker_env(monkeypatch):
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)


def _send_through(monkeypatch, broker_url: str, queue: str) -> None:
    """The booking tasks' .delay publishes to this broker and queue (the app's own connection
    settings: socket timeouts, publish retry policy), like the app's default broker would."""
    connection = app.connection_for_write(broker_url)
    for task in (booking_tasks.transaction_book_task, booking_tasks.transactions_book_batch_task):

        def delay(task=task, **kwargs):
            return task.apply_async(kwargs=kwargs, queue=queue, connection=connection)

        monkeypatch.setattr(task, "delay", delay)


def _statuses(rows: list[Transaction]) -> list[str]:
    return [reload(row).status for row in rows]


def _each_booked_once(server, rows: list[Transaction]) -> None:
    for row in map(reload, rows):
        stored = vouchers_with(server, row.external_voucher_number)
        assert [voucher["id"] for voucher in stored] == [row.tripletex_voucher_id], row.pk


def _queue_each(company, rows: list[Transaction]) -> None:
    with scope(company=company):
        for txn in rows:
            counts = booking_queue(company=company, transaction_ids=[txn.pk])
            assert counts == {"queued": 1, "rejected": 0, "skipped": 0}


def _queue_while_down(company, rows: list[Transaction]) -> None:
    """Accepted while the broker is down: committed as queued, and the enqueue fails fast."""
    with scope(company=company):
        for txn in rows:
            started = time.monotonic()
            counts = booking_queue(company=company, transaction_ids=[txn.pk])
            assert time.monotonic() - started < 3
            assert counts == {"queued": 1, "rejected": 0, "skipped": 0, "unsent": 1}
    assert set(_statuses(rows)) == {"queued"}


def _all_booked(worker, rows: list[Transaction]) -> None:
    def booked() -> bool:
        assert worker.poll() is None, f"the worker exited (log: {worker.log_path})"
        return set(_statuses(rows)) == {"booked"}

    wait_for(
        booked,
        timeout=120,
        interval=0.3,
        what=f"every row booked (log: {worker.log_path})",
    )


def test_worker_survives_its_redis_restarting_empty_and_every_accepted_booking_is_booked(
    sandbox_acme, tripletex_sandbox, worker_env, monkeypatch
):
    tripletex_sandbox.faults.latency_ms = 400  # every booking takes a while
    with redis_server() as redis, celery_worker(broker_url=redis.url, concurrency=2) as worker:
        _send_through(monkeypatch, redis.url, worker.queue)
        # The sweep a worker sends when it connects has run (with nothing to do yet).
        wait_for(
            lambda: (
                "bookings_resolve_stuck_task[" in worker.log_path.read_text()
                and "succeeded in" in worker.log_path.read_text()
            ),
            timeout=60,
            what=f"the worker's first sweep (log: {worker.log_path})",
        )
        # 1. "Book all" walks six rows in one task while the other slot waits on Redis (BRPOP),
        # holding an unacknowledged message: the case that made celery 5.7 exit.
        batch = [record(sandbox_acme) for _ in range(6)]
        with scope(company=sandbox_acme):
            counts = booking_queue(company=sandbox_acme, transaction_ids=[t.pk for t in batch])
        assert counts == {"queued": 6, "rejected": 0, "skipped": 0}
        wait_for(
            lambda: "booked" in _statuses(batch),
            timeout=60,
            interval=0.05,
            what=f"the batch to be under way (log: {worker.log_path})",
        )
        redis.kill()
        during = [record(sandbox_acme) for _ in range(2)]
        _queue_while_down(sandbox_acme, during)
        redis.start()  # empty
        _all_booked(worker, batch + during)
        # 2. Both slots busy and four tasks waiting in Redis when it dies again: they are lost.
        singles = [record(sandbox_acme) for _ in range(6)]
        _queue_each(sandbox_acme, singles)
        wait_for(
            lambda: _statuses(singles).count("booking") == 2,
            timeout=60,
            interval=0.05,
            what=f"two bookings in flight (log: {worker.log_path})",
        )
        redis.kill()
        redis.start()
        _all_booked(worker, singles)
        assert worker.poll() is None, f"the worker exited (log: {worker.log_path})"
    log = worker.log_path.read_text()
    assert "Unrecoverable error" not in log
    assert log.count("Connection to broker lost") >= 2  # it lived through both restarts
    _each_booked_once(tripletex_sandbox, batch + during + singles)


def test_book_all_ready_while_the_broker_is_down_says_queued_and_books_when_a_worker_is_back(
    client, fiona, sandbox_acme, tripletex_sandbox, worker_env, monkeypatch
):
    rows = [record(sandbox_acme) for _ in range(3)]
    with redis_server(started=False) as redis:
        queue = f"test-down-{redis.port}"
        _send_through(monkeypatch, redis.url, queue)
        client.force_login(fiona)
        started = time.monotonic()
        response = client.post(
            reverse("ledger:transactions_book_all", args=[sandbox_acme.slug]), follow=True
        )
        assert time.monotonic() - started < 5
        assert response.status_code == 200
        page = response.content.decode()
        assert BACK_LATER_MANY in page
        assert "satt i kø for bokføring i Tripletex" not in page  # not the usual "queued"
        assert set(_statuses(rows)) == {"queued"}
        # "Book" on a single row says the same.
        single = record(sandbox_acme)
        response = client.post(
            reverse("ledger:transaction_book", args=[sandbox_acme.slug, single.pk]), follow=True
        )
        assert response.status_code == 200
        assert BACK_LATER_ONE in response.content.decode()
        rows.append(single)
        assert set(_statuses(rows)) == {"queued"}
        # Redis comes back (empty) and a worker starts: its sweep books what was queued.
        redis.start()
        with celery_worker(broker_url=redis.url, queue=queue) as worker:
            wait_for(
                lambda: set(_statuses(rows)) == {"booked"},
                timeout=120,
                interval=0.5,
                what=f"the queued rows booked (log: {worker.log_path})",
            )
    _each_booked_once(tripletex_sandbox, rows)
    with scopes_disabled():
        assert not Transaction.objects.filter(status="queued").exists()

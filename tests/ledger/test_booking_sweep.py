"""Queued rows whose task is gone: the enqueue that the broker refused is counted, not raised, and
the sweep a worker sends when it connects re-enqueues every due queued row (the beat rule waits
BOOKING_STUCK_SECONDS first)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from ledger.booking import tasks as booking_tasks
from ledger.booking.protocol import booking_queue
from ledger.models import Transaction
from tests.ledger.support import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", lambda **kw: sent.append(kw))
    return sent


def _queued(company, **fields) -> Transaction:
    txn = record(company)
    with scope(company=company):
        booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)
    with scopes_disabled():
        Transaction.objects.filter(pk=txn.pk).update(**fields)
    return txn


def test_the_sweep_on_connect_requeues_fresh_queued_rows_the_beat_rule_leaves_alone(
    sandbox_acme, settings, sent
):
    settings.BOOKING_STUCK_SECONDS = 600
    now = timezone.now()
    fresh = _queued(sandbox_acme)
    due = _queued(sandbox_acme, next_retry_at=now - timedelta(seconds=1))
    _queued(sandbox_acme, next_retry_at=now + timedelta(minutes=5))  # its retry is not due
    _queued(sandbox_acme, status="booking", lease_at=now)  # a live worker may be posting
    assert booking_tasks.bookings_resolve_stuck_task() == []
    assert sent == []
    assert booking_tasks.bookings_resolve_stuck_task(prompt=True) == ["requeued", "requeued"]
    assert sorted(kw["transaction_id"] for kw in sent) == sorted([fresh.pk, due.pk])


def test_an_enqueue_the_broker_refuses_is_counted_and_the_row_stays_queued(
    sandbox_acme, monkeypatch, django_capture_on_commit_callbacks
):
    def refused(**kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(booking_tasks.transactions_book_batch_task, "delay", refused)
    rows = [record(sandbox_acme), record(sandbox_acme)]
    with django_capture_on_commit_callbacks(execute=True), scope(company=sandbox_acme):
        counts = booking_queue(company=sandbox_acme, transaction_ids=[t.pk for t in rows])
    assert counts == {"queued": 2, "rejected": 0, "skipped": 0, "unsent": 2}
    with scopes_disabled():
        assert set(Transaction.objects.values_list("status", flat=True)) == {"queued"}

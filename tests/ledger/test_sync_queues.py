"""A sync run goes to the queue of its trigger: "Sync now" to the interactive queue, the
schedule's to the batch queue; "Sync now" while the nightly run still waits sends that run to
the interactive queue too (the real-worker test is tests/ledger/test_queues_worker.py)."""

from django.conf import settings
from django_scopes import scope

from ledger.models import SyncRun
from ledger.sync.services import sync_request


def test_sync_now_goes_to_the_interactive_queue_and_the_schedule_to_batch(
    acme, bergen, sync_sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with scope(company=acme):
            clicked, _ = sync_request(company=acme, trigger=SyncRun.Trigger.MANUAL)
        with scope(company=bergen):
            nightly, _ = sync_request(
                company=bergen, trigger=SyncRun.Trigger.SCHEDULE, countdown=42.0
            )
    assert sync_sent == [
        {"kwargs": {"run_id": clicked.pk}, "queue": settings.CELERY_QUEUE},
        {"kwargs": {"run_id": nightly.pk}, "queue": settings.CELERY_BATCH_QUEUE, "countdown": 42.0},
    ]
    assert settings.CELERY_QUEUE != settings.CELERY_BATCH_QUEUE


def test_sync_now_sends_the_waiting_nightly_run_to_the_interactive_queue(
    acme, sync_sent, django_capture_on_commit_callbacks
):
    with scope(company=acme), django_capture_on_commit_callbacks(execute=True):
        nightly, _ = sync_request(company=acme, trigger=SyncRun.Trigger.SCHEDULE)
        again, created = sync_request(company=acme, trigger=SyncRun.Trigger.MANUAL)
    assert (again.pk, created) == (nightly.pk, False)
    assert [(c["kwargs"]["run_id"], c["queue"]) for c in sync_sent] == [
        (nightly.pk, settings.CELERY_BATCH_QUEUE),
        (nightly.pk, settings.CELERY_QUEUE),
    ]


def test_nothing_more_is_sent_for_a_run_already_running_or_asked_by_the_schedule(
    acme, sync_sent, django_capture_on_commit_callbacks
):
    with scope(company=acme), django_capture_on_commit_callbacks(execute=True):
        clicked, _ = sync_request(company=acme, trigger=SyncRun.Trigger.MANUAL)
        sync_request(company=acme, trigger=SyncRun.Trigger.SCHEDULE)  # already interactive
        SyncRun.objects.filter(pk=clicked.pk).update(status=SyncRun.Status.RUNNING)
        sync_request(company=acme, trigger=SyncRun.Trigger.MANUAL)  # running: nothing to move
    assert [c["kwargs"]["run_id"] for c in sync_sent] == [clicked.pk]

"""A task enqueued on commit is run by a real Celery worker process: on Redis (as in production)
and on the embedded filesystem broker (as in `make run`)."""

import pytest
from django.db import transaction

from companies.models import Heartbeat
from companies.tasks import heartbeat_task
from tests.processes import broker_connection, celery_worker, redis_url_or_none, wait_for
from tests.requirements import missing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _enqueue_on_commit(name: str, broker_url: str, queue: str) -> None:
    def send() -> None:
        with broker_connection(broker_url) as connection:
            heartbeat_task.apply_async(args=[name], queue=queue, connection=connection)

    with transaction.atomic():
        transaction.on_commit(send)
        assert not Heartbeat.objects.filter(name=name).exists()


@pytest.mark.needs_redis
def test_task_enqueued_on_commit_runs_on_a_real_worker_over_redis():
    redis_url = redis_url_or_none()
    if redis_url is None:
        missing(
            "redis", "Redis is not running (set REDIS_URL or start redis-server on 127.0.0.1:6379)"
        )
    with celery_worker(broker_url=redis_url) as worker:
        _enqueue_on_commit("redis-test", redis_url, worker.queue)
        wait_for(
            lambda: Heartbeat.objects.filter(name="redis-test").exists(),
            timeout=60,
            what=f"the worker to run the task (log: {worker.log_path})",
        )


def test_task_runs_on_the_embedded_filesystem_broker():
    with celery_worker(broker_url="filesystem://") as worker:
        _enqueue_on_commit("fs-test", "filesystem://", worker.queue)
        wait_for(
            lambda: Heartbeat.objects.filter(name="fs-test").exists(),
            timeout=60,
            what=f"the worker to run the task (log: {worker.log_path})",
        )


def _roll_back_after_enqueueing() -> None:
    with transaction.atomic():
        transaction.on_commit(lambda: heartbeat_task.delay("never"))
        raise RuntimeError("rolled back")


def test_nothing_is_enqueued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        _roll_back_after_enqueueing()
    assert callbacks == []

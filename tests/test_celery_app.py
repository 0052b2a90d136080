"""The Celery app's broker-fault handling in dynamik/celery.py, piece by piece (the real-worker
test of a Redis restart is tests/ledger/test_booking_broker.py)."""

from types import SimpleNamespace

import pytest
from kombu.exceptions import OperationalError

from dynamik.celery import BOOKING_RESOLVER, BookingSweep, _tolerant_ack


class FakeMessage:
    """A kombu message whose ack fails the way kombu's Redis transport does on a closed
    connection (`None.hostname` while building a new pool)."""

    delivery_tag = "tag-1"

    def __init__(self, *, connection_closed: bool) -> None:
        client = None if connection_closed else SimpleNamespace(hostname=None)
        self.channel = SimpleNamespace(connection=SimpleNamespace(client=client))

    def ack_log_error(self, logger, errors):
        return None.hostname  # type: ignore[attr-defined]


def test_an_ack_on_a_closed_connection_is_logged_not_raised(caplog):
    ack = _tolerant_ack(FakeMessage(connection_closed=True).ack_log_error)
    assert ack(None, ()) is None
    assert "tag-1 was not acknowledged" in caplog.text


def test_other_attribute_errors_still_raise():
    ack = _tolerant_ack(FakeMessage(connection_closed=False).ack_log_error)
    with pytest.raises(AttributeError):
        ack(None, ())


def _consumer(send_task) -> SimpleNamespace:
    return SimpleNamespace(app=SimpleNamespace(send_task=send_task))


def test_each_connection_sends_the_prompt_booking_sweep():
    sent = []
    parent = _consumer(lambda name, **kw: sent.append((name, kw)))
    BookingSweep(parent).start(parent)
    assert sent == [(BOOKING_RESOLVER, {"kwargs": {"prompt": True}})]


def test_a_sweep_the_broker_refuses_is_logged(caplog):
    def refused(name, **kwargs):
        raise OperationalError("Connection refused.")

    parent = _consumer(refused)
    BookingSweep(parent).start(parent)
    assert "Booking sweep not enqueued" in caplog.text


def test_every_task_has_an_explicit_name_that_the_seam_and_beat_can_find():
    """Tasks keep the name they were first registered under, so moving a module never orphans
    a queued task or a beat entry; ledger/queue.py and dynamik/celery.py send by those names."""
    import ast
    from pathlib import Path

    from django.conf import settings

    from dynamik import celery as celery_module
    from dynamik.celery import app
    from ledger import queue

    app.loader.import_default_modules()
    root = Path(__file__).resolve().parents[1]
    for path in [*root.glob("*/tasks.py"), *root.glob("*/*/tasks.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    if getattr(getattr(deco, "func", deco), "id", "") == "shared_task":
                        assert isinstance(deco, ast.Call), f"{path}: {node.name} has no name="
                        assert any(k.arg == "name" for k in deco.keywords), node.name
    names = [queue.BOOK_TRANSACTION, queue.BOOK_BATCH, queue.RESOLVE_STUCK_BOOKINGS, queue.SYNC_RUN]
    names += [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    names.append(celery_module.BOOKING_RESOLVER)
    for name in names:
        assert name in app.tasks, name

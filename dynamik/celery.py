"""The Celery app: configured from Django settings (CELERY_* names), tasks found in each app's tasks.py.

**The worker outlives its broker.** With celery 5.7.0 / kombu 5.7.0 / redis-py 6.4.0 a worker whose
Redis dies and comes back empty used to exit with `Unrecoverable error: AttributeError("'NoneType'
object has no attribute 'hostname'")`. The cause, reproduced with a real worker and a throw-away
redis-server: on connection loss the consumer first calls `connection.collect()` and then
`connection.close()` on the broken connection (celery/celery#10242 and #10570, for the hang of
celery/celery#9705). `collect()` drops the transport's `client`, so anything that later needs a new
Redis pool on that connection's channel fails in kombu's `Channel._connparams` on `None.hostname`
(the same path as celery/kombu#582): first the second close, which restores the unacknowledged
messages, then the late ack of every task that was running (acks_late) when the connection broke.
Neither is a connection error, so `ignore_errors` and `ack_log_error` let it through and the
worker stops. 5.7.0 is the newest release of both, so there is no version to move to; the consumer
below treats exactly that case (a closed connection's channel) as what it is: the old connection is
gone, its messages are either still in Redis (redelivered after the visibility timeout; the tasks
are safe to run twice) or gone with an emptied Redis (the booking resolver below finds the rows).

**Rows whose task was lost are swept when a worker connects.** A row is committed as *queued*
before its task is sent; if Redis was down (the publish failed) or restarted empty, no task exists.
Each time a worker's consumer connects to the broker — at start and after every reconnect, which
is when such rows appear — it enqueues the booking resolver in its prompt mode, which sends every
queued row again (ledger/booking/protocol.py `bookings_stuck`). Celery's `worker_ready` signal would fire
only once per process, and the process now survives the broker; a consumer bootstep starts
"whenever the connection is established" (Celery's guide, "Extensions and Bootsteps").
"""

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.worker.consumer import Consumer
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynamik.settings")

logger = logging.getLogger(__name__)

BOOKING_RESOLVER = "ledger.booking_tasks.bookings_resolve_stuck_task"  # ledger/queue.py


def _connection_closed(message: object) -> bool:
    """True when the kombu message came over a connection that has been closed since."""
    transport = getattr(getattr(message, "channel", None), "connection", None)
    return transport is not None and getattr(transport, "client", None) is None


def _tolerant_ack(callback: Callable[..., Any]) -> Callable[..., Any]:
    """`message.ack_log_error` / `reject_log_error`, logging instead of stopping the worker when
    the message's connection was closed by a reconnect (see the module docstring)."""
    message = getattr(callback, "__self__", None)

    @functools.wraps(callback)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except AttributeError:
            if not _connection_closed(message):
                raise
            logger.warning(
                "Task message %s was not acknowledged: its broker connection was lost and closed "
                "meanwhile. Redis redelivers it if it still has it; the task is safe to run twice.",
                getattr(message, "delivery_tag", "?"),
            )
            return None

    return call


class BrokerTolerantConsumer(Consumer):
    """Celery's consumer, minus the exit on kombu's closed-connection AttributeError."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            # Celery clears self.connection just before closing the broken one: an
            # AttributeError after that comes from the close (restoring unacked messages needs a
            # Redis that is gone). The reconnect that follows is all that matters now.
            if self.connection is not None:
                raise
            logger.warning("Closing the lost broker connection failed; reconnecting anyway.")

    def call_soon_ack(self, p: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # celery-types predates call_soon_ack (Celery's ack/reject scheduler since 5.6).
        return super().call_soon_ack(_tolerant_ack(p), *args, **kwargs)  # type: ignore[misc]


class BookingSweep(bootsteps.StartStopStep):
    """On every (re)connection of a worker's consumer: enqueue the booking resolver (prompt)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, parent: Consumer) -> None:
        try:
            parent.app.send_task(BOOKING_RESOLVER, kwargs={"prompt": True})
        except OperationalError as exc:
            # The broker left again; the next connection (or the beat resolver) sweeps.
            logger.warning("Booking sweep not enqueued: %s", exc)


app = Celery("dynamik")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["consumer"].add(BookingSweep)
app.autodiscover_tasks()

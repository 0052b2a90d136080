"""Background tasks of the companies app."""

from celery import shared_task


@shared_task(name="companies.tasks.heartbeat_task", ignore_result=True)
def heartbeat_task(name: str = "worker") -> str:
    """Record that a worker ran a task just now; beat schedules it every minute."""
    from companies.services import heartbeat_record

    heartbeat_record(name=name)
    return "alive"

"""GET /healthz: is the database reachable, and when did each queue's workers last run a task?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from companies.models import Heartbeat

WORKER_STALE_AFTER_SECONDS = 180
# Heartbeat names beat sends to each queue (dynamik/settings.py CELERY_BEAT_SCHEDULE).
WORKERS = {"worker": "worker", "batch_worker": "worker-batch"}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; reports each queue's worker heartbeat age (503 if the DB is
    down): `worker` for the interactive queue, `batch_worker` for the batch queue."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        seen = dict(
            Heartbeat.objects.filter(name__in=WORKERS.values()).values_list("name", "seen_at")
        )
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        return JsonResponse({"database": "down"}, status=503)
    body: dict[str, object] = {"database": "ok"}
    for key, name in WORKERS.items():
        at = seen.get(name)
        age = (timezone.now() - at).total_seconds() if at else None
        state = (
            "unknown" if age is None else ("ok" if age < WORKER_STALE_AFTER_SECONDS else "stale")
        )
        body[key] = state
        body[f"{key}_seen_seconds_ago"] = age
    return JsonResponse(body)

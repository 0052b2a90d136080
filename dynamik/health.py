"""GET /healthz: is the database reachable, and when did a worker last run a task?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from companies.models import Heartbeat

WORKER_STALE_AFTER_SECONDS = 180


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; reports the worker's heartbeat age (503 if the DB is down)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        return JsonResponse({"database": "down"}, status=503)
    age = (timezone.now() - beat.seen_at).total_seconds() if beat else None
    worker = "unknown" if age is None else ("ok" if age < WORKER_STALE_AFTER_SECONDS else "stale")
    return JsonResponse({"database": "ok", "worker": worker, "worker_seen_seconds_ago": age})

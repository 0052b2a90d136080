"""Times people read are Oslo time: the names the staff admin shows for runs, audit events and
heartbeats are written in Europe/Oslo, not in the UTC the database keeps."""

import datetime

from django_scopes import scopes_disabled

from companies.models import AuditEvent, Heartbeat
from ledger.models import SyncRun

# 04:30 UTC on 2 April 2025 is 06:30 in Oslo (summer time, UTC+2).
INSTANT = datetime.datetime(2025, 4, 2, 4, 30, 15, tzinfo=datetime.UTC)


def test_sync_run_is_named_by_its_oslo_start(acme):
    with scopes_disabled():
        run = SyncRun.objects.create(company=acme, trigger="manual")
        SyncRun.objects.filter(pk=run.pk).update(created_at=INSTANT)
        run.refresh_from_db()
    assert str(run) == f"{acme.pk} 2025-04-02 06:30 queued"


def test_audit_event_is_named_by_its_oslo_time(acme):
    event = AuditEvent.objects.create(company=acme, company_label=acme.name, action="key.set")
    AuditEvent.objects.filter(pk=event.pk).update(at=INSTANT)
    event.refresh_from_db()
    assert str(event) == f"2025-04-02 06:30 key.set {acme.name}"


def test_heartbeat_is_named_by_its_oslo_time(db):
    beat = Heartbeat.objects.create(name="worker", seen_at=INSTANT)
    beat.refresh_from_db()
    assert str(beat) == "worker @ 2025-04-02 06:30:15"

"""Sync page, Sync now, the JSON progress, the firm page panel, the admin and the command."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.models import TripletexConnection
from ledger.models import MonthSync, SyncRun, SyncSchedule
from ledger.sync.schedules import sync_recheck_mark_due, sync_schedule_get
from ledger.sync.selectors import figures_status
from ledger.sync.services import sync_due_dispatch
from tests.conftest import PASSWORD
from tests.ledger.support import connect

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_two_sync_now_clicks_make_one_run(client, acme, anders, django_capture_on_commit_callbacks):
    _login(client, anders)
    url = reverse("ledger:sync_start", kwargs={"company_slug": acme.slug})
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(url, {"month": "all"})
        second = client.post(url, {"month": "all"})

    assert first.status_code == second.status_code == 302
    with scopes_disabled():
        runs = list(SyncRun.objects.filter(company=acme))
    assert len(runs) == 1
    assert runs[0].requested_by == anders
    assert runs[0].trigger == SyncRun.Trigger.MANUAL
    assert len(callbacks) == 1, "only the first click queues a task"
    assert second["Location"].endswith(f"#run-{runs[0].pk}")


def test_sync_now_for_one_month(client, acme, fiona, django_capture_on_commit_callbacks):
    _login(client, fiona)
    month = timezone.localdate().replace(day=1)
    with django_capture_on_commit_callbacks():
        response = client.post(
            reverse("ledger:sync_start", kwargs={"company_slug": acme.slug}),
            {"month": f"{month:%Y-%m}"},
        )
    assert response.status_code == 302
    with scopes_disabled():
        run = SyncRun.objects.get(company=acme)
    assert run.kind == SyncRun.Kind.MONTH
    assert run.only_month == month


@pytest.mark.parametrize("bad", ["2019-01", "nonsense", "2026-13"])
def test_sync_now_refuses_a_month_outside_the_two_years(client, acme, anders, bad):
    _login(client, anders)
    response = client.post(
        reverse("ledger:sync_start", kwargs={"company_slug": acme.slug}), {"month": bad}
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert not SyncRun.objects.filter(company=acme).exists()


def test_sync_page_and_progress_json(client, acme, anders):
    with scopes_disabled():
        run = SyncRun.objects.create(
            company=acme, trigger="manual", status="running", months_total=23, months_done=7
        )
    _login(client, anders)

    page = client.get(reverse("ledger:sync", kwargs={"company_slug": acme.slug}))
    data = client.get(reverse("ledger:sync_status", kwargs={"company_slug": acme.slug})).json()

    assert page.status_code == 200
    assert b'data-testid="sync-progress"' in page.content
    assert f'id="run-{run.pk}"'.encode() in page.content
    assert data["active"] is True
    assert data["run"]["months_done"] == 7
    assert data["run"]["months_total"] == 23


def test_firm_page_shows_figures_as_of_and_broken_banner(client, acme, anders):
    connect(acme, token="whatever-token-1234")
    finished = timezone.now() - datetime.timedelta(hours=3)
    with scopes_disabled():
        SyncRun.objects.create(
            company=acme, trigger="schedule", status="succeeded", finished_at=finished
        )
    TripletexConnection.objects.filter(company=acme).update(
        status=TripletexConnection.Status.BROKEN, status_reason="Key revoked."
    )
    _login(client, anders)

    response = client.get(reverse("companies:company_home", kwargs={"company_slug": acme.slug}))

    assert response.status_code == 200
    assert b'data-testid="sync-panel"' in response.content
    assert b'data-kind="broken"' in response.content
    assert b"Key revoked." in response.content
    assert timezone.localtime(finished).isoformat()[:16].encode() in response.content
    assert b'data-testid="next-sync-at"' in response.content
    assert b"whatever-token" not in response.content


def test_figures_status_without_runs(acme):
    with scope(company=acme):
        status = figures_status(company=acme)
    assert status.as_of is None
    assert not status.is_incomplete
    assert status.last_run is None


def test_admin_pages_render_for_staff(client, acme, staff):
    with scopes_disabled():
        SyncRun.objects.create(company=acme, trigger="manual", status="failed", error="x")
        schedule = sync_schedule_get(company=acme)
    client.force_login(staff)
    for url in (
        reverse("admin:ledger_syncrun_changelist"),
        reverse("admin:ledger_syncschedule_changelist"),
        reverse("admin:ledger_syncschedule_change", args=[schedule.pk]),
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("admin:ledger_syncschedule_change", args=[schedule.pk]),
        {
            "company": acme.pk,
            "is_enabled": "on",
            "nightly_at": "03:15",
            "refresh_every_minutes": "0",
            "refresh_from_hour": "7",
            "refresh_to_hour": "18",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        schedule.refresh_from_db()
    assert schedule.nightly_at == datetime.time(3, 15)
    assert timezone.localtime(schedule.next_nightly_at).time() == datetime.time(3, 15)
    assert schedule.next_refresh_at is None


def test_dispatcher_queues_due_nightly_syncs_once(acme, bergen, django_capture_on_commit_callbacks):
    connect(acme, token="token-acme-12345")
    connect(bergen, token="token-bergen-1234")
    with django_capture_on_commit_callbacks():
        sync_due_dispatch()  # creates the schedules
    with scopes_disabled():
        SyncSchedule.objects.filter(company=acme).update(
            next_nightly_at=timezone.now() - datetime.timedelta(minutes=1), next_refresh_at=None
        )
        SyncSchedule.objects.filter(company=bergen).update(
            next_nightly_at=timezone.now() + datetime.timedelta(hours=5), next_refresh_at=None
        )
    sync_recheck_mark_due()
    with django_capture_on_commit_callbacks() as callbacks:
        counts = sync_due_dispatch()
        again = sync_due_dispatch()

    assert counts["nightly"] == 1
    assert again["nightly"] == 0
    assert len(callbacks) == 1
    with scopes_disabled():
        run = SyncRun.objects.get()
        assert run.company == acme
        assert run.kind == SyncRun.Kind.RECHECK
        assert SyncSchedule.objects.get(company=acme).next_nightly_at > timezone.now()


def test_a_company_without_figures_is_synced_at_the_next_tick_not_tonight(
    acme, bergen, django_capture_on_commit_callbacks
):
    connect(acme, token="token-acme-12345")
    connect(bergen, token="token-bergen-1234")
    with scopes_disabled():
        MonthSync.objects.create(  # Bergen has figures already
            company=bergen, month=timezone.localdate().replace(day=1), synced_at=timezone.now()
        )
    with django_capture_on_commit_callbacks():
        sync_due_dispatch()  # creates the schedules
    with scopes_disabled():
        SyncSchedule.objects.update(next_refresh_at=None)
        assert SyncSchedule.objects.get(company=acme).next_nightly_at <= timezone.now()
        assert SyncSchedule.objects.get(company=bergen).next_nightly_at > timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        counts = sync_due_dispatch()
    assert counts["nightly"] == 1
    assert len(callbacks) == 1
    with scopes_disabled():
        run = SyncRun.objects.get()
    assert (run.company, run.kind) == (acme, SyncRun.Kind.FULL)


def test_command_prints_per_company_and_fails_nonzero(holding, bergen, tripletex_sandbox):
    connect(bergen, token="not-a-valid-token")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sync_balances", holding.org_number, bergen.org_number, stdout=out)
    text = out.getvalue()
    assert f"{holding.org_number} " in text
    assert "succeeded" in text
    assert "failed" in text
    assert "calls " in text


def test_command_one_month(holding, tripletex_sandbox):
    out = io.StringIO()
    month = timezone.localdate().replace(day=1)
    call_command("sync_balances", holding.org_number, "--month", f"{month:%Y-%m}", stdout=out)
    assert "months 1 " in out.getvalue()


def test_next_sync_at_follows_the_schedule_and_stops_for_a_broken_key(acme):
    from ledger.sync.selectors import next_sync_at

    with scope(company=acme):
        assert next_sync_at(company=acme) is None  # not connected
    connect(acme, token="token-acme-12345")
    with scopes_disabled():
        schedule = sync_schedule_get(company=acme)
    with scope(company=acme):
        assert next_sync_at(company=acme) == min(
            d for d in (schedule.next_nightly_at, schedule.next_refresh_at) if d
        )
    TripletexConnection.objects.filter(company=acme).update(
        status=TripletexConnection.Status.BROKEN
    )
    with scope(company=acme):
        assert next_sync_at(company=acme) is None


@pytest.mark.parametrize(
    ("status", "badge"),
    [("connected", "badge ok"), ("not_verified", "badge warn"), ("broken", "badge bad")],
)
def test_sync_page_shows_the_connection_state_in_its_colour(client, acme, anders, status, badge):
    import re

    from companies.credentials import connection_mark, connection_set_own_key

    connection_set_own_key(company=acme, token="a-key-for-the-sync-page-test", by=None)
    connection_mark(company=acme, status=status)
    client.force_login(anders)
    html = client.get(f"/c/{acme.slug}/synk/").content.decode()
    state = re.search(r'data-testid="connection-state">(.*?)</dd>', html, re.S)
    assert state, "no connection state on the sync page"
    assert badge in state.group(1)

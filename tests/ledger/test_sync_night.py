"""The night's plan (ledger/sync/night.py): per Tripletex key, no span of one window holds more of
the plan's calls than the key's budget; an office key's clients are spread out; a key is packed
from the start of the night when that makes the morning, and the plan says so when nothing does.
Then the database side: the plan's starts land in the schedules, the dispatcher sends each run
with a countdown to its start, the plan is made once a night, and staff see it in Norwegian."""

import datetime
import random

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_mark, connection_set_office_key, office_key_set
from companies.models import Company, TripletexConnection
from ledger.models import MonthSync, SyncRun, SyncSchedule
from ledger.sync import night as night_module
from ledger.sync.night import (
    Budget,
    Job,
    Night,
    night_of,
    night_plan_compute,
    night_plan_ensure,
    night_plan_get,
    night_plan_make,
)
from ledger.sync.schedules import sync_schedule_advance, sync_schedule_get
from ledger.sync.services import sync_due_dispatch
from tests.ledger.support import connect

BUDGET = Budget(calls=80, window=60.0, limit=100)
DAY = datetime.date(2026, 3, 10)


def at(hour: int, minute: int = 0, second: int = 0, day: datetime.date = DAY) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute, second)))


NIGHT = Night(start=at(0, 30), deadline=at(6, 0))
EVENING = at(22, 0, day=DAY - datetime.timedelta(days=1))


def jobs_of(key: str, count: int, *, calls: int, release: datetime.datetime, first: int = 1):
    return [Job(first + i, key, release, calls, calls * 0.5) for i in range(count)]


def assert_within_budget(starts, budget: Budget) -> None:
    """Every span of one window, from any run's start, holds at most the budget's calls of one
    key's runs, unless it holds a single run (one that alone is over the budget)."""
    window = datetime.timedelta(seconds=budget.window)
    by_key: dict[str, list] = {}
    for start in starts:
        by_key.setdefault(start.key, []).append(start)
    for key, runs in by_key.items():
        for first in runs:
            inside = [r for r in runs if first.at <= r.at < first.at + window]
            calls = sum(r.calls for r in inside)
            assert calls <= budget.calls or len(inside) == 1, (key, first.at, calls)


def test_the_plan_never_exceeds_a_keys_budget_in_any_window():
    rng = random.Random(16)
    jobs = []
    for k in range(12):
        for i in range(rng.randint(1, 120)):
            release = NIGHT.start + datetime.timedelta(minutes=rng.randint(0, 300))
            calls = rng.choice([2, 6, 6, 6, 14, 34, 34, 90, 250])
            jobs.append(Job(k * 1000 + i, f"key-{k}", release, calls, calls * 0.4))
    plan, starts = night_plan_compute(jobs, labels={}, budget=BUDGET, night=NIGHT, now=EVENING)
    assert len(starts) == len(jobs) == plan.firms
    assert_within_budget(starts, BUDGET)
    by_id = {j.company_id: j for j in jobs}
    packed = {k.key for k in plan.keys if k.packed}
    for start in starts:  # nobody before the night, nobody before its own time unless packed
        assert start.at >= NIGHT.start
        assert start.key in packed or start.at >= by_id[start.company_id].release
    # The check itself catches a plan that starts too many at once.
    crowded = [night_module.Start(n, "k", NIGHT.start, 34, NIGHT.start) for n in range(3)]
    with pytest.raises(AssertionError):
        assert_within_budget(crowded, BUDGET)


def test_an_office_keys_clients_are_spread_and_other_keys_are_not_held_up():
    office = jobs_of("office:1", 60, calls=34, release=NIGHT.start)
    own = jobs_of("own:900", 1, calls=34, release=NIGHT.start, first=900)
    plan, starts = night_plan_compute(
        office + own, labels={}, budget=BUDGET, night=NIGHT, now=EVENING
    )
    assert_within_budget(starts, BUDGET)
    office_starts = sorted(s.at for s in starts if s.key == "office:1")
    # 80 calls a minute fit two runs of 34: the 60 clients take 30 minutes, two per minute.
    assert office_starts[0] == NIGHT.start
    assert office_starts[-1] == NIGHT.start + datetime.timedelta(minutes=29)
    assert max(office_starts.count(t) for t in office_starts) == 2
    assert [s.at for s in starts if s.key == "own:900"] == [NIGHT.start]
    office_plan = next(k for k in plan.keys if k.key == "office:1")
    assert (office_plan.firms, office_plan.calls, office_plan.on_time) == (60, 60 * 34, True)
    assert plan.on_time


def test_a_key_is_packed_from_the_start_of_the_night_when_that_makes_the_morning():
    # 600 runs of 34 calls, two a minute, take 300 minutes: from 00:30 they are done by 05:30,
    # from the firms' own time, 03:00, not before 08:00.
    jobs = jobs_of("office:7", 600, calls=34, release=at(3, 0))
    plan, starts = night_plan_compute(jobs, labels={}, budget=BUDGET, night=NIGHT, now=EVENING)
    (key,) = plan.keys
    assert key.packed
    assert key.on_time
    assert key.first_start == NIGHT.start
    assert plan.finish <= NIGHT.deadline
    assert_within_budget(starts, BUDGET)


def test_a_key_whose_night_cannot_fit_is_late_and_says_how_late():
    late = jobs_of("office:8", 1000, calls=34, release=NIGHT.start)
    fine = jobs_of("own:5000", 1, calls=6, release=NIGHT.start, first=5000)
    plan, starts = night_plan_compute(
        late + fine,
        labels={"office:8": "Regnskap AS"},
        budget=BUDGET,
        night=NIGHT,
        now=EVENING,
    )
    assert not plan.on_time
    assert (plan.late_keys, plan.late_firms) == (1, 1000)
    assert plan.keys[0].label == "Regnskap AS"
    assert not plan.keys[0].on_time
    # Two runs of 34 calls fit in 80 calls a minute: 1,000 runs take 500 minutes from 00:30.
    assert at(8, 49) < plan.finish < at(8, 51)
    assert plan.keys[1].on_time
    assert_within_budget(starts, BUDGET)


def test_a_run_over_the_whole_budget_starts_alone():
    jobs = [
        Job(1, "k", NIGHT.start, 30, 10.0),
        Job(2, "k", NIGHT.start, 300, 60.0),
        Job(3, "k", NIGHT.start, 30, 10.0),
    ]
    _plan, starts = night_plan_compute(jobs, labels={}, budget=BUDGET, night=NIGHT, now=EVENING)
    at_of = {s.company_id: s.at for s in starts}
    minute = datetime.timedelta(minutes=1)
    assert at_of == {1: NIGHT.start, 2: NIGHT.start + minute, 3: NIGHT.start + 2 * minute}
    big = next(s for s in starts if s.company_id == 2)
    assert big.finish - big.at == datetime.timedelta(minutes=3)  # 300 calls at 100 a minute


def test_a_plan_made_during_the_night_starts_now_not_in_the_past():
    now = at(2, 15)
    jobs = jobs_of("k", 3, calls=6, release=NIGHT.start)
    _plan, starts = night_plan_compute(jobs, labels={}, budget=BUDGET, night=NIGHT, now=now)
    assert min(s.at for s in starts) == now


def test_night_of_is_tonight_until_the_deadline_then_the_next_night():
    assert night_of(at(1, 0)) == NIGHT
    assert night_of(at(5, 59)) == NIGHT
    assert night_of(at(6, 0)).start == at(0, 30, day=DAY + datetime.timedelta(days=1))
    assert night_of(EVENING) == NIGHT


# ---- the database side --------------------------------------------------------------------------


def _office_firms(count: int) -> list[Company]:
    office = office_key_set(
        office_key=None, name="Fjord Regnskap AS", token="office-token-1", by=None
    )
    firms = []
    for n in range(count):
        firm = Company.objects.create(org_number=f"8{n:08d}", name=f"Klient {n} AS", slug=f"k-{n}")
        connection_set_office_key(
            company=firm, office_key=office, client_company_id=500 + n, by=None
        )
        connection_mark(company=firm, status=TripletexConnection.Status.CONNECTED)
        firms.append(firm)
    return firms


def _due_tonight(firms, when: datetime.datetime) -> None:
    with scopes_disabled():
        for firm in firms:
            schedule = sync_schedule_get(company=firm)
            SyncSchedule.objects.filter(pk=schedule.pk).update(
                next_nightly_at=when, next_refresh_at=None
            )


@pytest.fixture
def office_night(db, local_cache, acme):
    """Four clients of one office key and Acme with its own key, all due at 00:30; Acme's last
    nightly run made 10 calls in 4 seconds, the clients have no history and no figures yet."""
    firms = _office_firms(4)
    connect(acme, token="token-acme-12345")
    _due_tonight([*firms, acme], NIGHT.start)
    with scopes_disabled():
        MonthSync.objects.create(company=acme, month=DAY.replace(day=1), synced_at=EVENING)
        run = SyncRun.objects.create(
            company=acme, trigger=SyncRun.Trigger.SCHEDULE, kind=SyncRun.Kind.FULL
        )
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.SUCCEEDED,
            tripletex_calls=10,
            started_at=EVENING - datetime.timedelta(hours=20),
            finished_at=EVENING - datetime.timedelta(hours=20) + datetime.timedelta(seconds=4),
            created_at=EVENING - datetime.timedelta(hours=20),
        )
    return firms


def test_the_plan_groups_an_office_keys_clients_writes_their_starts_and_is_kept(office_night, acme):
    small = Budget(calls=40, window=60.0, limit=50)
    plan = night_plan_make(now=EVENING, night=NIGHT, budget=small)
    assert plan.is_saved
    assert (plan.firms, plan.key_count) == (5, 2)
    office = next(k for k in plan.keys if k.key.startswith("office:"))
    own = next(k for k in plan.keys if k.key.startswith("own:"))
    assert (office.label, office.firms) == ("Fjord Regnskap AS", 4)
    # No history: a first sync, 17 calls a fiscal year for 2 years; Acme's own last run: 10.
    assert office.calls == 4 * 34
    assert own.calls == 10
    assert own.label == "Acme Holding AS (own key)"
    with scopes_disabled():
        starts = sorted(
            SyncSchedule.objects.filter(company__in=office_night).values_list(
                "next_nightly_at", flat=True
            )
        )
        acme_start = SyncSchedule.objects.get(company=acme).next_nightly_at
    # 34 calls fit once in 40 a minute: one client a minute.
    assert starts == [NIGHT.start + datetime.timedelta(minutes=m) for m in range(4)]
    assert acme_start == NIGHT.start
    kept = night_plan_get(now=at(1, 0))
    assert kept.is_saved
    assert kept.firms == 5
    assert kept.keys == plan.keys


def test_the_plan_is_made_once_a_night_from_0020(office_night):
    assert night_plan_ensure(now=at(0, 10)) is None
    made = night_plan_ensure(now=at(0, 21))
    assert made is not None
    assert made.firms == 5
    assert night_plan_ensure(now=at(0, 26)) is None
    assert night_plan_ensure(now=at(6, 5)) is None  # the next night's plan waits for 00:20


def test_the_dispatcher_sends_a_planned_run_with_a_countdown_to_its_start(
    acme, bergen, local_cache, sync_sent, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_DISPATCH_SECONDS = 300
    connect(acme, token="token-acme-12345")
    connect(bergen, token="token-bergen-1234")
    now = timezone.now()
    _due_tonight([acme], now + datetime.timedelta(seconds=120))
    _due_tonight([bergen], now + datetime.timedelta(minutes=20))  # after the next round
    with django_capture_on_commit_callbacks(execute=True):
        counts = sync_due_dispatch()
    assert counts["nightly"] == 1
    (options,) = sync_sent
    assert options["queue"] == settings.CELERY_BATCH_QUEUE
    assert 100 < options["countdown"] <= 120
    with scopes_disabled():
        assert SyncRun.objects.get().company == acme
        assert SyncSchedule.objects.get(company=acme).next_nightly_at > now + datetime.timedelta(
            hours=1
        )


def test_a_run_sent_early_in_the_night_does_not_come_round_again_that_night(acme):
    connect(acme, token="token-acme-12345")
    with scopes_disabled():
        schedule = sync_schedule_get(company=acme)
        schedule.nightly_at = datetime.time(3, 0)
        sync_schedule_advance(schedule, now=at(0, 40), kind=SyncRun.Kind.FULL, created=True)
        assert schedule.next_nightly_at == at(3, 0, day=DAY + datetime.timedelta(days=1))
        sync_schedule_advance(schedule, now=at(14, 0), kind=SyncRun.Kind.FULL, created=True)
        assert schedule.next_nightly_at == at(3, 0, day=DAY + datetime.timedelta(days=1))


# ---- what staff see -----------------------------------------------------------------------------


def test_staff_see_tonights_plan_in_norwegian_and_whether_it_makes_the_morning(
    client, staff, office_night, settings
):
    client.force_login(staff)
    url = reverse("admin:ledger_syncrun_night_plan")
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nattens synkroniseringsplan" in page
    assert "Ikke laget ennå" in page  # a preview: the plan is made at 00:20
    assert "Fjord Regnskap AS" in page
    assert "Acme Holding AS (egen nøkkel)" in page
    assert 'data-testid="night-plan-on-time"' in page
    assert "Alle firmaene ventes å være ferdige før 06:00" in page
    assert "høyst 80 kall i løpet av 60 sekunder" in page
    # A key with a limit of 2 calls an hour cannot sync four first syncs in a night.
    settings.TRIPLETEX_KEY_LIMIT, settings.TRIPLETEX_KEY_WINDOW_SECONDS = 2, 3600
    page = client.get(url).content.decode()
    assert 'data-testid="night-plan-late"' in page
    assert "rekker ikke" in page
    assert "Forsinket" in page
    changelist = client.get(reverse("admin:ledger_syncrun_changelist")).content.decode()
    assert url in changelist
    assert "Nattens plan" in changelist


def test_the_plan_page_is_for_staff_only(client, alice, acme):
    client.force_login(alice)
    response = client.get(reverse("admin:ledger_syncrun_night_plan"))
    assert response.status_code == 302
    assert "night-plan" not in response.get("Location", "").split("?")[0]


def test_a_companys_scope_never_leaks_into_the_plan(office_night, acme):
    with scope(company=acme):  # the dispatcher and admin call it unscoped; inside a scope too
        plan = night_plan_make(now=EVENING, night=NIGHT, save=False)
    assert plan.firms == 5
    assert not plan.is_saved

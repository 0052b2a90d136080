"""The overview of my companies (the home page): what it shows, to whom, sorting, query count."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from companies.credentials import connection_mark, connection_set_own_key
from companies.models import Role
from companies.services import company_create, membership_set
from ledger.models import MonthSync, SyncRun
from tests.conftest import make_user


def _transaction(company, status, **extra):
    from ledger.models import Transaction

    with scope(company=company):
        return Transaction.objects.create(
            company=company,
            kind="journal",
            trade_date=datetime.date(2025, 3, 1),
            status=status,
            **extra,
        )


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="company-row" data-company="([^"]+)"', html)


def _cell(html: str, slug: str, testid: str) -> str:
    row = re.search(rf'data-company="{slug}".*?</tr>', html, re.S).group(0)
    return re.search(rf'data-testid="{testid}"[^>]*>(.*?)</td>', row, re.S).group(1)


@pytest.fixture
def world(acme, bergen, alice):
    """alice: admin in Acme (connected, synced, incomplete), accountant in Bergen (broken)."""
    membership_set(company=bergen, user=alice, role=Role.ACCOUNTANT)
    connection_set_own_key(company=acme, token="acme-token-123456", by=None)
    connection_mark(company=acme, status="connected")
    connection_set_own_key(company=bergen, token="bergen-token-123456", by=None)
    connection_mark(company=bergen, status="broken", reason="401")
    finished = datetime.datetime(2025, 4, 2, 6, 30, tzinfo=timezone.get_default_timezone())
    with scope(company=acme):
        SyncRun.objects.create(
            company=acme, trigger="schedule", status="succeeded", finished_at=finished
        )
        MonthSync.objects.create(
            company=acme,
            month=datetime.date(2025, 3, 1),
            synced_at=finished,
            is_complete=False,
            problem="x",
        )
    with scope(company=bergen):
        SyncRun.objects.create(
            company=bergen, trigger="schedule", status="failed", finished_at=finished, error="boom"
        )
    for status in ("ready", "queued", "booking", "failed", "rejected", "booked", "draft"):
        _transaction(acme, status)
        _transaction(bergen, status)
    return alice


def test_overview_shows_state_of_each_company(client, world, acme, bergen):
    client.force_login(world)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert set(_rows(html)) == {acme.slug, bergen.slug}
    assert "badge ok" in _cell(html, acme.slug, "connection")
    assert "badge bad" in _cell(html, bergen.slug, "connection")
    assert "2. apr" in _cell(html, acme.slug, "as-of").lower()
    assert 'data-testid="incomplete"' in _cell(html, acme.slug, "as-of")
    assert "badge ok" in _cell(html, acme.slug, "last-sync")
    assert "badge bad" in _cell(html, bergen.slug, "last-sync")
    # Admin in Acme sees the counts; as an accountant in Bergen she does not.
    assert _cell(html, acme.slug, "waiting").strip() == "3"
    assert ">2<" in _cell(html, acme.slug, "failed")
    assert "muted" in _cell(html, bergen.slug, "waiting")


def test_overview_lists_only_my_companies(client, bob, acme, bergen, world):
    client.force_login(bob)
    assert _rows(client.get("/").content.decode()) == [bergen.slug]


def test_overview_sorts_on_the_server(client, world, acme, bergen):
    client.force_login(world)
    by_name = _rows(client.get("/?sort=name").content.decode())
    assert by_name == [acme.slug, bergen.slug]
    assert _rows(client.get("/?sort=-name").content.decode()) == [bergen.slug, acme.slug]
    # Broken connections first when sorting by Tripletex state.
    assert _rows(client.get("/?sort=status").content.decode()) == [bergen.slug, acme.slug]
    assert _rows(client.get("/?sort=-failed").content.decode())[0] == acme.slug
    assert _rows(client.get("/?sort=nonsense").content.decode()) == by_name
    html = client.get("/?sort=name").content.decode()
    assert 'href="?sort=-name"' in html  # clicking the sorted column reverses it


def test_overview_without_companies(client, db):
    user = make_user("lonely@example.no")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert _rows(response.content.decode()) == []


def _companies(user, n: int, offset: int) -> None:
    for i in range(n):
        company = company_create(org_number=f"{offset + i:09d}", name=f"Firma {offset + i} AS")
        membership_set(company=company, user=user, role=Role.FINANCE)
        connection_set_own_key(company=company, token=f"token-{offset + i:012d}", by=None)
        with scope(company=company):
            SyncRun.objects.create(
                company=company, trigger="schedule", status="succeeded", finished_at=timezone.now()
            )
        _transaction(company, "failed")


def test_overview_query_count_is_constant(client, db, django_assert_max_num_queries):
    few, many = make_user("few@example.no"), make_user("many@example.no")
    _companies(few, 3, 100_000_000)
    _companies(many, 60, 200_000_000)
    counts = []
    for user in (few, many):
        client.force_login(user)
        client.get("/")
        with CaptureQueriesContext(connection) as ctx:
            assert len(_rows(client.get("/").content.decode())) in (3, 60)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(12):
        client.get("/")

"""Key canary: onboard with a distinctive key, use it, then look for it everywhere it must not be.

The key is a fresh random string registered as an extra employee token in the sandbox (so it is
accepted like a real key). After onboarding through the admin, a ledger sync and a booking, the
key must be absent from every database table, the log output (DEBUG, urllib3 included, through
the same redaction filter settings.LOGGING puts on every handler), the rendered admin and firm
pages, the sent e-mails and the session-cache files.
"""

import logging
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from companies.invitations import invitation_accept_with_password
from companies.models import Company, Invitation, TripletexConnection
from ledger.booking.protocol import booking_queue, booking_run
from ledger.sync.services import balances_sync, sync_request
from tests.ledger.support import record
from tripletex.redact import RedactSecretsFilter
from tripletex.sandbox import demo

ONBOARD_URL = "/admin/companies/company/onboard/"


def register_canary(server) -> str:
    """A new random employee token of the holding company, accepted by the sandbox."""
    canary = f"canary-{uuid.uuid4().hex}"
    store = server.store
    # The sandbox has no public API for extra tokens; its seeding helper adds one the same way.
    with store._lock:
        store._add_token(
            canary, demo.HOLDING.company_id, demo.HOLDING.company_id * 10 + 7, True, False
        )
        store._load_tokens()
    assert store.token_info(canary) is not None
    return canary


def all_table_text() -> str:
    """Every row of every table, as text (a database dump that needs no serialisers)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def run_sync(company: Company) -> None:
    with scope(company=company):
        run, _created = sync_request(
            company=company, only_month=timezone.localdate(), enqueue=False
        )
        run = balances_sync(company=company, run=run)
    assert run.status == "succeeded", run.error


def run_booking(company: Company) -> None:
    txn = record(company)
    with scope(company=company):
        booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)
        outcome = booking_run(company=company, transaction_id=txn.pk)
    assert outcome in {"posted", "booked", "already-posted", "already-booked"}, outcome


@pytest.fixture
def canary_world(settings, tripletex_sandbox, private_var_dir, local_cache):
    """A fresh sandbox the app talks to; VAR_DIR (searched for the key below) is this test's own,
    apart from the sandbox's database in tmp_path."""
    settings.BOOKING_SETTLE_SECONDS = 0
    return tripletex_sandbox


def test_every_log_handler_redacts():
    for name, handler in django_settings.LOGGING["handlers"].items():
        assert "redact" in handler.get("filters", []), name


def test_key_never_leaks(
    canary_world, client, staff, caplog, django_capture_on_commit_callbacks, tmp_path
):
    canary = register_canary(canary_world)
    caplog.handler.addFilter(RedactSecretsFilter())  # what settings.LOGGING does for every handler
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    client.force_login(staff)

    data = {
        "org_number": demo.HOLDING.org_number,
        "accounting_system": "tripletex",
        "key_type": "own",
        "tripletex_key": canary,
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "0",
        "users-MIN_NUM_FORMS": "0",
        "users-MAX_NUM_FORMS": "50",
        "users-0-email": "kari@fjellvik.no",
        "users-0-role": "admin",
    }
    with django_capture_on_commit_callbacks(execute=True):
        failed = client.post(ONBOARD_URL, {**data, "org_number": demo.OPERATING.org_number})
        response = client.post(ONBOARD_URL, data)
    assert failed.status_code == 200
    assert response.status_code == 302
    company = Company.objects.get(org_number=demo.HOLDING.org_number)
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    assert len(mail.outbox) == 1

    run_sync(company)
    run_booking(company)

    pages = [failed.content.decode()]
    for url in (
        "/admin/",
        "/admin/companies/company/",
        f"/admin/companies/company/{company.pk}/change/",
        f"/admin/companies/tripletexconnection/{company.tripletex.pk}/change/",
        "/admin/companies/auditevent/",
        f"/admin/companies/company/{company.pk}/history/",
        "/admin/ledger/",
    ):
        page = client.get(url)
        assert page.status_code in (200, 404), url
        pages.append(page.content.decode())
    # The invited user accepts (choosing a password) and opens the firm page.
    invited = invitation_accept_with_password(
        invitation=Invitation.objects.get(company=company), password="canary-fjell-otter-77"
    )
    client.force_login(invited)
    firm_page = client.get(f"/c/{company.slug}/")
    assert firm_page.status_code == 200
    pages.append(firm_page.content.decode())

    assert canary not in all_table_text()
    assert canary not in caplog.text
    assert all(canary not in r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # DEBUG really was captured
    for page in pages:
        assert canary not in page
    for message in mail.outbox:
        parts = [message.subject, message.body, *(alt[0] for alt in message.alternatives)]
        assert all(canary not in part for part in parts)
    for path in Path(django_settings.VAR_DIR).rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path

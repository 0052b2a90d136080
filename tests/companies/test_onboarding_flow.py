"""The admin onboarding form against the Tripletex sandbox: own key, office key, and every failure."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse

from companies.models import (
    AuditEvent,
    Company,
    Invitation,
    Membership,
    OfficeKey,
    TripletexConnection,
    User,
)
from tests.conftest import make_user
from tripletex.client import RetryPolicy
from tripletex.sandbox import demo

ONBOARD_URL = "/admin/companies/company/onboard/"


# Session-cache files stay with the test: each test's sandbox is fresh.
pytestmark = pytest.mark.usefixtures("private_var_dir")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def form_data(**overrides):
    """A filled-in onboarding form: Fjellvik Holding with its own key and one new user."""
    data = {
        "org_number": "921 500 033",
        "name": "",
        "accounting_system": "tripletex",
        "key_type": "own",
        "tripletex_key": demo.HOLDING_TOKEN,
        "office_key": "",
        "office_name": "",
        "client_company_id": "",
        "users-TOTAL_FORMS": "3",
        "users-INITIAL_FORMS": "0",
        "users-MIN_NUM_FORMS": "0",
        "users-MAX_NUM_FORMS": "50",
        "users-0-email": "kari@fjellvik.no",
        "users-0-role": "finance",
        "users-1-email": "",
        "users-1-role": "finance",
        "users-2-email": "",
        "users-2-role": "finance",
    }
    data.update(overrides)
    return data


def error_code(response) -> str:
    match = re.search(
        r'data-testid="onboarding-error" data-code="([^"]*)"', response.content.decode()
    )
    return match.group(1) if match else ""


def test_own_key_onboards_connected_firm_and_invites_new_user(
    tripletex_sandbox, staff_client, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ONBOARD_URL, form_data())

    company = Company.objects.get(org_number="921500033")
    assert response.status_code == 302
    assert response.url == reverse("admin:companies_company_change", args=[company.pk])
    assert company.name == demo.HOLDING.name  # pre-filled from Tripletex
    connection = TripletexConnection.objects.get(company=company)
    assert connection.status == TripletexConnection.Status.CONNECTED
    assert connection.key_type == "own"
    assert connection.token_last4 == demo.HOLDING_TOKEN[-4:]
    assert demo.HOLDING_TOKEN not in connection.token_encrypted
    assert connection.verified_at is not None
    assert connection.token_set_by == staff
    assert not User.objects.filter(email="kari@fjellvik.no").exists()  # made when she accepts
    invitation = Invitation.objects.get(company=company)
    assert (invitation.email, invitation.role) == ("kari@fjellvik.no", "finance")
    assert [m.to for m in mail.outbox] == [["kari@fjellvik.no"]]
    assert "/konto/invitasjon/" in mail.outbox[0].body
    actions = set(AuditEvent.objects.filter(company=company).values_list("action", flat=True))
    assert {"company.onboarded", "key.set", "invitation.sent"} <= actions
    assert AuditEvent.objects.get(company=company, action="company.onboarded").actor == staff
    assert LogEntry.objects.filter(object_id=str(company.pk)).exists()


def test_existing_user_is_invited_too(
    tripletex_sandbox, staff_client, alice, django_capture_on_commit_callbacks
):
    data = form_data(**{"users-0-email": "ALICE@acme.no", "users-0-role": "admin"})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ONBOARD_URL, data)

    assert response.status_code == 302
    company = Company.objects.get(org_number="921500033")
    assert not Membership.objects.filter(company=company, user=alice).exists()
    assert Invitation.objects.get(company=company).email == "alice@acme.no"
    assert [m.to for m in mail.outbox] == [["alice@acme.no"]]


def test_new_office_key_auto_matches_client(tripletex_sandbox, staff_client):
    data = form_data(
        org_number="924500034",
        key_type="office",
        tripletex_key=demo.OFFICE_TOKEN,
        office_name="",
    )
    response = staff_client.post(ONBOARD_URL, data)

    assert response.status_code == 302
    company = Company.objects.get(org_number="924500034")
    assert company.name == demo.CLIENT_A.name
    connection = TripletexConnection.objects.get(company=company)
    assert connection.status == TripletexConnection.Status.CONNECTED
    assert connection.key_type == "office"
    assert connection.tripletex_company_id == demo.CLIENT_A.company_id
    assert connection.token_encrypted == ""  # the key lives on the office key only
    office_key = connection.office_key
    assert office_key.name == demo.OFFICE.name
    assert office_key.org_number == demo.OFFICE.org_number
    assert office_key.verified_at is not None


def test_stored_office_key_is_reused(tripletex_sandbox, staff_client, staff):
    from companies.credentials import office_key_set

    office_key = office_key_set(
        office_key=None, name="Tallknuserne", token=demo.OFFICE_TOKEN, by=staff
    )
    data = form_data(
        org_number="925 500 038", key_type="office", tripletex_key="", office_key=str(office_key.pk)
    )
    response = staff_client.post(ONBOARD_URL, data)

    assert response.status_code == 302
    connection = TripletexConnection.objects.get(company__org_number="925500038")
    assert connection.office_key == office_key
    assert connection.tripletex_company_id == demo.CLIENT_B.company_id
    assert OfficeKey.objects.count() == 1


def test_office_key_without_the_client_explains_tripletex_access(tripletex_sandbox, staff_client):
    data = form_data(org_number="921500033", key_type="office", tripletex_key=demo.OFFICE_TOKEN)
    response = staff_client.post(ONBOARD_URL, data)

    assert response.status_code == 200
    assert error_code(response) == "no_client"
    assert "Klient" in response.content.decode()
    assert not Company.objects.exists()
    assert not OfficeKey.objects.exists()


def test_key_for_another_company_saves_nothing(tripletex_sandbox, staff_client):
    response = staff_client.post(ONBOARD_URL, form_data(org_number="922500037"))

    assert response.status_code == 200
    assert error_code(response) == "other_company"
    assert not Company.objects.exists()
    # The session the failed check created is revoked, not left cached.
    live = [employee for employee, _expiry in tripletex_sandbox.store._sessions.values()]
    assert demo.HOLDING_TOKEN not in live
    assert not TripletexConnection.objects.exists()
    assert mail.outbox == []
    # The form keeps what was typed, except the key.
    body = response.content.decode()
    assert 'value="922500037"' in body
    assert 'value="kari@fjellvik.no"' in body
    assert demo.HOLDING_TOKEN not in body


def test_wrong_key_saves_nothing(tripletex_sandbox, staff_client):
    response = staff_client.post(ONBOARD_URL, form_data(tripletex_key="not-a-real-key-1234"))

    assert response.status_code == 200
    assert error_code(response) == "key_rejected"
    assert not Company.objects.exists()
    assert not User.objects.filter(email="kari@fjellvik.no").exists()
    assert "not-a-real-key-1234" not in response.content.decode()


def test_tripletex_down_saves_nothing_and_retry_works(
    tripletex_sandbox, staff_client, settings, tripletex_waits_recorded
):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"
    response = staff_client.post(ONBOARD_URL, form_data())

    assert response.status_code == 200
    assert error_code(response) == "unavailable"
    assert not Company.objects.exists()
    # Creating the session was tried several times (waits recorded, not slept) before giving up.
    assert len(tripletex_waits_recorded) == RetryPolicy().max_attempts - 1

    settings.TRIPLETEX_BASE_URL = tripletex_sandbox.base_url
    retry = staff_client.post(ONBOARD_URL, form_data())
    assert retry.status_code == 302
    assert Company.objects.get().tripletex.status == TripletexConnection.Status.CONNECTED


def test_key_without_voucher_permission_connects_with_a_warning(tripletex_sandbox, staff_client):
    response = staff_client.post(ONBOARD_URL, form_data(tripletex_key=demo.READONLY_TOKEN))

    assert response.status_code == 302
    connection = TripletexConnection.objects.get(company__org_number="921500033")
    assert connection.status == TripletexConnection.Status.CONNECTED
    assert len(connection.coverage_problems) == 1
    # Stored in the staff member's language (bokmål by default): it is about posting vouchers.
    assert any(word in connection.coverage_problems[0] for word in ("vouchers", "bilag"))
    # ...and it names the way to book meanwhile: sending vouchers for approval.
    assert "Send bilagene til godkjenning i Tripletex" in connection.coverage_problems[0]


def test_duplicate_org_number_is_refused_before_calling_tripletex(staff_client, acme, settings):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"  # would fail differently if called
    response = staff_client.post(ONBOARD_URL, form_data(org_number=acme.org_number))

    assert response.status_code == 200
    assert response.context["form"].has_error("org_number", "duplicate")
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [("921500034", "org_checksum"), ("92150003A", "org_letters"), ("92150003", "org_length")],
)
def test_invalid_org_number_is_a_field_error(staff_client, value, code):
    response = staff_client.post(ONBOARD_URL, form_data(org_number=value))

    assert response.status_code == 200
    assert response.context["form"].has_error("org_number", code)
    assert not Company.objects.exists()


def test_own_key_is_required(staff_client):
    response = staff_client.post(ONBOARD_URL, form_data(tripletex_key=""))

    assert response.status_code == 200
    assert response.context["form"].has_error("tripletex_key")


def test_same_email_twice_is_refused(staff_client):
    data = form_data(**{"users-1-email": "kari@fjellvik.no"})
    response = staff_client.post(ONBOARD_URL, data)

    assert response.status_code == 200
    assert response.context["members"].non_form_errors()
    assert not Company.objects.exists()


def test_add_company_button_leads_to_onboarding(staff_client):
    response = staff_client.get("/admin/companies/company/add/")

    assert response.status_code == 302
    assert response.url == ONBOARD_URL


def test_staff_without_add_permission_is_refused(client, db):
    clerk = make_user("clerk@dynamik.no", is_staff=True)
    client.force_login(clerk)

    assert client.get(ONBOARD_URL).status_code == 403


def test_several_matching_office_clients_let_staff_choose(
    tripletex_sandbox, staff_client, monkeypatch
):
    from tripletex.client import TripletexClient
    from tripletex.schemas import ClientCompany

    # Two client entries with one organisation number (e.g. a firm registered twice).
    twins = [
        ClientCompany(
            id=demo.CLIENT_A.company_id, name="Nordlys (old)", organization_number="924500034"
        ),
        ClientCompany(
            id=demo.CLIENT_B.company_id, name="Nordlys (new)", organization_number="924500034"
        ),
    ]
    monkeypatch.setattr(TripletexClient, "clients_with_login_access", lambda self: twins)
    data = form_data(org_number="924500034", key_type="office", tripletex_key=demo.OFFICE_TOKEN)

    first = staff_client.post(ONBOARD_URL, data)

    assert first.status_code == 200
    assert error_code(first) == "choose_client"
    body = first.content.decode()
    assert f'name="client_company_id" value="{demo.CLIENT_B.company_id}"' in body
    assert not Company.objects.exists()

    chosen = staff_client.post(
        ONBOARD_URL, {**data, "client_company_id": str(demo.CLIENT_B.company_id)}
    )

    assert chosen.status_code == 302
    connection = TripletexConnection.objects.get(company__org_number="924500034")
    assert connection.tripletex_company_id == demo.CLIENT_B.company_id


def test_key_that_sees_no_chart_of_accounts_is_not_connected(
    tripletex_sandbox, staff_client, monkeypatch
):
    from tripletex.client import TripletexClient

    # Tripletex answers 200 with an empty list when the key lacks access (README pitfall 17).
    monkeypatch.setattr(TripletexClient, "accounts", lambda self: [])

    response = staff_client.post(ONBOARD_URL, form_data())

    assert response.status_code == 200
    assert error_code(response) == "coverage"
    assert b'data-testid="onboarding-problems"' in response.content
    assert not Company.objects.exists()

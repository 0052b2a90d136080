"""The public key-request page (issue 15, "The key never travels by e-mail"): verified against the
Tripletex sandbox, stored encrypted, decided by staff, e-mailed at each step without the key,
rate-limited and closed to bots."""

import logging
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse

from companies import crypto
from companies.intake.bot import BotCheckFailed, form_token_check, form_token_issue
from companies.models import (
    AuditEvent,
    Company,
    Invitation,
    KeyRequest,
    Membership,
    TripletexConnection,
)
from companies.services import company_create
from companies.throttle import LoginThrottle
from tests.test_key_canary import all_table_text, register_canary
from tripletex.redact import RedactSecretsFilter
from tripletex.sandbox import demo

URL = "/koble-til/"
CLIENT_A_ADDRESS = "198.51.100.20"
CLIENT_B_ADDRESS = "203.0.113.30"

# Throttle counts and used form tokens live in the cache; session files in VAR_DIR.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache", "private_var_dir")]


def intake_data(**overrides):
    """A filled-in request for Fjellvik Holding with its own key, two people to invite, and a
    form token issued ten seconds ago."""
    data = {
        "form_token": form_token_issue(now=time.time() - 10),
        "contact_name": "Kari Nordmann",
        "contact_email": "Kari@Fjellvik.no",
        "key_type": "own",
        "office_name": "",
        "org_numbers": "921 500 033",
        "accounting_system": "tripletex",
        "tripletex_key": demo.HOLDING_TOKEN,
        "note": "",
        "website": "",
        "users-TOTAL_FORMS": "3",
        "users-INITIAL_FORMS": "0",
        "users-MIN_NUM_FORMS": "0",
        "users-MAX_NUM_FORMS": "50",
        "users-0-email": "kari@fjellvik.no",
        "users-0-role": "admin",
        "users-1-email": "ola@fjellvik.no",
        "users-1-role": "finance",
        "users-2-email": "",
        "users-2-role": "finance",
    }
    data.update(overrides)
    return data


def post(client, data, address=CLIENT_A_ADDRESS, capture=None):
    if capture is None:
        return client.post(URL, data, REMOTE_ADDR=address)
    with capture(execute=True):
        return client.post(URL, data, REMOTE_ADDR=address)


def decide_url(key_request, decision) -> str:
    return reverse(f"admin:companies_keyrequest_{decision}", args=[key_request.pk])


# ---- the page --------------------------------------------------------------------------------


def test_the_page_is_public_and_in_bokmal(client):
    response = client.get(URL + "?org=921500033")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="nb">' in page
    assert "Koble et firma til Dynamik" in page
    assert 'name="form_token" value="' in page
    assert 'type="password" name="tripletex_key"' in page
    assert "921500033" in page  # the connection panel's link fills in the number


def test_the_help_text_links_to_the_page_instead_of_an_e_mail_address(client, alice, acme):
    client.force_login(alice)

    page = client.get(f"/c/{acme.slug}/").content.decode()

    assert f'href="/koble-til/?org={acme.org_number}"' in page
    assert "hello@dynamik.no" not in page


# ---- verified, stored encrypted, acknowledged ------------------------------------------------


def test_own_key_request_is_verified_stored_encrypted_and_acknowledged(
    client, tripletex_sandbox, django_capture_on_commit_callbacks
):
    response = post(client, intake_data(), capture=django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == "/koble-til/mottatt/"
    request = KeyRequest.objects.get()
    assert request.status == KeyRequest.Status.PENDING
    assert request.contact_email == "kari@fjellvik.no"
    assert request.firms == [
        {
            "org_number": "921500033",
            "name": demo.HOLDING.name,
            "client_company_id": None,
            "existing": False,
            "warnings": [],
        }
    ]
    assert request.members == [
        {"email": "kari@fjellvik.no", "role": "admin"},
        {"email": "ola@fjellvik.no", "role": "finance"},
    ]
    assert demo.HOLDING_TOKEN not in request.token_encrypted
    assert crypto.decrypt(request.token_encrypted) == demo.HOLDING_TOKEN
    assert not Company.objects.exists()  # nothing happens before staff approve
    (message,) = mail.outbox
    assert message.to == ["kari@fjellvik.no"]
    assert "Dynamik" in message.subject
    assert demo.HOLDING.name in message.body
    assert AuditEvent.objects.filter(action="key_request.received").exists()
    receipt = client.get(response.url)
    assert 'data-testid="key-request-received"' in receipt.content.decode()


def test_an_office_key_reaches_several_clients(
    client, tripletex_sandbox, django_capture_on_commit_callbacks
):
    data = intake_data(
        key_type="office",
        tripletex_key=demo.OFFICE_TOKEN,
        org_numbers=f"{demo.CLIENT_A.org_number}\n{demo.CLIENT_B.org_number}",
    )
    response = post(client, data, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 302
    firms = KeyRequest.objects.get().firms
    assert [(f["org_number"], f["client_company_id"]) for f in firms] == [
        (demo.CLIENT_A.org_number, demo.CLIENT_A.company_id),
        (demo.CLIENT_B.org_number, demo.CLIENT_B.company_id),
    ]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"tripletex_key": "sandbox-employee-no-such-key"}, "Tripletex godtok ikke nøkkelen"),
        ({"org_numbers": demo.OPERATING.org_number}, "Denne nøkkelen tilhører"),
        (
            {"key_type": "office", "tripletex_key": demo.OFFICE_TOKEN, "org_numbers": "921500033"},
            "Regnskapskontornøkkelen når ingen klient",
        ),
    ],
    ids=["wrong-key", "other-firms-key", "office-without-the-client"],
)
def test_a_key_tripletex_refuses_is_refused_clearly_and_nothing_is_stored(
    client, tripletex_sandbox, django_capture_on_commit_callbacks, overrides, says
):
    response = post(client, intake_data(**overrides), capture=django_capture_on_commit_callbacks)

    assert response.status_code == 400
    page = response.content.decode()
    assert says in page
    assert "nøkkelen ikke tatt vare på" in page  # enter it again
    assert overrides.get("tripletex_key", demo.HOLDING_TOKEN) not in page
    assert not KeyRequest.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"org_numbers": "921 500 034"}, "kontrollsifferet er feil"),
        ({"org_numbers": "921500033\n922500037"}, "skriv inn ett organisasjonsnummer"),
        ({"users-0-role": "finance"}, "Minst én bruker må være administrator"),
        ({"users-0-email": "", "users-1-email": ""}, "minst én bruker"),
        ({"contact_email": "not-an-address"}, "gyldig e-postadresse"),
    ],
    ids=["check-digit", "own-key-two-firms", "no-admin", "no-users", "bad-contact"],
)
def test_form_errors_say_why_before_tripletex_is_asked(client, tripletex_api, overrides, says):
    response = post(client, intake_data(**overrides))

    assert response.status_code == 400
    assert says in response.content.decode()
    assert len(tripletex_api.mock.calls) == 0  # no Tripletex call for a form that is wrong
    assert not KeyRequest.objects.exists()


# ---- the key is shown to nobody ----------------------------------------------------------------


def test_the_key_never_leaks(
    client, staff, tripletex_sandbox, caplog, django_capture_on_commit_callbacks
):
    canary = register_canary(tripletex_sandbox)
    caplog.handler.addFilter(RedactSecretsFilter())  # what settings.LOGGING does for every handler
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")

    pages = []
    refused = post(
        client,
        intake_data(tripletex_key=canary, org_numbers=demo.OPERATING.org_number),
        capture=django_capture_on_commit_callbacks,
    )
    assert refused.status_code == 400
    pages.append(refused.content.decode())
    accepted = post(
        client, intake_data(tripletex_key=canary), capture=django_capture_on_commit_callbacks
    )
    assert accepted.status_code == 302
    pages.append(client.get(accepted.url).content.decode())
    request = KeyRequest.objects.get()

    client.force_login(staff)
    for url in (
        "/admin/companies/keyrequest/",
        f"/admin/companies/keyrequest/{request.pk}/change/",
        "/admin/companies/auditevent/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        pages.append(page.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide_url(request, "approve"))
    company = Company.objects.get(org_number=demo.HOLDING.org_number)
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    pages.append(client.get(f"/admin/companies/keyrequest/{request.pk}/change/").content.decode())

    assert any(r.name.startswith("urllib3") for r in caplog.records)  # DEBUG really was captured
    assert canary not in caplog.text
    assert all(canary not in r.getMessage() for r in caplog.records)
    for page in pages:
        assert canary not in page
    assert len(mail.outbox) == 4  # received, approved, two invitations
    for message in mail.outbox:
        parts = [message.subject, message.body]
        parts += [alt[0] for alt in getattr(message, "alternatives", [])]
        assert all(canary not in part for part in parts)
    assert canary not in all_table_text()
    for path in Path(django_settings.VAR_DIR).rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path


# ---- bots and floods ---------------------------------------------------------------------------


def _refused_as_a_bot(response) -> bool:
    return response.status_code == 400 and "Skjemaet var utløpt" in response.content.decode()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: form_token_issue(now=time.time() - 3 * 3600), id="expired"),
        pytest.param(lambda: form_token_issue(), id="sent-at-once"),
        pytest.param(lambda: form_token_issue(now=time.time() - 10)[:-2] + "xx", id="tampered"),
        pytest.param(lambda: "", id="missing"),
    ],
)
def test_a_bad_form_token_is_refused(client, tripletex_api, token):
    response = post(client, intake_data(form_token=token()))

    assert _refused_as_a_bot(response)
    assert len(tripletex_api.mock.calls) == 0
    assert not KeyRequest.objects.exists()


def test_a_form_token_works_once(client, tripletex_api):
    token = form_token_issue(now=time.time() - 10)
    first = post(client, intake_data(form_token=token, contact_name=""))  # a form error
    again = post(client, intake_data(form_token=token))

    assert first.status_code == 400
    assert not _refused_as_a_bot(first)
    assert _refused_as_a_bot(again)
    assert len(tripletex_api.mock.calls) == 0
    # The page that said what was wrong carries a fresh token.
    assert token not in first.content.decode()


def test_the_honeypot_field_gives_a_bot_away(client, tripletex_api):
    response = post(client, intake_data(website="https://spam.example/"))

    assert _refused_as_a_bot(response)
    assert not KeyRequest.objects.exists()


def test_form_token_rules(settings):
    settings.INTAKE_FORM_MIN_SECONDS = 3
    settings.INTAKE_FORM_MAX_AGE_SECONDS = 60
    now = time.time()
    for issued, reason in ((now - 61, "expired"), (now - 1, "too-fast")):
        with pytest.raises(BotCheckFailed) as refused:
            form_token_check(form_token_issue(now=issued), now=now)
        assert refused.value.reason == reason
    token = form_token_issue(now=now - 5)
    form_token_check(token, now=now)
    with pytest.raises(BotCheckFailed) as replayed:
        form_token_check(token, now=now)
    assert replayed.value.reason == "replayed"


def test_submissions_are_limited_per_address(client, settings, tripletex_api):
    settings.INTAKE_THROTTLE_ATTEMPTS = 2
    for _ in range(2):
        assert post(client, intake_data(contact_name="")).status_code == 400

    blocked = post(client, intake_data())
    elsewhere = post(client, intake_data(contact_name=""), address=CLIENT_B_ADDRESS)

    assert blocked.status_code == 429
    assert 'data-testid="key-request-throttled"' in blocked.content.decode()
    assert elsewhere.status_code == 400
    assert len(tripletex_api.mock.calls) == 0
    # The intake's counts are its own: the address can still log in.
    login = LoginThrottle.from_settings()
    assert not login.is_blocked(email="alice@acme.no", address=CLIENT_A_ADDRESS)


# ---- staff decide ------------------------------------------------------------------------------


@pytest.fixture
def pending_request(client, tripletex_sandbox, django_capture_on_commit_callbacks):
    """Fjellvik Holding's request, received (its e-mail sent and cleared)."""
    assert (
        post(client, intake_data(), capture=django_capture_on_commit_callbacks).status_code == 302
    )
    mail.outbox.clear()
    return KeyRequest.objects.get()


def test_the_queue_shows_the_request_without_the_key(client, staff, pending_request):
    client.force_login(staff)

    listing = client.get("/admin/companies/keyrequest/").content.decode()
    page = client.get(f"/admin/companies/keyrequest/{pending_request.pk}/change/")

    assert "921500033" in listing
    body = page.content.decode()
    assert demo.HOLDING.name in body
    assert "kari@fjellvik.no" in body
    assert 'data-testid="key-request-approve"' in body
    assert pending_request.token_encrypted not in body
    assert client.get("/admin/companies/keyrequest/add/").status_code == 403


def test_approving_creates_the_firm_and_sends_the_invitations(
    client, staff, pending_request, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(decide_url(pending_request, "approve"))

    assert response.status_code == 302
    company = Company.objects.get(org_number="921500033")
    assert company.name == demo.HOLDING.name
    connection = company.tripletex
    assert connection.status == TripletexConnection.Status.CONNECTED
    assert crypto.decrypt(connection.token_encrypted) == demo.HOLDING_TOKEN
    assert connection.token_set_by == staff
    invited = dict(Invitation.objects.filter(company=company).values_list("email", "role"))
    assert invited == {"kari@fjellvik.no": "admin", "ola@fjellvik.no": "finance"}
    assert not Membership.objects.filter(company=company).exists()  # until they accept
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["kari@fjellvik.no", "kari@fjellvik.no", "ola@fjellvik.no"]
    approved = [m for m in mail.outbox if "/konto/invitasjon/" not in m.body]
    assert len(approved) == 1
    assert demo.HOLDING.name in approved[0].body
    pending_request.refresh_from_db()
    assert pending_request.status == KeyRequest.Status.APPROVED
    assert pending_request.decided_by == staff
    assert pending_request.token_encrypted == ""  # the connection holds the key now
    assert AuditEvent.objects.filter(company=company, action="company.onboarded").exists()
    # Decided once: a second approval changes nothing.
    client.post(decide_url(pending_request, "approve"))
    assert Company.objects.count() == 1


def test_approving_an_office_request_connects_every_client_with_one_office_key(
    client, staff, tripletex_sandbox, django_capture_on_commit_callbacks
):
    data = intake_data(
        key_type="office",
        tripletex_key=demo.OFFICE_TOKEN,
        org_numbers=f"{demo.CLIENT_A.org_number}, {demo.CLIENT_B.org_number}",
    )
    assert post(client, data, capture=django_capture_on_commit_callbacks).status_code == 302
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide_url(KeyRequest.objects.get(), "approve"))

    connections = TripletexConnection.objects.order_by("company__org_number")
    assert [c.company.org_number for c in connections] == [
        demo.CLIENT_A.org_number,
        demo.CLIENT_B.org_number,
    ]
    assert {c.office_key_id for c in connections} == {connections[0].office_key_id}
    assert all(c.status == TripletexConnection.Status.CONNECTED for c in connections)
    assert Invitation.objects.count() == 4  # two people, two firms


def test_a_firm_already_here_gets_the_new_key(
    client, staff, tripletex_sandbox, django_capture_on_commit_callbacks
):
    company = company_create(org_number=demo.HOLDING.org_number, name="Fjellvik (gammel)")
    assert (
        post(client, intake_data(), capture=django_capture_on_commit_callbacks).status_code == 302
    )
    request = KeyRequest.objects.get()
    assert request.firms[0]["existing"] is True
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide_url(request, "approve"))

    assert Company.objects.count() == 1
    company.refresh_from_db()
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    assert crypto.decrypt(company.tripletex.token_encrypted) == demo.HOLDING_TOKEN
    assert Invitation.objects.filter(company=company).count() == 2


def test_rejecting_e_mails_the_reason_and_deletes_the_key(
    client, staff, pending_request, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    client.post(decide_url(pending_request, "reject"), {"reason": "  "})
    pending_request.refresh_from_db()
    assert pending_request.status == KeyRequest.Status.PENDING  # a reason is required

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            decide_url(pending_request, "reject"),
            {"reason": "Vi fant ingen avtale med Fjellvik Holding & Co."},
        )

    pending_request.refresh_from_db()
    assert pending_request.status == KeyRequest.Status.REJECTED
    assert pending_request.token_encrypted == ""
    assert not Company.objects.exists()
    (message,) = mail.outbox
    assert message.to == ["kari@fjellvik.no"]
    assert "Vi fant ingen avtale med Fjellvik Holding & Co." in message.body
    assert demo.HOLDING_TOKEN not in message.body
    assert AuditEvent.objects.filter(action="key_request.rejected").exists()


def test_only_staff_decide(client, alice, pending_request):
    client.force_login(alice)

    response = client.post(decide_url(pending_request, "approve"))

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert not Company.objects.filter(org_number="921500033").exists()

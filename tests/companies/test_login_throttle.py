"""One throttle for every door: the site login, the staff admin's login, the second step and
invitation links; per account-at-an-address and per address, with the client address taken from
the trusted proxy's X-Forwarded-For only (companies/throttle.py).

Client addresses are from the documentation ranges (RFC 5737); nothing is sent anywhere.
"""

import re

import pytest
from django.core import mail
from django.test import RequestFactory

from companies.invitations import invitation_create
from companies.throttle import client_address
from tests.conftest import PASSWORD
from tests.mfa import enrol, totp_code

LOGIN = "/konto/logg-inn/"
CLIENT_A = "198.51.100.7"
CLIENT_B = "203.0.113.9"


# Throttle counts live in the cache: each test counts in a private one.
pytestmark = pytest.mark.usefixtures("local_cache")


@pytest.fixture
def behind_proxy(settings):
    """The test client connects from 127.0.0.1: here that is the TLS proxy in front of the app."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 6


def login(client, email, password, *, via=None):
    extra = {"HTTP_X_FORWARDED_FOR": via} if via else {}
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def test_admin_login_is_the_site_login(client, staff):
    response = client.get("/admin/login/", {"next": "/admin/companies/company/"})
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/companies/company/"
    # The admin's own password form is gone: a POST there checks nothing and logs nobody in.
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_admin_login_honours_the_site_block(client, staff, settings):
    settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = 3
    for _ in range(3):
        assert login(client, staff.email, "wrong").status_code == 200
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    # The only place a password is taken says the account is paused, the right password too.
    assert login(client, staff.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_behind_the_proxy_each_client_has_its_own_address_count(client, anders, behind_proxy):
    for n in range(6):
        login(client, f"nobody{n}@example.no", "wrong", via=CLIENT_A)
    assert login(client, anders.email, PASSWORD, via=CLIENT_A).status_code == 429
    # Everyone else comes through the same proxy and is not paused.
    response = login(client, anders.email, PASSWORD, via=CLIENT_B)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(anders.pk)


def test_per_account_pause_behind_the_proxy(client, anders, behind_proxy):
    for _ in range(3):
        assert login(client, anders.email, "wrong", via=CLIENT_A).status_code == 200
    assert login(client, anders.email, PASSWORD, via=CLIENT_A).status_code == 429
    # The address is not paused for other accounts yet (3 of 6).
    assert login(client, "someone@example.no", "wrong", via=CLIENT_A).status_code == 200


def test_an_address_that_failed_many_times_does_not_lock_the_account_elsewhere(
    client, anders, behind_proxy
):
    for _ in range(10):
        login(client, anders.email, "wrong", via=CLIENT_A)
    assert login(client, anders.email, PASSWORD, via=CLIENT_A).status_code == 429
    response = login(client, anders.email, PASSWORD, via=CLIENT_B)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(anders.pk)


def test_a_correct_login_does_not_reset_the_address_count(client, anders, behind_proxy):
    """An attacker with one valid account cannot log in with it between guesses to start over."""
    for round_ in range(3):
        login(client, f"victim{round_}@example.no", "wrong", via=CLIENT_A)
        login(client, f"victim{round_}@example.no", "wrong", via=CLIENT_A)
        if round_ < 2:
            assert login(client, anders.email, PASSWORD, via=CLIENT_A).status_code == 302
            client.post("/konto/logg-ut/")
    # Six failures from the address in all, with correct logins in between: paused.
    assert login(client, anders.email, PASSWORD, via=CLIENT_A).status_code == 429


def test_the_forwarded_header_counts_only_from_the_trusted_proxy(client, anders, settings):
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 3
    settings.TRUSTED_PROXIES = ["192.0.2.1"]  # not the address the test client connects from
    for n in range(3):
        login(client, f"nobody{n}@example.no", "wrong", via=f"198.51.100.{n}")
    assert login(client, anders.email, PASSWORD, via=CLIENT_B).status_code == 429


def test_client_address_takes_the_proxys_entry_not_the_clients(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]
    factory = RequestFactory()
    spoofed = factory.get("/", HTTP_X_FORWARDED_FOR=f"192.0.2.66, {CLIENT_A}")
    assert client_address(spoofed) == CLIENT_A
    settings.TRUSTED_PROXY_COUNT = 2
    chained = factory.get("/", HTTP_X_FORWARDED_FOR=f"192.0.2.66, {CLIENT_A}, 127.0.0.5")
    assert client_address(chained) == CLIENT_A
    assert client_address(factory.get("/", HTTP_X_FORWARDED_FOR="junk, 127.0.0.5")) == "127.0.0.1"
    settings.TRUSTED_PROXIES = []
    assert client_address(spoofed) == "127.0.0.1"


def test_wrong_second_step_codes_count_like_wrong_passwords(client, acme, alice, settings):
    settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay would also refuse the right code
    device = enrol(alice)
    assert login(client, alice.email, PASSWORD).status_code == 302
    for _ in range(3):
        response = client.post("/konto/tofaktor/kode/", {"code": "000000"})
        assert response.status_code == 400
    response = client.post("/konto/tofaktor/kode/", {"code": totp_code(device)})
    assert response.status_code == 429
    assert client.get(f"/c/{acme.slug}/").status_code == 302


def test_dead_invitation_links_pause_the_address(
    client, acme, settings, django_capture_on_commit_callbacks
):
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(company=acme, email="new@acme.no", role="finance", by=None)
    good = re.search(r"https?://[^/\s]+(/konto/invitasjon/\S+/)", mail.outbox[0].body).group(1)
    for n in range(3):
        response = client.get(f"/konto/invitasjon/guess-{n}/")
        assert response.status_code == 200
        assert 'data-testid="invitation-invalid"' in response.content.decode()
    response = client.get(good)
    assert response.status_code == 429
    assert 'data-testid="invitation-throttled"' in response.content.decode()

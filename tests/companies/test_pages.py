"""Login, logout, the overview of my companies, the company switcher and role-gated pages."""

import pytest

from tests.conftest import PASSWORD

# Throttle counts live in the cache: each test counts in a private one.
pytestmark = pytest.mark.usefixtures("local_cache")


def test_login_with_email_and_password(client, anders):
    # An accountant without two-step login: the password is all (admins: tests/companies/test_mfa.py).
    response = client.post("/konto/logg-inn/", {"username": "anders@acme.no", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_gets_a_clear_message(client, alice):
    response = client.post("/konto/logg-inn/", {"username": "alice@acme.no", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "korrekt" in response.content.decode()  # Django's Norwegian "enter a correct e-mail…"


def test_login_is_throttled_after_repeated_failures(client, alice, settings):
    settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = 3
    for _ in range(3):
        client.post("/konto/logg-inn/", {"username": "alice@acme.no", "password": "nope"})
    # Even the right password is refused while the e-mail is throttled.
    response = client.post("/konto/logg-inn/", {"username": "alice@acme.no", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"][0].startswith(("For mange", "Too many"))


def test_logout_is_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.get("/konto/logg-ut/").status_code == 405
    response = client.post("/konto/logg-ut/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_overview_lists_only_my_companies(client, alice, acme, bergen, bob):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Acme Holding AS" in page
    assert "Bergen Invest AS" not in page


def test_anonymous_overview_redirects_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logg-inn/")


def test_switcher_goes_to_a_company_i_belong_to(client, alice, acme):
    client.force_login(alice)
    response = client.get("/bytt-selskap/", {"company": acme.slug})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{acme.slug}/"


def test_switcher_refuses_a_company_i_do_not_belong_to(client, alice, bergen):
    client.force_login(alice)
    assert client.get("/bytt-selskap/", {"company": bergen.slug}).status_code == 404


def test_user_in_two_companies_sees_both_in_the_switcher(client, alice, acme, bergen):
    from companies.services import membership_set

    membership_set(company=bergen, user=alice, role="accountant")
    client.force_login(alice)
    page = client.get(f"/c/{acme.slug}/").content.decode()
    assert 'id="switcher-company"' in page
    assert "Bergen Invest AS" in page
    assert "Acme Holding AS" in page


def test_company_page_shows_the_company(client, anders, acme):
    client.force_login(anders)
    response = client.get(f"/c/{acme.slug}/")
    assert response.status_code == 200
    assert response.context["company"] == acme


def test_members_page_is_for_admins(client, alice, anders, acme):
    client.force_login(alice)
    page = client.get(f"/c/{acme.slug}/brukere/")
    assert page.status_code == 200
    assert "anders@acme.no" in page.content.decode()
    client.force_login(anders)
    assert client.get(f"/c/{acme.slug}/brukere/").status_code == 403


def test_norwegian_by_default_english_on_request(client, alice):
    client.force_login(alice)
    assert "Dine selskaper" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Your companies" in client.get("/").content.decode()


def test_security_headers(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_post_without_csrf_token_is_refused(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/konto/logg-ut/").status_code == 403


def test_404_page_has_no_traceback(client, alice):
    client.force_login(alice)
    response = client.get("/finnes-ikke/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_server_error_page_has_no_traceback(client, alice, settings):
    from django.urls import path

    def boom(request):
        raise RuntimeError("secret internals")

    settings.ROOT_URLCONF = type("U", (), {"urlpatterns": [path("boom/", boom)]})
    client.raise_request_exception = False
    client.force_login(alice)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret internals" not in body
    assert "Traceback" not in body

"""Two-step login: who must, enrolment, the code after the password, recovery codes, the
company-wide requirement, the staff admin and the staff reset (companies/mfa.py)."""

import base64
import io
import re
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django_otp.oath import hotp

from companies.mfa import mfa_enrolment_confirm, mfa_enrolment_device
from companies.models import AuditEvent, Company, User
from companies.twofactor.models import Authenticator, RecoveryCodes
from tests.conftest import PASSWORD
from tests.mfa import enrol, totp_code

LOGIN = "/konto/logg-inn/"
VERIFY = "/konto/tofaktor/kode/"
ENROL = "/konto/tofaktor/ny/"


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()
    yield
    cache.clear()


def code_for(secret_b32: str, *, offset: int = 0) -> str:
    """What an authenticator app shows for this typed-in key, computed here from the key alone."""
    secret_b32 = secret_b32.replace(" ", "")
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    return str(hotp(key, int(time.time()) // 30 + offset, digits=6)).zfill(6)


def password_login(client, user):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD})


def enrol_with_codes(user) -> tuple[Authenticator, list[str]]:
    device = mfa_enrolment_device(user=user)
    codes = mfa_enrolment_confirm(user=user, device=device, code=totp_code(device))
    return device, codes


@pytest.mark.parametrize("who", ["alice", "fiona"])
def test_finance_and_admin_cannot_reach_company_pages_without_enrolling(client, acme, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user, mfa=False)
    response = client.get(f"/c/{acme.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fc%2F{acme.slug}%2F"
    assert client.get("/").status_code == 302


def test_staff_cannot_reach_the_admin_without_enrolling_and_verifying(client, staff):
    client.force_login(staff, mfa=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(ENROL)
    device = enrol(staff)
    response = client.get("/admin/companies/company/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert client.get("/admin/companies/company/").status_code == 200


def test_the_admin_site_itself_refuses_an_unverified_session(rf, staff):
    """Belt and braces behind the middleware: has_permission asks for a verified device."""
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = staff
    staff.otp_device = None
    assert not admin.site.has_permission(request)
    staff.otp_device = enrol(staff)
    assert admin.site.has_permission(request)


def test_an_accountant_is_not_asked(client, acme, anders):
    response = password_login(client, anders)
    assert response["Location"] == "/"
    assert client.get(f"/c/{acme.slug}/").status_code == 200


def test_an_accountant_who_opted_in_must_use_it(client, acme, anders):
    client.force_login(anders, mfa=False)
    assert client.get("/konto/tofaktor/").status_code == 200
    page = client.get(ENROL).content.decode()
    key = re.search(r'data-testid="mfa-key">([A-Z2-7 ]+)<', page).group(1)
    response = client.post(ENROL, {"code": code_for(key)})
    assert response.status_code == 200
    client.post("/konto/logg-ut/")
    assert password_login(client, anders)["Location"] == f"{VERIFY}?next=%2F"
    assert client.get(f"/c/{acme.slug}/").status_code == 302
    # ... and may turn it off again once verified.
    assert client.post(VERIFY, {"code": code_for(key, offset=1)}).status_code == 302
    assert client.post("/konto/tofaktor/av/").status_code == 302
    assert not Authenticator.objects.filter(user=anders).exists()


def test_finance_cannot_turn_it_off(client, fiona):
    client.force_login(fiona)
    client.post("/konto/tofaktor/av/")
    assert Authenticator.objects.filter(user=fiona, confirmed=True).exists()


def test_a_firm_admin_requires_it_of_everyone(client, acme, alice, anders):
    client.force_login(alice)
    url = f"/c/{acme.slug}/brukere/tofaktor/"
    assert client.post(url, {"require_mfa": "on"}).status_code == 302
    acme.refresh_from_db()
    assert acme.require_mfa
    assert AuditEvent.objects.filter(company=acme, action="company.mfa_required", actor=alice)
    other = client.__class__()
    other.force_login(anders, mfa=False)
    response = other.get(f"/c/{acme.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith(ENROL)


def test_only_admins_set_the_company_requirement(client, acme, fiona):
    client.force_login(fiona)
    assert (
        client.post(f"/c/{acme.slug}/brukere/tofaktor/", {"require_mfa": "on"}).status_code == 403
    )
    assert not Company.objects.get(pk=acme.pk).require_mfa


def test_enrolment_shows_qr_and_key_then_the_recovery_codes_once(client, acme, alice, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    response = password_login(client, alice)
    assert response["Location"] == f"{ENROL}?next=%2F"
    response = client.get(response["Location"])
    page = response.content.decode()
    assert response.status_code == 200
    assert 'src="data:image/svg+xml' in page
    assert "private, no-store" in response["Cache-Control"]
    key = re.search(r'data-testid="mfa-key">([A-Z2-7 ]+)<', page).group(1)
    # A reload shows the same key until it is confirmed.
    assert key in client.get(ENROL).content.decode()

    assert client.post(ENROL, {"code": "123456", "next": "/"}).status_code == 400
    response = client.post(ENROL, {"code": code_for(key), "next": "/"})
    assert response.status_code == 200
    codes = re.findall(r'data-testid="mfa-recovery-code">([a-z2-7]+)<', response.content.decode())
    assert len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    assert client.get(f"/c/{acme.slug}/").status_code == 200
    assert not any(code in client.get("/konto/tofaktor/").content.decode() for code in codes)
    assert AuditEvent.objects.filter(action="mfa.enrolled", actor=alice).exists()


def test_login_asks_for_the_code_after_the_password(client, acme, alice, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's delay after a wrong code: tested below
    device = enrol(alice)
    response = password_login(client, alice)
    assert response["Location"] == f"{VERIFY}?next=%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Acme Holding AS" not in page  # a password alone does not show the companies
    assert client.get(f"/c/{acme.slug}/").status_code == 302
    assert client.post(VERIFY, {"code": "000000", "next": "/"}).status_code == 400
    response = client.post(VERIFY, {"code": totp_code(device), "next": f"/c/{acme.slug}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/c/{acme.slug}/"
    assert client.get(f"/c/{acme.slug}/").status_code == 200


def test_a_wrong_code_delays_the_next_try_on_that_device(client, alice):
    """django-otp's own throttle (ThrottlingMixin): after a wrong code even the right one waits."""
    device = enrol(alice)
    password_login(client, alice)
    assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a try while it waits is not counted


def test_the_code_page_never_redirects_off_site(client, alice):
    device = enrol(alice)
    password_login(client, alice)
    response = client.post(VERIFY, {"code": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_an_unverified_session_cannot_replace_the_authenticator(client, alice):
    enrol(alice)
    password_login(client, alice)
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_a_recovery_code_works_once(client, acme, alice, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _, codes = enrol_with_codes(alice)
    password_login(client, alice)
    response = client.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get(f"/c/{acme.slug}/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa.recovery_code_used", actor=alice).exists()
    client.post("/konto/logg-ut/")

    password_login(client, alice)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert client.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_staff_reset_a_lost_device_and_it_is_audited(client, staff, alice):
    enrol(alice)
    client.force_login(staff)
    response = client.post(
        "/admin/companies/user/",
        {"action": "reset_two_step", "_selected_action": [alice.pk]},
    )
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=alice).exists()
    assert not RecoveryCodes.objects.filter(user=alice).exists()
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.actor == staff
    assert event.detail == alice.email
    # At the next login alice sets up a new authenticator.
    other = client.__class__()
    assert password_login(other, alice)["Location"].startswith(ENROL)


def test_the_admin_shows_no_device_secrets(client, staff):
    enrol(staff)
    client.force_login(staff)
    for path in (
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        "/admin/twofactor/authenticator/",
        "/admin/twofactor/recoverycodes/",
    ):
        assert client.get(path).status_code == 404, path


def test_seed_demo_users_log_in_with_the_printed_secret(client, db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    secret = re.search(r"authenticator key ([A-Z2-7]+)", out.getvalue()).group(1)
    staff = User.objects.get(email="staff@dynamik.no")
    response = client.post(LOGIN, {"username": staff.email, "password": "dynamik-demo"})
    assert response["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": code_for(secret)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    # The accountant has no second factor until they turn it on.
    accountant = User.objects.get(email="regnskap@demo.no")
    assert not Authenticator.objects.filter(user=accountant).exists()

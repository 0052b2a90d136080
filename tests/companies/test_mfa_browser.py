"""A person sets up two-step login in Chromium and logs in with a code computed from the key the
page showed (never from the database)."""

import time

import pytest

from tests.browser import save_screenshot
from tests.conftest import PASSWORD
from tests.mfa import code_from_typed_key as app_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, email: str) -> None:
    page.goto("/konto/logg-inn/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_enrol_then_log_in_with_a_code(page, acme, alice):
    password_step(page, alice.email)
    page.wait_for_url("**/konto/tofaktor/ny/**")
    assert page.locator("h1").inner_text() == "Sett opp totrinnsinnlogging"
    qr = page.locator("[data-testid=mfa-qr]")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 0, "the QR code did not render"
    typed_key = page.locator("[data-testid=mfa-key]").inner_text()
    save_screenshot(page, "mfa-enrol")

    used = int(time.time()) // 30
    page.fill("#id_code", app_code(typed_key, used))
    page.click("[data-testid=mfa-submit]")
    codes = page.locator("[data-testid=mfa-recovery-code]")
    codes.first.wait_for()
    assert codes.count() == 10
    save_screenshot(page, "mfa-recovery-codes")
    page.click("[data-testid=mfa-continue]")
    page.wait_for_url("**/")
    assert page.locator("h1").first.inner_text() == "Dine selskaper"
    page.click("text=Logg ut")
    page.wait_for_url("**/konto/logg-inn/**")

    password_step(page, alice.email)
    page.wait_for_url("**/konto/tofaktor/kode/**")
    assert "Acme Holding AS" not in page.content()
    # Each time step's code is taken once: the step after the one used at enrolment.
    page.fill("#id_code", app_code(typed_key, max(int(time.time()) // 30, used + 1)))
    page.click("[data-testid=mfa-submit]")
    page.wait_for_url("**/")
    page.click("table >> text=Acme Holding AS")
    page.wait_for_url(f"**/c/{acme.slug}/")
    assert "Acme Holding AS" in page.locator("[data-testid=company-name]").inner_text()

"""The public key-request page in Chromium: a firm's contact sends a wrong key, reads why, sends the
right one, and staff approve the request in the admin."""

import pytest
from django.core import mail

from companies.models import Company, Invitation, KeyRequest, TripletexConnection
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tripletex.sandbox import demo

# Session-cache files and throttle counts stay with the test; each test's sandbox is fresh.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_var_dir", "local_cache"),
]


def _fill(page, key: str) -> None:
    page.fill("#id_contact_name", "Kari Nordmann")
    page.fill("#id_contact_email", "kari@fjellvik.no")
    page.check("input[name=key_type][value=own]")
    page.fill("#id_org_numbers", "921 500 033")
    page.fill("#id_tripletex_key", key)
    page.fill("#id_users-0-email", "kari@fjellvik.no")
    page.select_option("#id_users-0-role", "admin")


def test_a_firm_asks_to_be_connected_and_staff_approve(
    page, browser, live_server, settings, tripletex_sandbox, staff
):
    settings.INTAKE_FORM_MIN_SECONDS = 1
    page.goto("/koble-til/")
    page.wait_for_selector("[data-testid=key-request-form]")
    assert page.locator("h1").inner_text() == "Koble et firma til Dynamik"
    assert page.locator("#id_website").is_hidden() or page.locator(".intake-trap").count() == 1
    save_screenshot(page, "key-request")

    _fill(page, "wrong-key-0000")
    page.wait_for_timeout(1100)  # a person takes longer than the minimum fill time
    page.click("[data-testid=key-request-submit]")
    error = page.wait_for_selector("[data-testid=key-request-error]")
    assert "Tripletex godtok ikke nøkkelen" in error.inner_text()
    assert page.input_value("#id_contact_email") == "kari@fjellvik.no"  # kept
    assert page.input_value("#id_tripletex_key") == ""  # never rendered back
    save_screenshot(page, "key-request-wrong-key")
    assert not KeyRequest.objects.exists()

    page.fill("#id_tripletex_key", demo.HOLDING_TOKEN)
    page.wait_for_timeout(1100)
    page.click("[data-testid=key-request-submit]")
    page.wait_for_selector("[data-testid=key-request-received]")
    assert page.url.endswith("/koble-til/mottatt/")
    assert demo.HOLDING_TOKEN not in page.content()
    save_screenshot(page, "key-request-received")
    request = KeyRequest.objects.get()
    assert [m.to for m in mail.outbox] == [["kari@fjellvik.no"]]

    staff_page = browser.new_context(base_url=live_server.url, locale="nb-NO").new_page()
    log_in(staff_page, staff.email, PASSWORD)
    staff_page.goto(f"/admin/companies/keyrequest/{request.pk}/change/")
    staff_page.wait_for_selector("[data-testid=key-request-firms]")
    assert demo.HOLDING.name in staff_page.inner_text("[data-testid=key-request-firms]")
    save_screenshot(staff_page, "key-request-admin")
    staff_page.click("[data-testid=key-request-approve]")
    staff_page.wait_for_selector(".messagelist .success")
    save_screenshot(staff_page, "key-request-approved")

    company = Company.objects.get(org_number=demo.HOLDING.org_number)
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    assert Invitation.objects.get(company=company).email == "kari@fjellvik.no"
    assert sorted(m.to[0] for m in mail.outbox) == ["kari@fjellvik.no"] * 3
    staff_page.context.close()

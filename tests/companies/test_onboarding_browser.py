"""A staff member onboards a firm end to end in the admin, in a real browser."""

import pytest
from django.core import mail

from companies.credentials import connection_mark, connection_set_own_key, office_key_set
from companies.models import Company, TripletexConnection
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tripletex.sandbox import demo

# Session-cache files stay with the test: each test's sandbox is fresh.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_var_dir"),
]


def test_staff_onboards_a_firm(page, tripletex_sandbox, staff):
    log_in(page, staff.email, PASSWORD)
    page.goto("/admin/companies/company/")
    page.click("[data-testid=onboard-link]")
    page.wait_for_selector("[data-testid=onboarding-form]")
    save_screenshot(page, "onboarding-form")

    page.fill("#id_org_number", "921 500 033")
    page.check("input[name=key_type][value=own]")
    page.fill("#id_tripletex_key", "wrong-key-0000")
    page.fill("#id_users-0-email", "kari@fjellvik.no")
    page.select_option("#id_users-0-role", "admin")
    page.click("[data-testid=onboard-submit]")
    error = page.wait_for_selector("[data-testid=onboarding-error]")
    assert error.get_attribute("data-code") == "key_rejected"
    assert page.input_value("#id_org_number") == "921 500 033"
    assert page.input_value("#id_users-0-email") == "kari@fjellvik.no"
    assert page.input_value("#id_tripletex_key") == ""  # never rendered back
    save_screenshot(page, "onboarding-wrong-key")
    assert not Company.objects.exists()

    page.fill("#id_tripletex_key", demo.HOLDING_TOKEN)
    page.click("[data-testid=onboard-submit]")
    page.wait_for_selector("[data-testid=key-summary]")
    save_screenshot(page, "onboarding-done")

    company = Company.objects.get(org_number="921500033")
    assert company.name == demo.HOLDING.name
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    assert f"•••• {demo.HOLDING_TOKEN[-4:]}" in page.inner_text("[data-testid=key-summary]")
    assert demo.HOLDING_TOKEN not in page.content()
    assert [m.to for m in mail.outbox] == [["kari@fjellvik.no"]]

    page.goto("/admin/companies/company/")
    save_screenshot(page, "onboarding-company-list")


def test_office_clients_page_and_firm_panel(page, tripletex_sandbox, staff, acme, alice):
    office_key = office_key_set(
        office_key=None, name="Tallknuserne", token=demo.OFFICE_TOKEN, by=staff
    )
    log_in(page, staff.email, PASSWORD)
    page.goto(f"/admin/companies/officekey/{office_key.pk}/clients/")
    page.wait_for_selector("[data-testid=office-clients]")
    page.check(f"input[name=clients][value='{demo.CLIENT_A.company_id}']")
    save_screenshot(page, "office-clients")
    page.click("[data-testid=office-clients-submit]")
    page.wait_for_url("**/admin/companies/company/")
    assert Company.objects.filter(org_number=demo.CLIENT_A.org_number).exists()

    connection_set_own_key(company=acme, token=demo.HOLDING_TOKEN, by=staff)
    connection_mark(
        company=acme,
        status=TripletexConnection.Status.BROKEN,
        reason="Tripletex rejected the key: it may have been revoked.",
    )
    page.context.clear_cookies()
    log_in(page, alice.email, PASSWORD)
    page.goto(f"/c/{acme.slug}/")
    panel = page.wait_for_selector("[data-testid=connection-panel]")
    assert panel.get_attribute("data-status") == "broken"
    assert page.is_visible("[data-testid=connection-reason]")
    save_screenshot(page, "firm-connection-panel")

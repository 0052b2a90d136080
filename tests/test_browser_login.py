"""A person logs in with Chromium, sees the company page and switches company."""

import pytest

from companies.services import membership_set
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_see_company_page_and_switch(page, alice, acme, bergen):
    membership_set(company=bergen, user=alice, role="accountant")
    log_in(page, "alice@acme.no", PASSWORD)
    page.wait_for_url("**/")
    assert page.locator("h1").first.inner_text() == "Dine selskaper"
    page.click("table >> text=Acme Holding AS")
    page.wait_for_url(f"**/c/{acme.slug}/")
    assert "Acme Holding AS" in page.locator("[data-testid=company-name]").inner_text()
    save_screenshot(page, "company-home")
    # The switcher goes on "Gå", never on a change alone (issue 18: arrow keys must not navigate).
    page.select_option("#switcher-company", bergen.slug)
    assert page.url.endswith(f"/c/{acme.slug}/")
    page.click("[data-testid=switcher-go]")
    page.wait_for_url(f"**/c/{bergen.slug}/")
    assert "Bergen Invest AS" in page.locator("[data-testid=company-name]").inner_text()
    page.click("text=Logg ut")
    page.wait_for_url("**/konto/logg-inn/**")

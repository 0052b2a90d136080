"""An accountant reads a firm's figures in Chromium: overview → P&L → group → postings → year →
XLSX, and the balance sheet. Screenshots of the P&L and the balance sheet go to test-artifacts/."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone
from django_scopes import scope

from companies.credentials import connection_mark, connection_set_own_key, tripletex_client_for
from companies.services import company_create, membership_set
from ledger.models import SyncRun
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD, make_user
from tests.ledger.figures_data import seed_from_tripletex
from tripletex.sandbox import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def firm(tripletex_sandbox):
    company = company_create(org_number=demo.HOLDING.org_number, name=demo.HOLDING.name)
    connection_set_own_key(company=company, token=demo.HOLDING_TOKEN, by=None)
    connection_mark(company=company, status="connected")
    today = tripletex_sandbox.store.today()
    with scope(company=company):
        seed_from_tripletex(
            company,
            tripletex_client_for(company),
            datetime.date(today.year - 1, 1, 1),
            today.replace(day=1),
        )
        SyncRun.objects.create(
            company=company, trigger="schedule", status="succeeded", finished_at=timezone.now()
        )
    user = make_user("regnskap@fjellvik.no")
    membership_set(company=company, user=user, role="accountant")
    company.today = today
    return company, user


def test_accountant_reads_figures(page, firm):
    company, user = firm
    log_in(page, user.email, PASSWORD)
    page.goto("/")
    row = page.locator(f'tr[data-company="{company.slug}"]')
    row.locator("a", has_text="").nth(0).wait_for()
    row.locator(f'a[href="/c/{company.slug}/resultat/"]').click()
    page.wait_for_url(f"**/c/{company.slug}/resultat/")
    assert page.locator('[data-testid="figures-as-of"]').is_visible()
    assert page.locator("svg#chart-pnl title").count() > 0

    # Expand a group in place (JavaScript), and the URL remembers it.
    opex_account = page.locator('tbody[data-group="opex"] tr.row-account').first
    assert not opex_account.is_visible()
    page.click('[data-group-toggle="opex"]')
    assert opex_account.is_visible()
    assert "apne=opex" in page.url
    save_screenshot(page, "figures-pnl")

    # Drill down to the postings of an account-month. This firm's figures were seeded without
    # its postings, so the page says so; Refresh pulls the month from the sandbox.
    link = page.locator('tr[data-account="6705"] td a').first
    link.click()
    page.wait_for_url("**/posteringer/**")
    assert page.locator('[data-testid="postings-not-stored"]').is_visible()
    page.click('[data-testid="postings-refresh"]')
    page.locator('[data-testid="postings-as-of"]').wait_for()
    assert page.locator("tr.posting-row").count() > 0
    assert page.locator('[data-testid="voucher-link"]').count() > 0
    save_screenshot(page, "figures-postings")
    page.goto(f"/c/{company.slug}/resultat/?apne=opex")

    # Switch to last year with the period form: the choice lands in the URL.
    last_year = company.today.year - 1
    page.select_option('[data-testid="select-year"]', str(last_year))
    page.wait_for_url(f"**ar={last_year}**")
    assert page.locator('[data-testid="select-year"]').input_value() == str(last_year)

    with page.expect_download() as info:
        page.click('[data-testid="export-xlsx"]')
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    numbers = [c.value for c in sheet["C"] if isinstance(c.value, int | float)]
    assert numbers  # numbers stay numbers

    page.goto(f"/c/{company.slug}/balanse/?apne=alle")
    assert page.locator('[data-testid="balance-check"]').get_attribute("data-balanced") == "true"
    save_screenshot(page, "figures-balance")
    page.goto("/")
    save_screenshot(page, "figures-overview")

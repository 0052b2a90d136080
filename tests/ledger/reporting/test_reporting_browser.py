"""An accountant in Chromium: opens the group view of a holding and two subsidiaries, checks the
elimination mapping, then writes a comment, makes the holding's report pack and downloads it.
Screenshots of every page go to test-artifacts/."""

import datetime

import pytest
from django_scopes import scope

from companies.services import company_create, membership_set
from ledger.groups.services import group_create, mapping_confirm, pairs_propose
from ledger.models import ReportPack
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD, make_user
from tests.ledger.figures_data import seed_changes
from tests.ledger.reporting.test_groups import BOOKS, MARCH, ORG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_group():
    user = make_user("regnskap@kontoret.no")
    firms = {}
    for key, books in BOOKS.items():
        firm = company_create(org_number=ORG[key], name=f"{key} Holding AS")
        membership_set(company=firm, user=user, role="accountant")
        with scope(company=firm):
            seed_changes(firm, {n: {MARCH: v} for n, v in books.items()})
        firms[key] = firm
    parent = firms["H"]
    with scope(company=parent):
        group = group_create(
            parent=parent, name="H-konsernet", member_ids=[firms["S1"].pk, firms["S2"].pk], by=user
        )
        from ledger.periods import fiscal_year_of

        pairs_propose(group=group, fiscal_year=fiscal_year_of(MARCH, 1), through=MARCH)
        # The person removes the two proposals that do not belong (1300 is S1's, 1310 is S2's).
        group.pairs.filter(account_a=1300, firm_b=firms["S2"]).delete()
        group.pairs.filter(account_a=1310, firm_b=firms["S1"]).delete()
        mapping_confirm(group=group, by=user)
    return user, firms


def test_accountant_opens_the_group_and_downloads_a_report_pack(page, browser_group, tasks_eager):
    user, firms = browser_group
    parent = firms["H"]
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, user.email, PASSWORD)
    page.goto(f"/c/{parent.slug}/")
    save_screenshot(page, "reporting-firm-page")
    page.click('[data-testid="group-link"]')
    page.wait_for_url(f"**/c/{parent.slug}/konsern/")
    page.goto(f"/c/{parent.slug}/konsern/?ar=2025&mnd=3")
    table = page.locator('[data-testid="group-balance"]')
    assert "298\u00a0000,00" in table.locator('[data-testid="bal-total_assets"]').inner_text()
    net = page.locator('[data-testid="group-pnl"] [data-testid="pnl-net_result"]').inner_text()
    assert "73\u00a0000,00" in net
    assert page.locator('[data-testid="mapping-confirmed"]').is_visible()
    save_screenshot(page, "reporting-group-view")
    page.click("text=Elimineringsoppsettet")
    page.wait_for_selector('[data-testid="pairs-table"]')
    save_screenshot(page, "reporting-group-mapping")

    page.goto(f"/c/{parent.slug}/rapportpakke/?mnd=2025-03")
    page.fill("#id_summary", "Konsernets morselskap, første kvartal.")
    with page.expect_navigation():
        page.click('[data-testid="pack-generate"]')
    link = page.locator('[data-testid="pack-download"]').first
    link.wait_for()
    save_screenshot(page, "reporting-pack-page")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"rapportpakke-{parent.org_number}-2025-03.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    with scope(company=parent):
        assert ReportPack.objects.get().status == "done"
    assert datetime.date(2025, 3, 1) == MARCH

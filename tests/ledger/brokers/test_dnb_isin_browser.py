"""A finance user gives the ISIN of a DNB instrument (ticker + MIC) once on the inbox page: every
row of it is filled and the panel no longer asks for it. The page is in bokmål."""

import pytest
from django_scopes import scope

from ledger.imports.inbox import inbox_upload
from ledger.models import BrokerAccount, InboxRow
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.brokers.files import dnb_workbook
from tests.ledger.brokers.test_dnb_isin import EQUINOR_ISIN, FIRST_FILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_isin_of_a_dnb_instrument_is_given_once_in_the_inbox(page, fiona, acme):
    with scope(company=acme):
        BrokerAccount.objects.create(
            company=acme, broker="dnb", number="1234.56.78901", cash_account=1922
        )
        upload = inbox_upload(
            company=acme, content=dnb_workbook(FIRST_FILE), file_name="dnb.xlsx", by=fiona
        )
    assert upload.batch is not None
    log_in(page, fiona.email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/c/{acme.slug}/innboks/{upload.batch.pk}/")
    panel = page.locator("[data-testid=missing-isins]")
    assert panel.locator("h2").inner_text() == "Verdipapirer uten ISIN"
    save_screenshot(page, "inbox-dnb-missing-isin")
    equinor = panel.locator("[data-testid=missing-isin][data-ref='EQNR.XOSL']")
    equinor.get_by_label("ISIN for EQNR.XOSL").fill(EQUINOR_ISIN)
    with page.expect_navigation():
        equinor.locator("[data-testid=missing-isin-save]").click()
    assert "ISIN lagret for EQNR.XOSL: 2 rad(er) fylt ut" in page.content()
    assert page.locator("[data-testid=missing-isin][data-ref='EQNR.XOSL']").count() == 0
    assert page.locator("[data-testid=missing-isin][data-ref='AAPL.XNAS']").count() == 1
    save_screenshot(page, "inbox-dnb-isin-saved")
    with scope(company=acme):
        rows = InboxRow.objects.filter(company=acme, instrument_ref="EQNR.XOSL")
        assert {r.data["isin"] for r in rows} == {EQUINOR_ISIN}

"""A finance user whose firm's key lacks "Advanced Voucher" switches the firm to sending vouchers
for approval, books a purchase and sees it wait for approval in Tripletex; once the firm approves
it there, the voucher number appears. A real Celery worker posts to the sandbox."""

import pytest

from companies.credentials import connection_set_own_key
from ledger.booking import tasks as booking_tasks
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.support import HOLDING_ID, record, reload, vouchers_with
from tests.processes import broker_connection, celery_worker
from tripletex.sandbox import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_finance_user_sends_a_voucher_for_approval_and_sees_its_number_once_approved(
    page, fiona, sandbox_acme, tripletex_sandbox, monkeypatch
):
    connection_set_own_key(company=sandbox_acme, token=demo.READONLY_TOKEN, by=None)
    txn = record(sandbox_acme)
    with celery_worker(broker_url="filesystem://") as worker:

        def delay(**kwargs):
            with broker_connection("filesystem://") as conn:
                booking_tasks.transaction_book_task.apply_async(
                    kwargs=kwargs, queue=worker.queue, connection=conn
                )

        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", delay)
        log_in(page, fiona.email, PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/kontoinnstillinger/")
        page.check("input[name=posting_mode][value=approval]")
        save_screenshot(page, "gl-settings-approval-mode")
        page.click("form.panel button.primary")
        page.wait_for_selector(".message.success")
        assert page.is_checked("input[name=posting_mode][value=approval]")

        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/{txn.pk}/")
        page.click("[data-testid=book]")
        # The page updates itself until the voucher is in Tripletex, waiting for approval.
        page.wait_for_selector("[data-testid=voucher]:has-text('midl. nr.')", timeout=60_000)
        assert page.inner_text("[data-testid=status]") == "Venter på godkjenning i Tripletex"
    row = reload(txn)
    assert row.is_awaiting_approval
    page.reload()
    assert page.locator("[data-testid=awaiting-approval]").count() == 1
    assert page.locator("[data-testid=reverse]").count() == 0
    save_screenshot(page, "transaction-awaiting-approval")

    # Someone at the firm approves it in Tripletex; the beat task picks up the number.
    tripletex_sandbox.store.send_to_ledger(HOLDING_ID, row.tripletex_voucher_id)
    assert booking_tasks.bookings_refresh_approved_task.apply().get()["approved"] == 1
    page.reload()
    row = reload(txn)
    assert page.inner_text("[data-testid=voucher] a") == f"{row.voucher_number}/{row.voucher_year}"
    assert page.locator("[data-testid=awaiting-approval]").count() == 0
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1
    save_screenshot(page, "transaction-approved")

"""A finance user records a purchase, checks the preview, books it and watches the voucher number
appear without reloading; a real Celery worker posts to the sandbox."""

import pytest

from ledger.booking import tasks as booking_tasks
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.support import reload, vouchers_with
from tests.processes import broker_connection, celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send_to(queue: str):
    def delay(**kwargs):
        with broker_connection("filesystem://") as conn:
            booking_tasks.transaction_book_task.apply_async(
                kwargs=kwargs, queue=queue, connection=conn
            )

    return delay


def test_finance_user_records_previews_books_and_sees_the_voucher(
    page, fiona, sandbox_acme, tripletex_sandbox, monkeypatch
):
    with celery_worker(broker_url="filesystem://") as worker:
        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", _send_to(worker.queue))
        log_in(page, fiona.email, PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/")
        save_screenshot(page, "transactions-empty")
        page.click("[data-testid=new-transaction]")
        page.select_option("#id_kind", "purchase")
        page.fill("#id_instrument_name", "Equinor ASA")
        page.fill("#id_isin", "NO0010096985")
        page.fill("#id_quantity", "100")
        page.fill("#id_price", "250,00")
        page.fill("#id_amount", "25 000,00")
        page.fill("#id_fees", "49,00")
        save_screenshot(page, "transaction-form")
        page.click("[data-testid=save]")
        page.wait_for_selector("[data-testid=preview]")
        assert page.locator("[data-testid=preview-line]").count() == 3
        accounts = page.locator("[data-testid=line-account]").all_inner_texts()
        assert accounts == ["1810", "1810", "1920"]
        assert page.locator("[data-testid=balance] .badge.ok").count() == 1
        save_screenshot(page, "transaction-preview")
        page.click("[data-testid=book]")
        # The page updates itself: queued → booking → booked, with the voucher number.
        page.wait_for_selector("[data-testid=voucher] a", timeout=60_000)
        voucher_text = page.locator("[data-testid=voucher] a").first.inner_text()
        save_screenshot(page, "transaction-booked")
    txn_id = int(page.url.rstrip("/").split("/")[-1])
    # The other pages render cleanly (screenshots for review).
    page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/")
    assert page.locator("[data-testid=transaction-row] [data-status=booked]").count() == 1
    save_screenshot(page, "transactions-list")
    page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/ny-postering/")
    page.click("[data-formset-add=lines]")
    assert page.locator("[data-formset-row]").count() == 3
    save_screenshot(page, "journal-form")
    page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/kontoinnstillinger/")
    save_screenshot(page, "gl-settings")
    page.goto(f"/c/{sandbox_acme.slug}/")
    save_screenshot(page, "company-home-booking-panel")
    from ledger.models import Transaction

    row = reload(Transaction(pk=txn_id))
    assert row.status == "booked"
    assert voucher_text == f"{row.voucher_number}/{row.voucher_year}"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1

"""Issue 13's browser test: a finance user sees a purchase dated in a closed accounting period refused
on the form, moves it to today, books it (a real Celery worker posts to the sandbox) and reads it on
the holdings page. The pages are in bokmål, as the user sees them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.booking import tasks as booking_tasks
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.support import reload
from tests.processes import broker_connection, celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send_to(queue: str):
    def delay(**kwargs):
        with broker_connection("filesystem://") as conn:
            booking_tasks.transaction_book_task.apply_async(
                kwargs=kwargs, queue=queue, connection=conn
            )

    return delay


def _fill_date(page, selector: str, day) -> None:
    """A date as the field takes it: a native date input wants ISO, a text field dd.mm.åååå."""
    native = page.locator(selector).get_attribute("type") == "date"
    page.fill(selector, day.isoformat() if native else day.strftime("%d.%m.%Y"))


def test_a_closed_period_is_refused_on_the_form_then_fixed_booked_and_held(
    page, fiona, sandbox_acme, tripletex_sandbox, monkeypatch
):
    today = timezone.localdate()
    # The sandbox closes every month before the previous one (tripletex/sandbox/store/queries.py).
    closed_day = (today.replace(day=1) - timedelta(days=45)).replace(day=15)
    with celery_worker(broker_url="filesystem://") as worker:
        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", _send_to(worker.queue))
        log_in(page, fiona.email, PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/ny/")
        page.select_option("#id_kind", "purchase")
        _fill_date(page, "#id_trade_date", closed_day)
        page.fill("#id_instrument_name", "Equinor ASA")
        page.fill("#id_isin", "NO0010096985")
        page.fill("#id_quantity", "100")
        page.fill("#id_amount", "25 000,00")
        page.fill("#id_fees", "49,00")
        page.click("[data-testid=save]")
        errors = page.locator("[data-testid=form-errors]")
        errors.wait_for()
        text = errors.inner_text()
        assert f"Regnskapsperioden for {closed_day:%d.%m.%Y}" in text
        assert "er lukket i Tripletex" in text
        assert page.locator("[data-testid=refresh-reference]").count() == 1
        # What was typed is still there.
        assert page.input_value("#id_instrument_name") == "Equinor ASA"
        save_screenshot(page, "entry-check-closed-period")

        _fill_date(page, "#id_trade_date", today)
        page.click("[data-testid=save]")
        page.wait_for_selector("[data-testid=preview]")
        page.click("[data-testid=book]")
        page.wait_for_selector("[data-testid=voucher] a", timeout=60_000)
        save_screenshot(page, "entry-check-booked")
    txn_id = int(page.url.rstrip("/").split("/")[-1])
    from ledger.models import Transaction

    booked = reload(Transaction(pk=txn_id))
    assert booked.status == Transaction.Status.BOOKED
    assert booked.trade_date == today

    page.goto(reverse("ledger:holdings", kwargs={"company_slug": sandbox_acme.slug}))
    position = page.locator("[data-testid=position][data-key=NO0010096985]")
    position.wait_for()
    cells = position.inner_text()
    assert "Equinor ASA" in cells
    assert "100" in cells
    assert "25\u00a0049,00" in cells
    assert page.locator("[data-testid=total-cost]").inner_text().strip() == "25\u00a0049,00"
    save_screenshot(page, "entry-check-holdings")

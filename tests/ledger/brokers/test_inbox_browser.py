"""Issue 14's browser test: a finance user uploads a Nordnet file into the inbox, checks its rows
and the voucher each would become, leaves one out, accepts the rest, drops the purchase's contract
note on the contract-notes page linked from the inbox (matched by its Sluttseddelnummer), books the
purchase (a real Celery worker posts the voucher to the sandbox and then uploads the note) and sees
the voucher with its attachment. The pages are in bokmål."""

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.booking import tasks as booking_tasks
from ledger.models import BrokerAccount, Transaction
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.brokers.files import APPLE, EQUINOR, nordnet_30, row
from tests.ledger.contract_notes.support import nordnet_note
from tests.ledger.support import HOLDING_ID, reload
from tests.processes import broker_connection, celery_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send_to(queue: str):
    def delay(**kwargs):
        with broker_connection("filesystem://") as conn:
            booking_tasks.transaction_book_task.apply_async(
                kwargs=kwargs, queue=queue, connection=conn
            )

    return delay


@pytest.fixture
def inbox_notes_root(settings, tmp_path, monkeypatch):
    """The contract notes' folder, the same for this process and the worker."""
    root = tmp_path / "contract-notes"
    settings.CONTRACT_NOTES_ROOT = root
    monkeypatch.setenv("CONTRACT_NOTES_ROOT", str(root))
    return root


def _attached(page) -> bool:
    page.reload()
    return page.locator("[data-testid=contract-note][data-state=uploaded]").count() == 1


def _file() -> bytes:
    day = timezone.localdate().isoformat()
    return nordnet_30(
        [
            row(5001, day, "INNSKUDD", "100 000,00", "100 000,00"),
            row(5002, day, "KJØPT", "-25 049,00", "74 951,00", instrument=EQUINOR,
                quantity="100", price="250,00", fees="49,00", note="SN-5002"),
            row(5003, day, "KJØPT", "-15 849,00", "59 102,00", instrument=APPLE,
                quantity="10", price="150,00", fees="99,00", instrument_currency="USD",
                purchase_value="-1 500,00", fx="10,50", note="SN-5003"),
            row(5004, day, "AVGIFT", "-10,00", "59 092,00"),
            row(5005, day, "SALG", "10 771,00", "69 863,00", instrument=EQUINOR,
                quantity="-40", price="270,00", fees="29,00", note="SN-5005"),
        ]
    )  # fmt: skip


def test_a_nordnet_file_through_the_inbox_to_a_booked_voucher(
    page, fiona, sandbox_acme, tripletex_sandbox, monkeypatch, tmp_path, inbox_notes_root
):
    with scope(company=sandbox_acme):
        BrokerAccount.objects.create(
            company=sandbox_acme, broker="nordnet", number="12345678", cash_account=1930
        )
    path = tmp_path / "transactions-and-notes-export.csv"
    path.write_bytes(_file())
    note = tmp_path / "Sluttseddel Equinor.pdf"
    note.write_bytes(nordnet_note(number="SN-5002", day=f"{timezone.localdate():%d.%m.%Y}"))
    with celery_worker(broker_url="filesystem://") as worker:
        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", _send_to(worker.queue))
        log_in(page, fiona.email, PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/c/{sandbox_acme.slug}/innboks/")
        page.set_input_files("#id_file", str(path))
        page.click("[data-testid=inbox-upload] button[type=submit]")
        page.wait_for_selector("[data-testid=inbox-summary]")
        assert "5 nye, 0 allerede importert" in page.inner_text("[data-testid=inbox-summary]")
        rows = page.locator("[data-testid=inbox-row]")
        assert rows.count() == 5
        # Nothing is ready yet.
        with scope(company=sandbox_acme):
            assert not Transaction.objects.filter(company=sandbox_acme).exists()
        sale = page.locator("[data-testid=inbox-row][data-line='6']")
        # The sale's voucher, its cost from the purchase in the same file: Dr 1930 10 771,00,
        # Cr 1810 10 019,60, Cr 8077 751,40.
        voucher = sale.locator("[data-testid=inbox-voucher]").inner_text()
        assert "10\u00a0771,00" in voucher
        assert "10\u00a0019,60" in voucher
        assert "751,40" in voucher
        apple = page.locator("[data-testid=inbox-row][data-line='4']").inner_text()
        assert "1\u00a0500,00 USD" in apple
        assert "10,5000" in apple
        assert "15\u00a0750,00" in apple
        page.set_viewport_size({"width": 1440, "height": 900})
        save_screenshot(page, "inbox-batch")

        # Leave the fee out.
        page.locator("[data-testid=inbox-row][data-line='5'] [data-testid=inbox-exclude]").click()
        page.wait_for_selector("[data-testid=inbox-row][data-line='5'].inbox-excluded")
        assert "4 rad(er), 1 utelatt, 0 med feil" in page.inner_text("[data-testid=inbox-counts]")
        save_screenshot(page, "inbox-batch-excluded")

        page.click("[data-testid=inbox-accept]")
        page.wait_for_url(f"**/c/{sandbox_acme.slug}/transaksjoner/")
        assert "4 transaksjon(er) lagret som klare til bokføring" in page.content()
        with scope(company=sandbox_acme):
            saved = Transaction.objects.filter(company=sandbox_acme)
            assert saved.count() == 4
            assert not saved.filter(broker_ref="nordnet:12345678:5004").exists()
            purchase = saved.get(broker_ref="nordnet:12345678:5002")

        # Back to the file: its contract notes are dropped on the page the inbox links to.
        page.go_back()
        page.click("[data-testid=inbox-contract-notes]")
        page.set_input_files("#id_files", [str(note)])
        page.click("[data-testid=drop-submit]")
        page.wait_for_selector("[data-testid=drop-result]")
        assert page.locator("[data-testid=drop-matched]").count() == 1
        save_screenshot(page, "inbox-contract-note-dropped")

        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/{purchase.pk}/")
        page.wait_for_selector("[data-testid=contract-note]")
        page.click("[data-testid=book]")
        page.wait_for_selector("[data-testid=voucher] a", timeout=60_000)
        wait_for(
            lambda: _attached(page),
            timeout=60,
            interval=1,
            what=f"the contract note on the voucher (log: {worker.log_path})",
        )
        assert page.locator("[data-testid=contract-note-state]").inner_text() == "Bilag vedlagt"
        assert page.locator("[data-testid=contract-note-link]").inner_text() == note.name
        save_screenshot(page, "inbox-purchase-booked-with-note")
    booked = reload(purchase)
    assert booked.status == Transaction.Status.BOOKED
    parts = tripletex_sandbox.store.voucher_attachment_parts(
        HOLDING_ID, booked.tripletex_voucher_id
    )
    assert [p["fileName"] for p in parts] == [note.name]

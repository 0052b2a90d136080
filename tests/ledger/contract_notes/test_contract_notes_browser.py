"""A finance user attaches a contract note to a transaction, books it, and sees "Bilag vedlagt"
with the link to the file; a real Celery worker books the voucher and then uploads the note to it
in the sandbox. Then several notes are dropped at once on the contract notes page."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.booking import tasks as booking_tasks
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.contract_notes.support import NOT_A_PDF, nordnet_note
from tests.ledger.support import HOLDING_ID, record, reload
from tests.processes import broker_connection, celery_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send_to(queue: str):
    def delay(**kwargs):
        with broker_connection("filesystem://") as conn:
            booking_tasks.transaction_book_task.apply_async(
                kwargs=kwargs, queue=queue, connection=conn
            )

    return delay


def _attached(page) -> bool:
    page.reload()
    return page.locator("[data-testid=contract-note][data-state=uploaded]").count() == 1


def test_finance_user_attaches_a_contract_note_books_and_sees_it_on_the_voucher(
    page, fiona, sandbox_acme, tripletex_sandbox, monkeypatch, cn_root, tmp_path
):
    monkeypatch.setenv("CONTRACT_NOTES_ROOT", str(cn_root))  # the worker's folder is ours
    txn = record(sandbox_acme)
    note_file = tmp_path / "Sluttseddel Equinor.pdf"
    note_file.write_bytes(nordnet_note(number="123456789"))
    with celery_worker(broker_url="filesystem://") as worker:
        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", _send_to(worker.queue))
        log_in(page, fiona.email, PASSWORD)
        page.wait_for_url("**/")
        page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/{txn.pk}/")
        page.set_input_files("#id_contract_note", str(note_file))
        page.click("[data-testid=attach-contract-note]")
        page.wait_for_selector("[data-testid=contract-note]")
        state = page.locator("[data-testid=contract-note-state]").inner_text()
        assert state == "Legges ved når transaksjonen bokføres"
        save_screenshot(page, "contract-note-attached-before-booking")
        page.click("[data-testid=book]")
        page.wait_for_selector("[data-testid=voucher] a", timeout=60_000)
        wait_for(
            lambda: _attached(page),
            timeout=60,
            interval=1,
            what=f"the contract note on the voucher (log: {worker.log_path})",
        )
    assert page.locator("[data-testid=contract-note-state]").inner_text() == "Bilag vedlagt"
    link = page.locator("[data-testid=contract-note-link]")
    assert link.inner_text() == "Sluttseddel Equinor.pdf"
    href = link.get_attribute("href")
    assert href.startswith(f"/c/{sandbox_acme.slug}/transaksjoner/sluttsedler/")
    save_screenshot(page, "contract-note-on-the-voucher")
    # The link opens the file through our own page.
    response = page.request.get(href)
    assert response.status == 200
    assert response.body() == note_file.read_bytes()
    row = reload(txn)
    parts = tripletex_sandbox.store.voucher_attachment_parts(HOLDING_ID, row.tripletex_voucher_id)
    assert [p["fileName"] for p in parts] == ["Sluttseddel Equinor.pdf"]


def test_several_contract_notes_dropped_at_once(page, fiona, sandbox_acme, tmp_path):
    record(sandbox_acme, trade_date=date(2025, 3, 14))
    files = {
        "nota-equinor.pdf": nordnet_note(),
        "ukjent.pdf": nordnet_note(day="02.01.2024"),
        "ikke-pdf.pdf": NOT_A_PDF,
    }
    paths = []
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        paths.append(str(path))
    log_in(page, fiona.email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/c/{sandbox_acme.slug}/transaksjoner/sluttsedler/")
    save_screenshot(page, "contract-notes-page-empty")
    page.set_input_files("#id_files", paths)
    page.click("[data-testid=drop-submit]")
    page.wait_for_selector("[data-testid=drop-result]")
    assert page.locator("[data-testid=drop-matched]").count() == 1
    assert page.locator("[data-testid=drop-refused]").count() == 1
    assert page.locator("[data-testid=unassigned-note]").count() == 1
    save_screenshot(page, "contract-notes-dropped")
    page.select_option("[data-testid=assign-select]", index=1)
    page.click("[data-testid=assign]")
    page.wait_for_selector("[data-testid=contract-note]")
    save_screenshot(page, "contract-note-assigned-by-hand")

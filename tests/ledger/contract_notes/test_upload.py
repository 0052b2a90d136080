"""Uploading a contract note to the voucher against the Tripletex sandbox: once, whatever is lost.

The sandbox appends every upload to the voucher's attachment (as Tripletex does) and keeps each
one as a part, so `_parts` is the ground truth: how many times the file really went onto the
voucher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.booking.protocol import booking_queue, booking_run
from ledger.contract_notes.services import contract_note_attach, contract_note_retry
from ledger.contract_notes.upload import UploadRetry, contract_notes_stuck, contract_notes_upload
from ledger.models import ContractNote
from tests.ledger.contract_notes.support import PNG_BYTES, nordnet_note, upload
from tests.ledger.support import HOLDING_ID, record, reload

pytestmark = pytest.mark.django_db

State = ContractNote.State


def _parts(server, txn) -> list[dict]:
    return server.store.voucher_attachment_parts(HOLDING_ID, reload(txn).tripletex_voucher_id)


def _attach(company, txn, name="sluttseddel.pdf", content=None) -> ContractNote:
    with scope(company=company):
        return contract_note_attach(
            company=company, txn=txn, upload=upload(name, content or nordnet_note()), by=None
        )


def _upload(company, txn) -> dict[str, int]:
    with scope(company=company):
        return contract_notes_upload(company=company, transaction_id=txn.pk)


def _note(note) -> ContractNote:
    with scopes_disabled():
        return ContractNote.objects.get(pk=note.pk)


def _attachment_path(txn) -> str:
    return f"/ledger/voucher/{reload(txn).tripletex_voucher_id}/attachment"


def test_booking_queues_the_note_and_the_upload_puts_it_on_the_voucher_once(
    sandbox_acme, tripletex_sandbox, cn_sent, django_capture_on_commit_callbacks
):
    txn = record(sandbox_acme)
    note = _attach(sandbox_acme, txn)
    assert cn_sent == []  # no voucher yet: nothing to upload to
    with scope(company=sandbox_acme), django_capture_on_commit_callbacks(execute=True):
        booking_queue(company=sandbox_acme, transaction_ids=[txn.pk], enqueue=False)
        assert booking_run(company=sandbox_acme, transaction_id=txn.pk) == "booked"
    assert cn_sent == [{"company_id": sandbox_acme.pk, "transaction_id": txn.pk}]
    assert _upload(sandbox_acme, txn) == {"uploaded": 1}
    stored = _note(note)
    assert stored.state == State.UPLOADED
    assert stored.voucher_id == reload(txn).tripletex_voucher_id
    assert stored.baseline is None  # the voucher had no attachment before ours
    assert stored.document["mimeType"] == "application/pdf"
    assert stored.document["size"] == stored.size
    [part] = _parts(tripletex_sandbox, txn)
    assert (part["fileName"], part["sha256"]) == ("sluttseddel.pdf", stored.sha256)
    # Running the task again (a redelivery) sends nothing.
    assert _upload(sandbox_acme, txn) == {}
    assert len(_parts(tripletex_sandbox, txn)) == 1


def test_a_note_attached_after_booking_is_uploaded_then(
    cn_booked, sandbox_acme, tripletex_sandbox, cn_sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = _attach(sandbox_acme, cn_booked, name="skann.png", content=PNG_BYTES)
    assert cn_sent == [{"company_id": sandbox_acme.pk, "transaction_id": cn_booked.pk}]
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    assert _note(note).state == State.UPLOADED
    [part] = _parts(tripletex_sandbox, cn_booked)
    assert part["mimeType"] == "image/png"


def test_a_lost_upload_reply_gives_one_attachment_not_two(
    cn_booked, sandbox_acme, tripletex_sandbox, tripletex_waits_recorded
):
    note = _attach(sandbox_acme, cn_booked)
    faults = tripletex_sandbox.faults
    # The file lands, the reply is lost, and the first look at the voucher fails too: the run can
    # only say "unknown" and wait.
    faults.drop_reply_after_attachment_store = 1
    faults.update(
        {
            "fail_path": f"GET /ledger/voucher/{cn_booked.tripletex_voucher_id}",
            "fail_path_statuses": [0, 503, 503, 503, 503, 503],
        }
    )
    with pytest.raises(UploadRetry):
        _upload(sandbox_acme, cn_booked)
    waiting = _note(note)
    assert waiting.state == State.PENDING
    assert waiting.sent_at is not None
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1
    faults.reset()
    # The retry looks at the voucher first, sees the file there, and sends nothing.
    assert _upload(sandbox_acme, cn_booked) == {"already-uploaded": 1}
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1
    assert _note(note).state == State.UPLOADED


def test_a_lost_reply_is_seen_at_once_when_the_voucher_can_be_read(
    cn_booked, sandbox_acme, tripletex_sandbox
):
    note = _attach(sandbox_acme, cn_booked)
    tripletex_sandbox.faults.drop_reply_after_attachment_store = 1
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1
    assert _note(note).document is not None


def test_nothing_is_resent_before_the_settle_deadline(
    cn_booked, sandbox_acme, tripletex_sandbox, settings
):
    note = _attach(sandbox_acme, cn_booked)
    settings.BOOKING_SETTLE_SECONDS = 120
    # A 503: the upload may or may not have been stored (here it was not).
    tripletex_sandbox.faults.update(
        {"fail_path": f"POST {_attachment_path(cn_booked)}", "fail_path_statuses": [503]}
    )
    with pytest.raises(UploadRetry) as waited:
        _upload(sandbox_acme, cn_booked)
    assert waited.value.countdown > 100
    assert _parts(tripletex_sandbox, cn_booked) == []
    # Due again early (a redelivered task): it looks, finds nothing new, and still waits.
    with scopes_disabled():
        ContractNote.objects.filter(pk=note.pk).update(next_retry_at=None)
    with pytest.raises(UploadRetry, match="Checking whether Tripletex stored"):
        _upload(sandbox_acme, cn_booked)
    assert _parts(tripletex_sandbox, cn_booked) == []
    # After the deadline, and only then, the file is sent again: once.
    with scopes_disabled():
        ContractNote.objects.filter(pk=note.pk).update(
            sent_at=timezone.now() - timedelta(seconds=200), next_retry_at=None
        )
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1


def test_a_second_note_is_appended_and_told_apart_from_the_first(
    cn_booked, sandbox_acme, tripletex_sandbox
):
    first = _attach(sandbox_acme, cn_booked, name="kjop.pdf")
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    second = _attach(
        sandbox_acme, cn_booked, name="korreksjon.pdf", content=nordnet_note(number="9")
    )
    tripletex_sandbox.faults.drop_reply_after_attachment_store = 1
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    assert [p["fileName"] for p in _parts(tripletex_sandbox, cn_booked)] == [
        "kjop.pdf",
        "korreksjon.pdf",
    ]
    # The second one's baseline was the voucher's attachment with the first one on it.
    stored = _note(second)
    assert stored.baseline["size"] == _note(first).size
    assert stored.document["size"] == _note(first).size + stored.size


def test_a_refused_file_fails_with_tripletex_s_words_and_can_be_tried_again(
    cn_booked, sandbox_acme, tripletex_sandbox
):
    note = _attach(sandbox_acme, cn_booked)
    tripletex_sandbox.faults.update(
        {"fail_path": f"POST {_attachment_path(cn_booked)}", "fail_path_statuses": [422]}
    )
    assert _upload(sandbox_acme, cn_booked) == {"failed": 1}
    failed = _note(note)
    assert failed.state == State.FAILED
    assert failed.sent_at is None
    assert failed.messages[0].startswith("Tripletex refused the file.")
    with scope(company=sandbox_acme):
        contract_note_retry(company=sandbox_acme, note=failed)
    assert _upload(sandbox_acme, cn_booked) == {"uploaded": 1}
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1


def test_a_worker_that_died_mid_upload_is_finished_by_the_sweep(
    cn_booked, sandbox_acme, tripletex_sandbox, settings
):
    note = _attach(sandbox_acme, cn_booked)
    settings.BOOKING_STUCK_SECONDS = 60
    # As a worker leaves it when killed right after its send landed: claimed, stamped, stale.
    voucher_id = cn_booked.tripletex_voucher_id
    tripletex_sandbox.store.attach_to_voucher(
        HOLDING_ID,
        voucher_id,
        file_name=note.original_name,
        mime_type="application/pdf",
        content=nordnet_note(),
    )
    long_ago = timezone.now() - timedelta(minutes=10)
    with scopes_disabled():
        ContractNote.objects.filter(pk=note.pk).update(
            state=State.SENDING,
            claim_token="dead-worker",
            lease_at=long_ago,
            sent_at=long_ago,
            voucher_id=voucher_id,
            baseline=None,
        )
    assert contract_notes_stuck() == [(sandbox_acme.pk, cn_booked.pk)]
    assert _upload(sandbox_acme, cn_booked) == {"already-uploaded": 1}
    assert len(_parts(tripletex_sandbox, cn_booked)) == 1
    assert contract_notes_stuck() == []

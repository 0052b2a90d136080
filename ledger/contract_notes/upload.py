"""Uploading a contract note to its transaction's voucher exactly once.

`POST /ledger/voucher/{voucherId}/attachment` appends the file as new pages to whatever the
voucher carries (the spec's summary), and Tripletex has no idempotency key: a resend after a
lost answer would put the note on the voucher twice. So the upload follows the booking's own
protocol (ledger/booking/protocol.py):

1. **Intent first.** A note waiting for its voucher is *pending*; the booking (or attaching a
   note to a booked transaction) queues it and enqueues the task after commit.
2. **Claim**, one note of a transaction at a time (the transaction's row is locked while the claim
   is taken, and a note with an unsettled send goes before any other): uploads to one voucher
   never overlap, so what the voucher shows can be read as the answer to ours.
3. **Look before sending.** The voucher's attachment is read (`GET /ledger/voucher/{id}`,
   `attachment(id,version,fileName,size,mimeType)`) and kept as the note's *baseline* before its
   first send. The client calls back right before each HTTP send, and each call stamps `sent_at`
   (committed at once, conditional on the claim).
4. **After an unclear answer** (timeout, dropped connection, 5xx) the voucher is read again: an
   attachment that differs from the baseline (a new document, or a larger or newer one) means
   ours landed. If it does not differ, nothing is sent again before the booking's settle
   deadline (`sent_at` + connect + read timeout + BOOKING_SETTLE_SECONDS); after it, the voucher
   is read once more and only then is the file sent again.

A person who adds a file to the same voucher in Tripletex while our upload is unsettled would
look like ours; that is the one case this cannot tell apart (the document's pages are not
readable through the API we use), and it errs towards never sending twice.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company
from ledger.booking.protocol import ClaimLost, settle_deadline, settle_seconds, stuck_seconds
from ledger.models import ContractNote, Transaction
from tripletex.client import TripletexClient
from tripletex.errors import (
    TripletexAuthError,
    TripletexError,
    TripletexForbidden,
    TripletexNotFound,
    TripletexOutcomeUnknown,
    TripletexRateLimited,
    TripletexUnavailable,
    TripletexValidationError,
)
from tripletex.schemas import VoucherAttachment

logger = logging.getLogger(__name__)

State = ContractNote.State


class UploadRetry(Exception):
    """Transient: the note is pending again; run the upload again after `countdown` seconds."""

    def __init__(self, message: str, *, countdown: float) -> None:
        super().__init__(message)
        self.countdown = max(0.0, countdown)


@dataclass
class _Run:
    """One claimed note: the row, its claim token, the voucher it goes to."""

    company: Company
    note: ContractNote
    token: str
    voucher_id: int
    client: TripletexClient | None = None
    request_ids: list[str] = field(default_factory=list)


# ---- claiming --------------------------------------------------------------------------------


def _next_note(company: Company, transaction_id: int, now: datetime) -> ContractNote | None:
    """The note to upload next: one whose send is unsettled goes first, else the oldest due
    pending one; None while another upload to the voucher is under way (a live claim)."""
    notes = ContractNote.objects.filter(company=company, transaction_id=transaction_id)
    stale = now - timedelta(seconds=stuck_seconds())
    if notes.filter(state=State.SENDING, lease_at__gte=stale).exists():
        return None
    open_ = notes.filter(Q(state=State.PENDING) | Q(state=State.SENDING, lease_at__lt=stale))
    unsettled = open_.filter(sent_at__isnull=False).order_by("pk").first()
    if unsettled is not None:
        due = unsettled.next_retry_at is None or unsettled.next_retry_at <= now
        return unsettled if due else None
    due_now = Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now)
    return open_.filter(due_now).order_by("pk").first()


def _claim(company: Company, transaction_id: int) -> _Run | None:
    """Take the next note of the transaction (pending → sending); None if none is due or free."""
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        txn = (
            Transaction.objects.select_for_update()
            .filter(company=company, pk=transaction_id)
            .values("status", "tripletex_voucher_id")
            .first()
        )
        if txn is None or txn["status"] != Transaction.Status.BOOKED:
            return None
        voucher_id = txn["tripletex_voucher_id"]
        note = _next_note(company, transaction_id, now)
        if note is None or not voucher_id or note.voucher_id not in (None, voucher_id):
            return None
        ContractNote.objects.filter(pk=note.pk).update(
            state=State.SENDING,
            claim_token=token,
            lease_at=now,
            voucher_id=voucher_id,
            attempts=F("attempts") + 1,
            next_retry_at=None,
        )
    note.refresh_from_db()
    return _Run(company=company, note=note, token=token, voucher_id=int(voucher_id))


def _mine(run: _Run) -> Q:
    return Q(pk=run.note.pk, state=State.SENDING, claim_token=run.token)


# ---- endings ---------------------------------------------------------------------------------


def _mark_uploaded(run: _Run, shown: VoucherAttachment | None, outcome: str) -> str:
    evidence = shown.as_evidence() if shown is not None else None
    # The file is on the voucher whoever holds the claim now: record it even if the lease moved.
    ContractNote.objects.filter(pk=run.note.pk, state__in=[State.SENDING, State.PENDING]).update(
        state=State.UPLOADED,
        document=evidence,
        uploaded_at=timezone.now(),
        claim_token="",
        messages=[],
        next_retry_at=None,
        request_ids=run.request_ids,
    )
    logger.info("Contract note %s on voucher %s (%s)", run.note.pk, run.voucher_id, outcome)
    return outcome


def _mark_failed(run: _Run, messages: list[str]) -> str:
    ContractNote.objects.filter(_mine(run)).update(
        state=State.FAILED, messages=messages, claim_token="", request_ids=run.request_ids
    )
    return "failed"


def _release(run: _Run, message: str, *, countdown: float) -> UploadRetry:
    """Back to pending for a later run; returns the UploadRetry to raise."""
    ContractNote.objects.filter(_mine(run)).update(
        state=State.PENDING,
        messages=[message],
        claim_token="",
        next_retry_at=timezone.now() + timedelta(seconds=countdown),
        request_ids=run.request_ids,
    )
    return UploadRetry(message, countdown=countdown)


# ---- the protocol ----------------------------------------------------------------------------


def _landed(baseline: Any, shown: VoucherAttachment | None) -> bool:
    """True if the voucher's attachment differs from what it was before our first send."""
    if shown is None:
        return False
    if not isinstance(baseline, dict):
        return True  # the voucher had no attachment before: this one is ours
    before = (baseline.get("id"), baseline.get("version"), baseline.get("size"))
    return before != (shown.id, shown.version, shown.size)


def _deadline(run: _Run, sent: datetime) -> datetime:
    assert run.client is not None
    return settle_deadline(sent, timeout=run.client.timeout, settle=settle_seconds())


def _stamp_send(run: _Run) -> None:
    """Called by the client right before each HTTP send: stamp `sent_at` (committed at once),
    or stop the send if the claim is gone."""
    now = timezone.now()
    if not ContractNote.objects.filter(_mine(run)).update(sent_at=now, lease_at=now):
        raise ClaimLost


def _restore_sent(run: _Run, value: datetime | None) -> None:
    """The send was refused before anything happened (429, no connection): as if never sent."""
    ContractNote.objects.filter(_mine(run)).update(sent_at=value)


def _read_content(run: _Run) -> bytes:
    with run.note.file.open("rb") as handle:
        return handle.read()


def _protocol(run: _Run) -> str:
    note = run.note
    client = run.client
    assert client is not None
    shown = client.voucher_attachment(run.voucher_id)
    sent_before = note.sent_at
    if sent_before is not None:
        # An earlier send may have landed: never send again before knowing.
        if _landed(note.baseline, shown):
            return _mark_uploaded(run, shown, "already-uploaded")
        wait = (_deadline(run, sent_before) - timezone.now()).total_seconds()
        if wait > 0:
            raise _release(
                run,
                _("Checking whether Tripletex stored the contract note; looking again shortly."),
                countdown=wait,
            )
    else:
        baseline = shown.as_evidence() if shown is not None else None
        ContractNote.objects.filter(_mine(run)).update(baseline=baseline)
        note.baseline = baseline
    content = _read_content(run)
    if not ContractNote.objects.filter(_mine(run)).update(lease_at=timezone.now()):
        return "lost-claim"
    try:
        answered = client.voucher_attachment_upload(
            run.voucher_id,
            file_name=note.original_name,
            content=content,
            content_type=note.content_type,
            on_send=lambda: _stamp_send(run),
        )
    except ClaimLost:
        return "lost-claim"
    except TripletexValidationError as exc:
        run.request_ids.append(exc.request_id or "")
        _restore_sent(run, sent_before)
        return _mark_failed(run, [_refused_message(exc)])
    except TripletexRateLimited as exc:
        run.request_ids.append(exc.request_id or "")
        _restore_sent(run, sent_before)
        raise _release(
            run, _("Tripletex is busy (rate limit); will retry."), countdown=30
        ) from None
    except TripletexOutcomeUnknown as exc:
        run.request_ids.append(exc.request_id or "")
        return _after_unknown(run, exc)
    except TripletexUnavailable as exc:
        # The connection never opened (the client's own verdict): nothing reached Tripletex.
        run.request_ids.append(exc.request_id or "")
        _restore_sent(run, sent_before)
        raise _release(
            run, _("Tripletex could not be reached; will retry."), countdown=10
        ) from None
    if answered is None or answered.size is None:
        # The answer shows the voucher with its attachment as a reference only: read it whole.
        with contextlib.suppress(TripletexError):
            answered = client.voucher_attachment(run.voucher_id) or answered
    return _mark_uploaded(run, answered, "uploaded")


def _after_unknown(run: _Run, exc: TripletexError) -> str:
    """The upload may have landed: look again; never send again on a fresh "not there"."""
    logger.warning("Contract note %s: unclear outcome (%s)", run.note.pk, exc)
    try:
        shown = run.client.voucher_attachment(run.voucher_id) if run.client else None
    except TripletexUnavailable:
        shown = None
    else:
        if _landed(run.note.baseline, shown):
            return _mark_uploaded(run, shown, "uploaded")
    stamp = (
        ContractNote.objects.filter(pk=run.note.pk).values_list("sent_at", flat=True).first()
        or timezone.now()
    )
    raise _release(
        run,
        _("Tripletex did not confirm the contract note; checking again before anything is resent."),
        countdown=(_deadline(run, stamp) - timezone.now()).total_seconds(),
    )


def _refused_message(exc: TripletexValidationError) -> str:
    details = " ".join(exc.messages)
    text = _("Tripletex refused the file.")
    return f"{text} {details}".strip()


def _run_claimed(run: _Run) -> str:
    """The protocol for a claimed note, every error turned into an ending."""
    try:
        run.client = tripletex_client_for(run.company)
    except ConnectionUnavailable as exc:
        return _mark_failed(run, [str(exc)])
    try:
        return _protocol(run)
    except TripletexNotFound as exc:
        run.request_ids.append(exc.request_id or "")
        return _mark_failed(
            run,
            [
                _(
                    "The voucher is no longer in Tripletex (deleted there?). Check the "
                    "transaction in Tripletex; the contract note is attached when it is booked "
                    "again."
                )
            ],
        )
    except TripletexAuthError as exc:
        run.request_ids.append(exc.request_id or "")
        return _mark_failed(
            run,
            [_("Tripletex no longer accepts the company's API key. Ask staff to reconnect it.")],
        )
    except TripletexForbidden as exc:
        run.request_ids.append(exc.request_id or "")
        return _mark_failed(
            run,
            [
                _(
                    "Tripletex refused: the company's API key may not add attachments to "
                    "vouchers. Give the key's user access to vouchers in Tripletex, then try again."
                )
            ],
        )
    except TripletexUnavailable as exc:
        run.request_ids.append(exc.request_id or "")
        raise _release(run, _("Tripletex did not answer; will retry."), countdown=15) from None
    except TripletexError as exc:
        run.request_ids.append(exc.request_id or "")
        raise _release(
            run, _("Unexpected answer from Tripletex; will retry."), countdown=60
        ) from None


def contract_notes_upload(*, company: Company, transaction_id: int) -> dict[str, int]:
    """Upload the transaction's pending notes to its voucher, one at a time; counts per outcome.
    Raises UploadRetry when one must wait (the rest wait behind it)."""
    outcomes: dict[str, int] = {}
    while (run := _claim(company, transaction_id)) is not None:
        outcome = _run_claimed(run)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == "lost-claim":
            break
    return outcomes


def contract_notes_mark_failed(*, company: Company, transaction_id: int, reason: str) -> None:
    """Retries are used up: the pending notes need a person (trying again looks first)."""
    ContractNote.objects.filter(
        company=company, transaction_id=transaction_id, state=State.PENDING
    ).update(state=State.FAILED, messages=[reason], next_retry_at=None)


def contract_notes_stuck() -> list[tuple[int, int]]:
    """(company id, transaction id) of booked transactions with a note whose upload was left
    unfinished: claimed by a worker that died (old lease), or pending and due for longer than
    BOOKING_STUCK_SECONDS after the booking (its task was lost)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=stuck_seconds())
    with scopes_disabled():
        rows = (
            ContractNote.objects.filter(
                transaction__status=Transaction.Status.BOOKED,
                transaction__tripletex_voucher_id__isnull=False,
            )
            .filter(
                Q(state=State.SENDING, lease_at__lt=cutoff)
                | Q(state=State.PENDING, transaction__booked_at__lt=cutoff)
                & (Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=cutoff))
            )
            .values_list("company_id", "transaction_id")
            .distinct()
        )
        return [(c, t) for c, t in rows if t is not None]

"""Contract notes in: attached on a transaction's page, dropped many at once and matched, assigned
by hand, removed; and queued for upload once the transaction's voucher exists.

The upload itself (exactly once, the voucher looked at before any retry) is upload.py, run by a
Celery task that these services enqueue by name through ledger/queue.py after commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from companies.models import Company, User
from ledger import queue
from ledger.contract_notes.files import CheckedFile, ContractNoteFileError, contract_note_read
from ledger.contract_notes.matching import note_facts, note_match
from ledger.models import ContractNote, Transaction

logger = logging.getLogger(__name__)

State = ContractNote.State
# More files than this in one drop are refused as a whole (Django itself stops a request with
# more than DATA_UPLOAD_MAX_NUMBER_FILES, 100 by default).
MAX_FILES_PER_DROP = 100


class ContractNoteError(Exception):
    """The request cannot be done as asked; the message says why (nothing was changed)."""


@dataclass
class DropOutcome:
    """What became of one dropped file: `note` matched (`note.transaction` set) or left
    unmatched (with `candidates`), or `refused` with the reason and nothing stored."""

    name: str
    note: ContractNote | None = None
    refused: str = ""
    duplicate: bool = False
    candidates: list[Transaction] = field(default_factory=list)


# ---- reading ---------------------------------------------------------------------------------


def contract_notes_of(*, company: Company, txn: Transaction) -> list[ContractNote]:
    """The transaction's contract notes, oldest first."""
    return list(ContractNote.objects.filter(company=company, transaction=txn).order_by("pk"))


def contract_notes_unassigned(*, company: Company) -> QuerySet[ContractNote]:
    """The company's contract notes that belong to no transaction yet, oldest first."""
    return ContractNote.objects.filter(company=company, transaction__isnull=True).order_by("pk")


def transactions_to_assign(*, company: Company, limit: int = 300) -> list[Transaction]:
    """The securities transactions a contract note can be given to, newest first."""
    rows = Transaction.objects.filter(company=company).exclude(kind=Transaction.Kind.JOURNAL)
    return list(rows.order_by("-trade_date", "-pk")[:limit])


def max_bytes() -> int:
    """The largest contract note file taken (CONTRACT_NOTE_MAX_BYTES)."""
    return int(settings.CONTRACT_NOTE_MAX_BYTES)


def contract_note_get(*, company: Company, pk: int) -> ContractNote:
    """One contract note of the company (ContractNote.DoesNotExist otherwise)."""
    return ContractNote.objects.select_related("transaction").get(company=company, pk=pk)


def contract_note_content(*, company: Company, note: ContractNote) -> bytes:
    """The stored file's bytes (the note must be the company's)."""
    if note.company_id != company.pk:
        raise ContractNote.DoesNotExist
    with note.file.open("rb") as handle:
        return handle.read()


# ---- writing ---------------------------------------------------------------------------------


def contract_note_attach(
    *, company: Company, txn: Transaction, upload: UploadedFile, by: User | None
) -> ContractNote:
    """Keep the file as the transaction's contract note (uploaded to its voucher now if it is
    booked, else once it is). Raises ContractNoteError with the reason; nothing is kept then."""
    if txn.company_id != company.pk or txn.is_journal:
        raise ContractNoteError(_("A contract note belongs to a securities transaction."))
    try:
        checked = contract_note_read(upload)
    except ContractNoteFileError as exc:
        raise ContractNoteError(str(exc)) from None
    if existing := _existing(company, checked):
        raise ContractNoteError(_duplicate_message(checked.name, existing))
    facts = note_facts(text=checked.text, file_name=checked.name)
    number = txn.contract_note_number or (facts.numbers[0] if facts.numbers else "")
    note = _store(company, checked, txn=txn, how=ContractNote.Match.PAGE, by=by, number=number)
    if note is None:
        raise ContractNoteError(_duplicate_message(checked.name, _existing(company, checked)))
    return note


def contract_notes_drop(
    *, company: Company, uploads: Iterable[UploadedFile], by: User | None
) -> list[DropOutcome]:
    """Keep each dropped file that passes the checks and match it to a transaction (by contract
    note number, else date, instrument and amount); one outcome per file, in order."""
    files = list(uploads)
    if len(files) > MAX_FILES_PER_DROP:
        raise ContractNoteError(
            _("Drop at most %(count)s files at a time.") % {"count": MAX_FILES_PER_DROP}
        )
    return [_drop_one(company, upload, by) for upload in files]


def _drop_one(company: Company, upload: UploadedFile, by: User | None) -> DropOutcome:
    try:
        checked = contract_note_read(upload)
    except ContractNoteFileError as exc:
        return DropOutcome(name=upload.name or "", refused=str(exc))
    if existing := _existing(company, checked):
        return DropOutcome(name=checked.name, note=existing, duplicate=True)
    facts = note_facts(text=checked.text, file_name=checked.name)
    match = note_match(company=company, facts=facts)
    note = _store(
        company,
        checked,
        txn=match.transaction,
        how=match.how,
        by=by,
        number=facts.numbers[0] if facts.numbers else "",
    )
    if note is None:  # the same file dropped twice at the same moment
        return DropOutcome(name=checked.name, note=_existing(company, checked), duplicate=True)
    return DropOutcome(name=checked.name, note=note, candidates=match.candidates)


def contract_note_assign(
    *, company: Company, note: ContractNote, txn: Transaction, by: User | None
) -> ContractNote:
    """Give an unassigned note to a transaction (by hand). Raises ContractNoteError."""
    if txn.company_id != company.pk or txn.is_journal:
        raise ContractNoteError(_("A contract note belongs to a securities transaction."))
    with transaction.atomic():
        assigned = ContractNote.objects.filter(
            company=company, pk=note.pk, transaction__isnull=True
        ).update(transaction=txn, matched_by=ContractNote.Match.HAND, state=State.PENDING)
        if not assigned:
            raise ContractNoteError(_("This contract note already belongs to a transaction."))
        _queue_if_booked(company, txn)
    note.refresh_from_db()
    return note


def contract_note_remove(*, company: Company, note: ContractNote) -> None:
    """Delete a note that was never sent to Tripletex, and its file. Raises ContractNoteError."""
    with transaction.atomic():
        removed, _counts = (
            ContractNote.objects.filter(company=company, pk=note.pk, sent_at__isnull=True)
            .exclude(state=State.SENDING)
            .delete()
        )
        if not removed:
            raise ContractNoteError(
                _(
                    "This contract note has been sent to Tripletex, so it stays here as the "
                    "record of what the voucher carries."
                )
            )
        name = note.file.name
        storage = note.file.storage
        transaction.on_commit(lambda: storage.delete(name))


def contract_note_retry(*, company: Company, note: ContractNote) -> ContractNote:
    """Try a failed upload again (the voucher is looked at first). Raises ContractNoteError."""
    with transaction.atomic():
        txn = note.transaction
        if txn is None or txn.status != Transaction.Status.BOOKED or not txn.tripletex_voucher_id:
            raise ContractNoteError(
                _("The contract note is attached once the transaction is booked.")
            )
        # Its send stamp and baseline stay: the voucher is looked at before anything is sent.
        again = ContractNote.objects.filter(company=company, pk=note.pk, state=State.FAILED).update(
            state=State.PENDING, messages=[], next_retry_at=None, attempts=0
        )
        if not again:
            raise ContractNoteError(_("Only an upload that failed can be tried again."))
        _queue_if_booked(company, txn)
    note.refresh_from_db()
    return note


def contract_notes_voucher_ready(*, company: Company, transaction_id: int, voucher_id: int) -> int:
    """The transaction's voucher exists (just booked, or a note was added to a booked one):
    queue its notes for upload to that voucher, after commit; how many are pending.

    A note meant for an earlier voucher (reversed or deleted since) starts over for this one; a
    note already under way for this voucher keeps its state (its baseline and send stamp), and
    one that failed for it waits for a person to try again."""
    ContractNote.objects.filter(company=company, transaction_id=transaction_id).exclude(
        state=State.SENDING
    ).filter(Q(voucher_id__isnull=True) | ~Q(voucher_id=voucher_id)).update(
        state=State.PENDING,
        voucher_id=voucher_id,
        baseline=None,
        document=None,
        sent_at=None,
        next_retry_at=None,
        attempts=0,
        messages=[],
    )
    pending = ContractNote.objects.filter(
        company=company, transaction_id=transaction_id, state=State.PENDING
    ).count()
    if pending:
        _enqueue_on_commit(company.pk, transaction_id)
    return pending


# ---- helpers ---------------------------------------------------------------------------------


def _existing(company: Company, checked: CheckedFile) -> ContractNote | None:
    return (
        ContractNote.objects.filter(company=company, sha256=checked.sha256)
        .select_related("transaction")
        .first()
    )


def _duplicate_message(name: str, existing: ContractNote | None) -> str:
    if existing is not None and existing.transaction is not None:
        return _(
            "“%(name)s” is already here, as the contract note of transaction no. %(number)s."
        ) % {"name": name, "number": existing.transaction_id}
    return _("“%(name)s” is already here, among the contract notes to assign.") % {"name": name}


def _store(
    company: Company,
    checked: CheckedFile,
    *,
    txn: Transaction | None,
    how: str,
    by: User | None,
    number: str = "",
) -> ContractNote | None:
    """Write the file and its row; None (nothing kept) if the same file was stored meanwhile."""
    note = ContractNote(
        company=company,
        transaction=txn,
        original_name=checked.name,
        size=len(checked.content),
        sha256=checked.sha256,
        content_type=checked.content_type,
        contract_note_number=(number or (txn.contract_note_number if txn else ""))[:40],
        matched_by=how if txn is not None else "",
        uploaded_by=by,
    )
    # The person's name never reaches the disk: a random name in the company's folder.
    note.file.save(
        f"{uuid.uuid4().hex}{checked.extension}", ContentFile(checked.content), save=False
    )
    try:
        with transaction.atomic():
            note.save()
            if txn is not None:
                _queue_if_booked(company, txn)
    except IntegrityError:
        note.file.storage.delete(note.file.name)
        return None
    except BaseException:
        note.file.storage.delete(note.file.name)
        raise
    return note


def _queue_if_booked(company: Company, txn: Transaction) -> None:
    """Inside the caller's transaction: if the voucher exists, queue the upload on commit."""
    current = Transaction.objects.filter(company=company, pk=txn.pk).values_list(
        "status", "tripletex_voucher_id"
    )
    status, voucher_id = current.get()
    if status == Transaction.Status.BOOKED and voucher_id:
        contract_notes_voucher_ready(company=company, transaction_id=txn.pk, voucher_id=voucher_id)


def _enqueue_on_commit(company_id: int, transaction_id: int) -> None:
    """Send the upload task once committed; a broker that is away leaves the notes pending for
    the beat sweep (contract_notes_resolve_task) instead of failing the request."""

    def send() -> None:
        try:
            queue.enqueue(
                queue.UPLOAD_CONTRACT_NOTES, company_id=company_id, transaction_id=transaction_id
            )
        except OperationalError as exc:
            logger.warning(
                "Broker unavailable; contract notes of transaction %s wait for the sweep: %s",
                transaction_id,
                exc,
            )

    transaction.on_commit(send)


# ---- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class NoteRow:
    """One contract note as a transaction's page shows it: where its upload stands."""

    note: ContractNote
    label: str
    badge: str  # ok, warn, bad or "" (the badge classes of the transaction pages)
    is_attached: bool


def contract_note_rows(*, company: Company, txn: Transaction) -> list[NoteRow]:
    """The transaction's contract notes with their upload state in words."""
    return [_row(note, txn) for note in contract_notes_of(company=company, txn=txn)]


def _row(note: ContractNote, txn: Transaction) -> NoteRow:
    on_voucher = note.voucher_id is not None and note.voucher_id == txn.tripletex_voucher_id
    if note.state == State.UPLOADED and on_voucher:
        return NoteRow(note, _("Attached to the voucher"), "ok", True)
    if note.state == State.UPLOADED:
        return NoteRow(note, _("Attached to an earlier voucher"), "", False)
    if note.state == State.FAILED:
        return NoteRow(note, _("Could not be attached"), "bad", False)
    if note.state == State.SENDING:
        return NoteRow(note, _("Being attached…"), "warn", False)
    if txn.status == Transaction.Status.BOOKED:
        return NoteRow(note, _("Waiting to be attached"), "warn", False)
    return NoteRow(note, _("Attached when the transaction is booked"), "", False)

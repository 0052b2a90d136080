"""Contract note pages: attach one on a transaction's page, drop many at once and assign those that
matched nothing, download one (the only way a stored file leaves us), remove one never sent, and
try a failed upload again. Under /c/<company_slug>/transaksjoner/ (ledger/contract_notes/urls.py);
the tenancy middleware answers an outsider 404 before these views run, and each view looks its
row up within request.company, so another company's id is the same 404 as an unknown one."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.models import Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.contract_notes import services as svc
from ledger.contract_notes.files import file_size_text
from ledger.models import ContractNote, Transaction
from ledger.transactions.views import transaction_or_404, transaction_url

ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


def _note_or_404(request: CompanyRequest, note_id: int) -> ContractNote:
    try:
        return svc.contract_note_get(company=request.company, pk=note_id)
    except ContractNote.DoesNotExist:
        raise Http404("No such contract note.") from None


def _page_url(request: CompanyRequest) -> str:
    return reverse("ledger:contract_notes", kwargs={"company_slug": request.company.slug})


def _back(request: CompanyRequest, note: ContractNote) -> str:
    """Where an action on a note returns: its transaction's page, else the contract notes page."""
    if note.transaction is not None:
        return transaction_url(request, note.transaction)
    return _page_url(request)


@company_role_required(Role.FINANCE)
@require_POST
def transaction_contract_note(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Attach a contract note to the transaction (onto its voucher now, or once it is booked)."""
    txn = transaction_or_404(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the contract note's file first."))
        return redirect(transaction_url(request, txn))
    try:
        note = svc.contract_note_attach(
            company=request.company, txn=txn, upload=upload, by=request.user
        )
    except svc.ContractNoteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _attached_message(note, txn))
    return redirect(transaction_url(request, txn))


def _attached_message(note: ContractNote, txn: Transaction) -> str:
    if txn.status == Transaction.Status.BOOKED:
        return _("“%(name)s” is kept and goes onto the voucher in Tripletex now.") % {
            "name": note.original_name
        }
    return _("“%(name)s” is kept and goes onto the voucher when the transaction is booked.") % {
        "name": note.original_name
    }


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def contract_notes(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Drop many contract notes at once: each is matched to its transaction or listed to assign."""
    outcomes: list[svc.DropOutcome] = []
    if request.method == "POST":
        files = request.FILES.getlist("files")
        if not files:
            messages.error(request, _("Choose one or more contract notes first."))
        else:
            try:
                outcomes = svc.contract_notes_drop(
                    company=request.company, uploads=files, by=request.user
                )
            except svc.ContractNoteError as exc:
                messages.error(request, str(exc))
    # The transactions that nearly fit a file just dropped, offered first when assigning it.
    candidates = {o.note.pk: o.candidates for o in outcomes if o.note and o.candidates}
    context = {
        "outcomes": outcomes,
        "summary": drop_summary(outcomes) if outcomes else "",
        "matched": [o for o in outcomes if o.note and o.note.transaction and not o.duplicate],
        "unmatched": [o for o in outcomes if o.note and not o.note.transaction and not o.duplicate],
        "refused": [o for o in outcomes if o.refused],
        "duplicates": [o for o in outcomes if o.duplicate],
        "unassigned": [
            (note, candidates.get(note.pk, []))
            for note in svc.contract_notes_unassigned(company=request.company)
        ],
        "assignable": svc.transactions_to_assign(company=request.company),
        "accept": ACCEPT,
        "max_size": file_size_text(svc.max_bytes()),
        "max_files": svc.MAX_FILES_PER_DROP,
    }
    return render(request, "ledger/contract_notes/page.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def contract_note_file(request: CompanyRequest, company_slug: str, note_id: int) -> HttpResponse:
    """The stored file itself, shown in the browser (PDF viewer or image)."""
    note = _note_or_404(request, note_id)
    try:
        content = svc.contract_note_content(company=request.company, note=note)
    except (ContractNote.DoesNotExist, FileNotFoundError):
        raise Http404("The contract note's file is missing.") from None
    response = HttpResponse(content, content_type=note.content_type)
    response["Content-Disposition"] = _disposition(note.original_name)
    # Never kept by a shared cache or the browser's disk cache between users.
    response["Cache-Control"] = "private, no-store"
    return response


def _disposition(name: str) -> str:
    """inline; filename="…" with an ASCII fallback and the real name (RFC 6266, RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@company_role_required(Role.FINANCE)
@require_POST
def contract_note_assign(request: CompanyRequest, company_slug: str, note_id: int) -> HttpResponse:
    """Give an unassigned contract note to the transaction chosen."""
    note = _note_or_404(request, note_id)
    raw = request.POST.get("transaction", "")
    try:
        txn = Transaction.objects.get(company=request.company, pk=int(raw))
    except (ValueError, Transaction.DoesNotExist):
        messages.error(request, _("Choose the transaction the contract note belongs to."))
        return redirect(_page_url(request))
    try:
        svc.contract_note_assign(company=request.company, note=note, txn=txn, by=request.user)
    except svc.ContractNoteError as exc:
        messages.error(request, str(exc))
        return redirect(_page_url(request))
    messages.success(
        request,
        _("“%(name)s” now belongs to this transaction.") % {"name": note.original_name},
    )
    return redirect(transaction_url(request, txn))


@company_role_required(Role.FINANCE)
@require_POST
def contract_note_remove(request: CompanyRequest, company_slug: str, note_id: int) -> HttpResponse:
    """Remove a contract note that was never sent to Tripletex."""
    note = _note_or_404(request, note_id)
    back = _back(request, note)
    try:
        svc.contract_note_remove(company=request.company, note=note)
    except svc.ContractNoteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("“%(name)s” is removed.") % {"name": note.original_name})
    return redirect(back)


@company_role_required(Role.FINANCE)
@require_POST
def contract_note_retry(request: CompanyRequest, company_slug: str, note_id: int) -> HttpResponse:
    """Try a failed upload again (the voucher is looked at first)."""
    note = _note_or_404(request, note_id)
    try:
        svc.contract_note_retry(company=request.company, note=note)
    except svc.ContractNoteError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The contract note is being attached again."))
    return redirect(_back(request, note))


def drop_summary(outcomes: list[svc.DropOutcome]) -> str:
    """'3 of 4 files matched a transaction' (for the page's heading)."""
    matched = sum(1 for o in outcomes if o.note and o.note.transaction and not o.duplicate)
    return ngettext(
        "%(matched)s of %(count)s file matched a transaction.",
        "%(matched)s of %(count)s files matched a transaction.",
        len(outcomes),
    ) % {"matched": matched, "count": len(outcomes)}

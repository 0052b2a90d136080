"""The inbox pages (finance and admin): upload a broker file, check its rows grouped per broker
account with the voucher each would become, fix or leave out rows, accept or discard the batch.
Thin views: ledger/imports/inbox.py checks and saves, ledger/imports/inbox_pages.py reads."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from companies.models import Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.imports import inbox as svc
from ledger.imports.forms import FileImportForm
from ledger.imports.inbox_pages import NOT_ON_THE_FORM, batch_page, row_form_initial, row_problems
from ledger.models import ImportBatch, InboxRow
from ledger.transactions.forms import SecuritiesForm


def _batch_or_404(request: CompanyRequest, batch_id: int) -> ImportBatch:
    try:
        return ImportBatch.objects.get(company=request.company, pk=batch_id)
    except ImportBatch.DoesNotExist:
        raise Http404("No such import.") from None


def _row_or_404(request: CompanyRequest, row_id: int) -> InboxRow:
    try:
        return InboxRow.objects.select_related("batch", "broker_account").get(
            company=request.company, pk=row_id
        )
    except InboxRow.DoesNotExist:
        raise Http404("No such row.") from None


def _batch_url(request: CompanyRequest, batch_id: int, anchor: str = "") -> str:
    url = reverse(
        "ledger:inbox_batch", kwargs={"company_slug": request.company.slug, "batch_id": batch_id}
    )
    back = request.POST.get("page") or request.GET.get("page")
    if back and back.isdigit():
        url += f"?page={back}"
    return url + (f"#{anchor}" if anchor else "")


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def inbox(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The files waiting to be checked, and the upload of another."""
    form = FileImportForm(request.POST or None, request.FILES or None, company=request.company)
    upload = None
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        upload = svc.inbox_upload(
            company=request.company,
            content=file.read(),
            file_name=file.name or "",
            by=request.user,
            account=form.cleaned_data["account"],
        )
        if upload.ok and upload.batch is not None:
            counts = svc.counts_message(new=upload.new, already=upload.already)
            messages.success(request, f"{upload.format_label}: {counts}.")
            return redirect(_batch_url(request, upload.batch.pk))
    context = {
        "form": form,
        "upload": upload,
        "batches": svc.batches_open(company=request.company),
        "recent": svc.batches_recent(company=request.company),
        "page_error": bool(upload and not upload.ok),  # a file with bad rows: "Feil: " in the title
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "ledger/imports/inbox.html", context, status=status)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET"])
def inbox_batch(request: CompanyRequest, company_slug: str, batch_id: int) -> HttpResponse:
    """One file's rows to check, grouped per broker account, a page at a time."""
    batch = _batch_or_404(request, batch_id)
    context = batch_page(
        company=request.company,
        batch=batch,
        page=request.GET.get("page", ""),
        only_problems=request.GET.get("vis") == "problemer",
    )
    return render(request, "ledger/imports/inbox_batch.html", context)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def inbox_row(request: CompanyRequest, company_slug: str, row_id: int) -> HttpResponse:
    """Correct one row with the transaction form's own validation."""
    row = _row_or_404(request, row_id)
    if row.transaction_id is not None or not row.batch.is_open or row.kind in NOT_ON_THE_FORM:
        messages.error(request, _("This row cannot be changed here."))
        return redirect(_batch_url(request, row.batch_id, f"row-{row.pk}"))
    form = SecuritiesForm(request.POST or None, initial=row_form_initial(row))
    if request.method == "POST" and form.is_valid():
        try:
            svc.row_update(company=request.company, row=row, form_data=dict(form.cleaned_data))
        except svc.BatchClosed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Row changed; the file was checked again."))
        return redirect(_batch_url(request, row.batch_id, f"row-{row.pk}"))
    context = {
        "form": form,
        "row": row,
        "problems": row_problems(company=request.company, row=row),
        "page": request.GET.get("page", ""),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "ledger/imports/inbox_row.html", context, status=status)


@company_role_required(Role.FINANCE)
@require_POST
def inbox_row_exclude(request: CompanyRequest, company_slug: str, row_id: int) -> HttpResponse:
    """Leave a row out (excluded=1) or take it back in (excluded=0)."""
    row = _row_or_404(request, row_id)
    try:
        svc.row_exclude(
            company=request.company, row=row, excluded=request.POST.get("excluded") == "1"
        )
    except svc.BatchClosed as exc:
        messages.error(request, str(exc))
    return redirect(_batch_url(request, row.batch_id, f"row-{row.pk}"))


@company_role_required(Role.FINANCE)
@require_POST
def inbox_accept(request: CompanyRequest, company_slug: str, batch_id: int) -> HttpResponse:
    """Save every row not left out as ready to book, or none."""
    batch = _batch_or_404(request, batch_id)
    accepted = svc.batch_accept(company=request.company, batch=batch, by=request.user)
    if not accepted.ok:
        messages.error(request, accepted.refused)
        return redirect(_batch_url(request, batch.pk))
    messages.success(
        request,
        _("%(n)s transaction(s) saved as ready to book. Check them and book them to Tripletex.")
        % {"n": accepted.created},
    )
    return redirect("ledger:transactions", company_slug=request.company.slug)


@company_role_required(Role.FINANCE)
@require_POST
def inbox_isin(request: CompanyRequest, company_slug: str, batch_id: int) -> HttpResponse:
    """Give the ISIN of an instrument known by ticker and MIC once: every row of it is filled and
    the ISIN is remembered for later files."""
    batch = _batch_or_404(request, batch_id)
    ref = request.POST.get("instrument_ref", "").strip()
    try:
        filled = svc.instrument_isin_set(
            company=request.company,
            batch=batch,
            instrument_ref=ref,
            isin=request.POST.get("isin", ""),
            by=request.user,
        )
    except (svc.BatchClosed, svc.IsinRefused) as exc:
        messages.error(request, str(exc))
        return redirect(_batch_url(request, batch.pk, "missing-isins"))
    messages.success(
        request,
        _("ISIN saved for %(ref)s: %(n)s row(s) filled, and it is remembered for later files.")
        % {"ref": ref, "n": filled},
    )
    return redirect(_batch_url(request, batch.pk))


@company_role_required(Role.FINANCE)
@require_POST
def inbox_discard(request: CompanyRequest, company_slug: str, batch_id: int) -> HttpResponse:
    """Throw the file's rows away; nothing of it is saved."""
    batch = _batch_or_404(request, batch_id)
    try:
        svc.batch_discard(company=request.company, batch=batch, by=request.user)
    except svc.BatchClosed as exc:
        messages.error(request, str(exc))
        return redirect(_batch_url(request, batch.pk))
    messages.success(request, _("The file was discarded; nothing of it was saved."))
    return redirect("ledger:inbox", company_slug=request.company.slug)

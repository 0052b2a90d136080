"""Transaction pages: list, record, edit, preview, delete, import, and GL account settings.
Views are thin: parse, check role, one service/selector, render. Booking, live status, reversal and
the Tripletex check are in ledger/booking/views.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Role
from companies.redirects import safe_next_url
from companies.tenancy import CompanyRequest, company_role_required
from ledger.contract_notes.services import contract_note_rows
from ledger.imports.accounts import paid_through_text
from ledger.models import GLAccountSettings, Transaction
from ledger.transactions import checks
from ledger.transactions import services as svc
from ledger.transactions.csv_import import transactions_import
from ledger.transactions.forms import (
    GLSettingsForm,
    ImportForm,
    JournalForm,
    JournalLineFormSet,
    ReverseForm,
    SecuritiesForm,
)
from ledger.transactions.vouchers import (
    ChartAccount,
    chart_fetch,
    chart_known,
    gl_settings_check,
    gl_settings_confirm,
    gl_settings_get,
    gl_settings_propose,
    voucher_preview,
)
from tripletex.errors import TripletexError


def transaction_or_404(request: CompanyRequest, pk: int) -> Transaction:
    """The company's transaction `pk`; another company's id is the same 404 as an unknown one."""
    try:
        return svc.transaction_get(company=request.company, pk=pk)
    except Transaction.DoesNotExist:
        raise Http404("No such transaction.") from None


def transaction_url(request: CompanyRequest, txn: Transaction) -> str:
    """The transaction's detail page."""
    return reverse(
        "ledger:transaction_detail", kwargs={"company_slug": request.company.slug, "pk": txn.pk}
    )


def transactions_url(request: CompanyRequest) -> str:
    """The company's transaction list."""
    return reverse("ledger:transactions", kwargs={"company_slug": request.company.slug})


def _can_book(request: CompanyRequest) -> bool:
    return request.membership.has_role(Role.FINANCE)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def transactions(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The company's transactions with their booking status (live while booking)."""
    status = request.GET.get("status", "")
    rows = svc.transactions_list(company=request.company, status=status).prefetch_related("lines")[
        :500
    ]
    needs_correction = checks.rows_needing_correction(company=request.company, rows=rows)
    context = {
        "rows": [
            (
                t,
                svc.status_label(t),
                svc.status_badge(t),
                svc.voucher_web_url(company=request.company, voucher_id=t.tripletex_voucher_id),
                needs_correction.get(t.pk, []),
            )
            for t in rows
        ],
        "counts": svc.transaction_counts(company=request.company),
        "status": status,
        "can_book": _can_book(request),
    }
    return render(request, "ledger/transactions/list.html", context)


def _securities_data(form: SecuritiesForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


def _reference(request: CompanyRequest, day: date | None) -> checks.Reference:
    """The firm's chart and periods for checking an entry dated `day`: refreshed from Tripletex
    when a day old, or now when the person pressed "Refresh from Tripletex" on the form."""
    return checks.reference_load(
        company=request.company,
        refresh=REFRESH_BUTTON in request.POST,
        days=[day] if day else [],
    )


# The form's own submit button that refreshes the chart and periods before saving again.
REFRESH_BUTTON = "refresh_reference"


def _saved(
    request: CompanyRequest,
    form: forms.Form,
    save: Callable[[checks.Reference], Transaction],
    success: str,
) -> HttpResponse | None:
    """Run a create/update service with the firm's chart and periods: the redirect to the saved
    transaction, or None after putting the service's problems on the form (and, in
    `form.reference_note`, why they may rest on old data)."""
    ref = _reference(request, form.cleaned_data.get("trade_date"))
    note = checks.reference_note(ref)
    try:
        txn = save(ref)
    except svc.TransactionInvalid as exc:
        for message in exc.messages:
            form.add_error(None, message)
        form.reference_note = note  # type: ignore[attr-defined]
        form.reference_synced_at = ref.synced_at  # type: ignore[attr-defined]
        return None
    messages.success(request, success)
    if note:
        messages.warning(request, note)
    return redirect(transaction_url(request, txn))


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def transaction_new(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Record a securities transaction."""
    form = SecuritiesForm(
        request.POST or None, initial={"kind": request.GET.get("type", "purchase")}
    )
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda ref: svc.transaction_create(
                company=request.company, data=_securities_data(form), by=request.user, reference=ref
            ),
            _("Saved. Check the voucher below, then book it."),
        )
        if saved is not None:
            return saved
    return render(request, "ledger/transactions/form.html", {"form": form, "txn": None})


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def journal_new(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Record a manual journal entry."""
    form = JournalForm(request.POST or None)
    lines = JournalLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = {"kind": Transaction.Kind.JOURNAL, **form.cleaned_data}
        saved = _saved(
            request,
            form,
            lambda ref: svc.transaction_create(
                company=request.company,
                data=data,
                lines=lines.lines(),
                by=request.user,
                reference=ref,
            ),
            _("Saved. Check the voucher below, then book it."),
        )
        if saved is not None:
            return saved
    context = {"form": form, "lines": lines, "txn": None}
    return render(request, "ledger/transactions/journal_form.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def transaction_detail(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """One transaction: its voucher preview, booking status and log."""
    txn = transaction_or_404(request, pk)
    ref = checks.reference_stored(company=request.company)
    context = {
        "txn": txn,
        "needs_correction": checks.row_problems(company=request.company, txn=txn, ref=ref),
        "reference_synced_at": ref.synced_at,
        "preview": voucher_preview(company=request.company, txn=txn),
        "status_label": svc.status_label(txn),
        "badge": svc.status_badge(txn),
        "voucher_url": svc.voucher_web_url(
            company=request.company, voucher_id=txn.tripletex_voucher_id
        ),
        "attempts": svc.booking_attempts(company=request.company, txn=txn)[:20],
        "reversals": txn.reversals.all(),
        "lines": txn.lines.all() if txn.is_journal else [],
        "can_book": _can_book(request),
        "reverse_form": ReverseForm(initial={"date": timezone.localdate()}),
        "contract_notes": contract_note_rows(company=request.company, txn=txn),
        "paid_through": paid_through_text(company=request.company, txn=txn),
    }
    return render(request, "ledger/transactions/detail.html", context)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def transaction_edit(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Change a transaction that is not (or no longer) in Tripletex."""
    txn = transaction_or_404(request, pk)
    if not txn.is_editable:
        messages.error(request, _("This transaction cannot be changed in its current status."))
        return redirect(transaction_url(request, txn))
    if txn.is_journal:
        return _journal_edit(request, txn)
    initial = {name: getattr(txn, name) for name in svc.SECURITIES_FIELDS}
    form = SecuritiesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda ref: svc.transaction_update(
                company=request.company, txn=txn, data=_securities_data(form), reference=ref
            ),
            _("Saved."),
        )
        if saved is not None:
            return saved
    return render(request, "ledger/transactions/form.html", {"form": form, "txn": txn})


def _journal_edit(request: CompanyRequest, txn: Transaction) -> HttpResponse:
    initial = {"trade_date": txn.trade_date, "description": txn.description, "note": txn.note}
    line_initial = [
        {name: getattr(line, name) for name in svc.LINE_FIELDS} for line in txn.lines.all()
    ]
    form = JournalForm(request.POST or None, initial=initial)
    lines = JournalLineFormSet(request.POST or None, initial=line_initial, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        saved = _saved(
            request,
            form,
            lambda ref: svc.transaction_update(
                company=request.company,
                txn=txn,
                data=form.cleaned_data,
                lines=lines.lines(),
                reference=ref,
            ),
            _("Saved."),
        )
        if saved is not None:
            return saved
    context = {"form": form, "lines": lines, "txn": txn}
    return render(request, "ledger/transactions/journal_form.html", context)


@company_role_required(Role.FINANCE)
@require_POST
def transaction_delete(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Delete a transaction that was never booked."""
    txn = transaction_or_404(request, pk)
    try:
        svc.transaction_delete(company=request.company, txn=txn)
    except svc.TransactionInvalid as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(transaction_url(request, txn))
    messages.success(request, _("Deleted."))
    return redirect(transactions_url(request))


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def transactions_import_view(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Import transactions from a CSV file (all or nothing)."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        result = transactions_import(company=request.company, content=content, by=request.user)
        note = checks.reference_note(result.reference) if result.reference else ""
        if result.ok:
            messages.success(
                request, _("Imported %(n)s transaction(s).") % {"n": len(result.created)}
            )
            if note:
                messages.warning(request, note)
            return redirect(transactions_url(request))
    context = {
        "form": form,
        "result": result,
        "reference_note": note if result is not None else "",
        "reference_synced_at": result.reference.synced_at if result and result.reference else None,
        "page_error": result is not None and not result.ok,  # "Feil: " in the title
    }
    status = 400 if result is not None and not result.ok else 200
    return render(request, "ledger/transactions/import.html", context, status=status)


@company_role_required(Role.FINANCE)
@require_POST
def transactions_refresh(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Read the firm's chart and accounting periods from Tripletex now ("Refresh from
    Tripletex" where a check refused something), then back to the page it was pressed on."""
    ref = checks.reference_refresh(company=request.company)
    if ref.refreshed:
        messages.success(
            request, _("The chart of accounts and the accounting periods were read from Tripletex.")
        )
    else:
        messages.error(
            request,
            ref.refresh_failed or _("The chart and the periods could not be read from Tripletex."),
        )
    return redirect(
        safe_next_url(request, request.POST.get("next"), fallback=transactions_url(request))
    )


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def gl_settings(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Which account each kind of posting uses: proposed from the firm's chart until a person
    confirms them by saving, and never saved with an account the chart lacks."""
    company = request.company
    gl = gl_settings_get(company=company)
    if request.method == "POST" and "check" in request.POST:
        chart = _chart_read(request)
        gl_settings_propose(company=company, gl=gl, chart=chart)
        return redirect(request.path)
    chart = chart_known(company=company)
    if request.method == "POST":
        form = GLSettingsForm(request.POST, instance=gl, chart=chart or _chart_read(request))
        if form.is_valid():
            gl_settings_confirm(company=company, gl=form.save(commit=False))
            messages.success(request, _("Account settings saved."))
            return redirect(request.path)
        chart = form.chart
    else:
        gl_settings_propose(company=company, gl=gl, chart=chart)
        form = GLSettingsForm(instance=gl, chart=chart)
    problems = gl_settings_check(company=company, gl=gl, chart=chart)
    states = dict(GLAccountSettings.RoleState.choices)
    rows = [
        (
            form[role],
            chart.get(getattr(gl, role)),
            problems[role],
            gl.role_state(role),
            states.get(gl.role_state(role), _("Not checked yet")),
        )
        for role in gl.ROLES
    ]
    return render(
        request,
        "ledger/transactions/gl_settings.html",
        {"form": form, "rows": rows, "chart": chart},
    )


def _chart_read(request: CompanyRequest) -> dict[int, ChartAccount]:
    """The firm's chart fresh from Tripletex; {} with an error message when it cannot be read."""
    try:
        return chart_fetch(company=request.company, client=tripletex_client_for(request.company))
    except (ConnectionUnavailable, TripletexError) as exc:
        messages.error(request, _("Could not read the chart from Tripletex: %(e)s") % {"e": exc})
        return {}

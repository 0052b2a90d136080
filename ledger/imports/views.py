"""The import page for every recognised format, and the broker accounts page (finance and
admin): the firm's accounts at brokers and the GL cash account of each. Thin views: forms check,
ledger/imports/service.py imports, ledger/imports/accounts.py saves accounts."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.imports import accounts as svc
from ledger.imports.base import COMPENSATION
from ledger.imports.compensation import (
    CompensationRefused,
    compensation_account_set,
    compensation_accounts,
)
from ledger.imports.forms import MAX_UPLOAD_BYTES as MAX_SNIFF_BYTES
from ledger.imports.forms import BrokerAccountForm, CompensationAccountForm, FileImportForm
from ledger.imports.registry import format_detect
from ledger.imports.service import file_import, file_import_messages
from ledger.models import BrokerAccount, InboxRow
from ledger.transactions.views import transactions_import_view, transactions_url
from ledger.transactions.vouchers import ChartAccount, chart_fetch, chart_known
from tripletex.errors import TripletexError


def _chart(request: CompanyRequest) -> dict[int, ChartAccount]:
    """The firm's chart as last synced, else fresh from Tripletex ({} with a message)."""
    chart = chart_known(company=request.company)
    if chart:
        return chart
    try:
        return chart_fetch(company=request.company, client=tripletex_client_for(request.company))
    except (ConnectionUnavailable, TripletexError) as exc:
        messages.error(request, _("Could not read the chart from Tripletex: %(e)s") % {"e": exc})
        return {}


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def file_import_view(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Import a Nordnet or DNB export (here) or our own CSV layout (its own page, which this one
    hands the request to), the format detected from the content; all new rows, or none."""
    upload = request.FILES.get("file")
    if request.method == "POST" and upload is not None and (upload.size or 0) <= MAX_SNIFF_BYTES:
        own_csv = (fmt := format_detect(upload.read())) is None or fmt.key == "csv"
        upload.seek(0)
        if own_csv:
            return transactions_import_view(request, company_slug)
    form = FileImportForm(request.POST or None, request.FILES or None, company=request.company)
    result = None
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        account = form.cleaned_data["account"]
        result = file_import(
            company=request.company, content=content, by=request.user, account=account
        )
        if result.ok:
            for level, text in file_import_messages(result):
                messages.add_message(request, level, text)
            return redirect(transactions_url(request))
    status = 400 if request.method == "POST" else 200
    # A file with bad rows: "Feil: " in the title, like a failed form.
    context = {"form": form, "result": result, "page_error": bool(result and not result.ok)}
    return render(request, "ledger/imports/import.html", context, status=status)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def broker_accounts(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """List the firm's broker accounts and add one."""
    company = request.company
    chart = _chart(request) if request.method == "POST" else chart_known(company=company)
    form = BrokerAccountForm(request.POST or None, company=company, chart=chart)
    if request.method == "POST" and form.is_valid():
        svc.broker_account_create(company=company, form_data=form.cleaned_data)
        messages.success(request, _("Broker account saved."))
        return redirect(request.path)
    context = {"form": form, "rows": svc.broker_accounts_list(company=company), "chart": chart}
    status = 400 if request.method == "POST" else 200
    return render(request, "ledger/imports/broker_accounts.html", context, status=status)


@company_role_required(Role.FINANCE)
@require_POST
def broker_account_delete(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Remove a broker account that no transaction uses."""
    try:
        account = BrokerAccount.objects.get(company=request.company, pk=pk)
    except BrokerAccount.DoesNotExist:
        raise Http404("No such broker account.") from None
    if svc.broker_account_delete(company=request.company, account=account):
        messages.success(request, _("Broker account removed."))
    else:
        messages.error(request, _("Transactions use this account, so it cannot be removed."))
    return redirect("ledger:broker_accounts", company_slug=request.company.slug)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def inbox_row_account(request: CompanyRequest, company_slug: str, row_id: int) -> HttpResponse:
    """Choose the account a compensation row of the inbox (ERSTATNING) is income on."""
    try:
        row = InboxRow.objects.select_related("batch", "broker_account").get(
            company=request.company, pk=row_id
        )
    except InboxRow.DoesNotExist:
        raise Http404("No such row.") from None
    back = redirect("ledger:inbox_batch", company_slug=request.company.slug, batch_id=row.batch_id)
    if row.kind != COMPENSATION or not row.batch.is_open:
        return back
    accounts = compensation_accounts(chart=_chart(request))
    initial = {"account": row.data.get("counter_account")}
    form = CompensationAccountForm(request.POST or None, accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            compensation_account_set(
                company=request.company, row=row, account_number=form.cleaned_data["account"]
            )
        except CompensationRefused as exc:
            messages.error(request, str(exc))
        return back
    status = 400 if request.method == "POST" else 200
    context = {"row": row, "values": row.values, "form": form}
    return render(request, "ledger/imports/compensation_account.html", context, status=status)

"""Booking pages: book one or every ready transaction to Tripletex, their live status, reverse a
booked voucher, and check a booked voucher against Tripletex. The pages stay under
/c/<company_slug>/transaksjoner/ beside the transaction they act on (ledger/booking/urls.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.credentials import ConnectionUnavailable
from companies.models import Role
from companies.redirects import safe_next_url
from companies.tenancy import CompanyRequest, company_role_required
from ledger.booking.protocol import BookingStateError, booking_queue, ready_ids
from ledger.booking.reconcile import booking_check
from ledger.booking.reversal import booking_reverse
from ledger.models import Transaction
from ledger.params import MAX_IDS, ParamError, id_list_param
from ledger.transactions import services as svc
from ledger.transactions.checks import reference_load, reference_note, reference_stored
from ledger.transactions.forms import ReverseForm
from ledger.transactions.views import transaction_or_404, transaction_url, transactions_url
from tripletex.errors import TripletexError


@company_role_required(Role.FINANCE)
@require_POST
def transaction_book(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Book to Tripletex: record the intent (queued) now; a worker posts it."""
    txn = transaction_or_404(request, pk)
    # The firm's chart and periods, refreshed from Tripletex first when a day old (checks.py).
    ref = reference_load(company=request.company, days=[txn.trade_date])
    counts = booking_queue(company=request.company, transaction_ids=[txn.pk], reference=ref)
    _report_queue(request, counts)
    return redirect(
        safe_next_url(request, request.POST.get("next"), fallback=transaction_url(request, txn))
    )


@company_role_required(Role.FINANCE)
@require_POST
def transactions_book_all(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Book every ready transaction of the company that can be booked; the others are held back
    (rejected before Tripletex) and listed with their reasons on the held-back page."""
    company = request.company
    ids = ready_ids(company=company)
    days = list(
        Transaction.objects.filter(company=company, pk__in=ids).values_list("trade_date", flat=True)
    )
    ref = reference_load(company=company, days=days)
    counts = booking_queue(company=company, transaction_ids=ids, reference=ref)
    _report_queue(request, counts, held_listed=True)
    if note := reference_note(ref):
        messages.warning(request, note)
    held = svc.transactions_held_back(company=company, ids=ids)
    if held:
        url = reverse("ledger:transactions_held", kwargs={"company_slug": company.slug})
        # The page takes at most MAX_IDS ids; any further held rows are under "Rejected or failed".
        shown = ",".join(str(t.pk) for t in held[:MAX_IDS])
        return redirect(f"{url}?{urlencode({'ids': shown})}")
    return redirect(transactions_url(request))


@company_role_required(Role.ACCOUNTANT)
@require_GET
def transactions_held(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The rows "book all ready" held back (?ids=…), each with why and a link to correct it;
    rows booked or changed since are left out."""
    try:
        ids = id_list_param(request.GET, "ids")
    except ParamError as exc:
        return HttpResponseBadRequest(str(exc))
    rows = svc.transactions_held_back(company=request.company, ids=ids)
    ref = reference_stored(company=request.company)
    return render(
        request,
        "ledger/transactions/held.html",
        {
            "rows": rows,
            "reference_synced_at": ref.synced_at,
            "can_book": request.membership.has_role(Role.FINANCE),
        },
    )


def _report_queue(
    request: CompanyRequest, counts: dict[str, int], *, held_listed: bool = False
) -> None:
    # "unsent": queued rows whose task the broker could not take; a worker sends them when it
    # is back (ledger.booking.protocol._enqueue_on_commit).
    unsent = counts.get("unsent", 0)
    if counts["queued"] - unsent:
        messages.success(
            request,
            _("%(n)s transaction(s) queued for booking in Tripletex.")
            % {"n": counts["queued"] - unsent},
        )
    if unsent:
        messages.warning(
            request,
            ngettext(
                "Queued; it will be booked when the worker is back.",
                "%(n)s transactions queued; they will be booked when the worker is back.",
                unsent,
            )
            % {"n": unsent},
        )
    if counts["rejected"] and held_listed:
        messages.error(
            request,
            _("%(n)s transaction(s) were held back; each is listed below with the reason.")
            % {"n": counts["rejected"]},
        )
    elif counts["rejected"]:
        messages.error(
            request,
            _("%(n)s transaction(s) cannot be booked as they are; see their messages.")
            % {"n": counts["rejected"]},
        )
    if not counts["queued"] and not counts["rejected"]:
        messages.info(request, _("Nothing to book: already queued, booking or booked."))


@company_role_required(Role.ACCOUNTANT)
@require_GET
def transactions_status(request: CompanyRequest, company_slug: str) -> JsonResponse:
    """Live status (JSON) of the transactions named in ?ids=1,2,3; 400 with a message for
    anything but a list of ids."""
    try:
        ids = id_list_param(request.GET, "ids")
    except ParamError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    rows = svc.transactions_status(company=request.company, ids=ids)
    return JsonResponse({"rows": [row.as_json() for row in rows]})


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def transaction_reverse(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Reverse a booked voucher in Tripletex on a chosen date."""
    txn = transaction_or_404(request, pk)
    form = ReverseForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        record = _tripletex_action(
            request,
            lambda: booking_reverse(
                company=request.company, txn=txn, on=form.cleaned_data["date"], by=request.user
            ),
            failed=_(
                "Tripletex did not confirm the reversal; try again shortly (request id %(id)s)."
            ),
        )
        if record is not None:
            messages.success(
                request,
                _("Reversed by voucher %(number)s. You can now change and book it again.")
                % {"number": record.reversal_number},
            )
        return redirect(transaction_url(request, txn))
    return render(request, "ledger/transactions/reverse.html", {"txn": txn, "form": form})


@company_role_required(Role.FINANCE)
@require_POST
def transaction_check(request: CompanyRequest, company_slug: str, pk: int) -> HttpResponse:
    """Look the booked voucher up in Tripletex: reversed, deleted or approved there since?"""
    txn = transaction_or_404(request, pk)
    texts = {
        "reversed": _(
            "The voucher was reversed in Tripletex; the reversal is recorded here. You "
            "can now change the transaction and book it anew."
        ),
        "deleted": _(
            "The voucher was deleted in Tripletex, so nothing is booked. Change the "
            "transaction if needed and book it again."
        ),
        "approved": _("The voucher has been approved in Tripletex and has its number."),
        "waiting": _("The voucher still waits for approval in Tripletex."),
        "unchanged": _("Tripletex has the voucher as shown here; nothing has changed."),
    }
    outcome = _tripletex_action(
        request,
        lambda: booking_check(company=request.company, txn=txn, by=request.user),
        failed=_("Tripletex did not answer; try again shortly (request id %(id)s)."),
    )
    if outcome is not None:
        messages.success(request, texts[outcome])
    return redirect(transaction_url(request, txn))


T = TypeVar("T")


def _tripletex_action(request: CompanyRequest, action: Callable[[], T], *, failed: str) -> T | None:
    """Run an action that asks Tripletex; on trouble say why (a message) and return None."""
    try:
        return action()
    except (BookingStateError, ConnectionUnavailable) as exc:
        messages.error(request, str(exc))
    except TripletexError as exc:
        messages.error(request, failed % {"id": exc.request_id or "?"})
    return None

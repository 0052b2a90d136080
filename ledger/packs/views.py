"""Report pack pages: a firm's pack (comments, generate, download) under /c/<company_slug>/, and a
batch for an office's firms (start, progress) under /rapportpakker/ for the person who started it.

The progress of queued packs is polled as JSON (static/js/reporting.js); without JavaScript the
pages still show the state as of loading them.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_scopes import scopes_disabled

from companies.models import OfficeKey, Role
from companies.tenancy import AuthenticatedRequest, CompanyRequest, company_role_required
from ledger.models import ReportBatch, ReportPack
from ledger.packs.content import comments_for
from ledger.packs.forms import BatchForm, CommentsForm
from ledger.packs.services import (
    PackError,
    batch_firms,
    batch_offices,
    batch_start,
    comments_save,
    pack_request,
)
from ledger.params import ParamError, id_list_param
from ledger.periods import month_parse, months_summary

OWN_KEY = "own"
RECENT_PACKS = 20


def _chosen_month(request: CompanyRequest, months: list[datetime.date]) -> datetime.date | None:
    """?mnd=YYYY-MM when it is a synced month, else the latest synced month (None: no figures)."""
    if not months:
        return None
    try:
        chosen = month_parse(request.GET.get("mnd", ""))
    except ValueError:
        return months[-1]
    return chosen if chosen in months else months[-1]


def _pack_rows(packs: list[ReportPack], slug: str) -> list[dict[str, object]]:
    return [
        {
            "id": p.pk,
            "status": p.status,
            "label": str(p.get_status_display()),
            "pages": p.pages,
            "size": p.size,
            "url": reverse("ledger:pack_pdf", kwargs={"company_slug": slug, "pack_id": p.pk})
            if p.status == ReportPack.Status.DONE
            else "",
        }
        for p in packs
    ]


@company_role_required(Role.ACCOUNTANT)
@require_http_methods(["GET", "POST"])
def pack_page(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The firm's report pack: the month, a comment per section, generate, and the packs made."""
    company = request.company
    months = [s.month for s in months_summary(company=company)]
    month = _chosen_month(request, months)
    initial = comments_for(company=company, month=month) if month else {}
    if month:
        initial["mnd"] = f"{month:%Y-%m}"
    form = CommentsForm(request.POST or None, months=months, initial=initial)
    if request.method == "POST" and form.is_valid():
        return _pack_post(request, form)
    packs = list(
        ReportPack.objects.filter(company=company)
        .defer("pdf")
        .order_by("-created_at")[:RECENT_PACKS]
    )
    context = {"form": form, "month": month, "packs": packs, "company": company}
    return render(
        request, "ledger/packs/pack_page.html", context, status=400 if form.errors else 200
    )


def _pack_post(request: CompanyRequest, form: CommentsForm) -> HttpResponse:
    month = form.month()
    comments_save(company=request.company, month=month, texts=form.texts(), by=request.user)
    if request.POST.get("action") == "generate":
        pack_request(company=request.company, month=month, by=request.user)
        messages.success(
            request, _("The report pack is being made. It appears below when it is ready.")
        )
    else:
        messages.success(request, _("The comments are saved."))
    target = reverse("ledger:pack", kwargs={"company_slug": request.company.slug})
    return redirect(f"{target}?{urlencode({'mnd': f'{month:%Y-%m}'})}")


@company_role_required(Role.ACCOUNTANT)
@require_GET
def pack_pdf(request: CompanyRequest, company_slug: str, pack_id: int) -> HttpResponse:
    """A ready pack of this firm as a PDF download (any other pack: 404)."""
    pack = ReportPack.objects.filter(
        company=request.company, pk=pack_id, status=ReportPack.Status.DONE
    ).first()
    if pack is None or pack.pdf is None:
        raise Http404("No such report pack.")
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pack.filename()}"'
    return response


@company_role_required(Role.ACCOUNTANT)
@require_GET
def pack_status(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The state of this firm's packs ?id=1,2 as JSON (for the page's polling)."""
    try:
        ids = id_list_param(request.GET, "id")
    except ParamError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    packs = list(ReportPack.objects.filter(company=request.company, pk__in=ids).defer("pdf"))
    return JsonResponse({"packs": _pack_rows(packs, request.company.slug)})


# ---- batches (not under one company: the person's firms of one office) -----------------------


def _office_choices(request: AuthenticatedRequest) -> list[tuple[str, str]]:
    choices = [(f"office-{o.pk}", o.name) for o in batch_offices(user=request.user)]
    if batch_firms(user=request.user, office=None):
        choices.append((OWN_KEY, _("Firms with their own Tripletex key")))
    return choices


def _office_of(value: str) -> tuple[OfficeKey | None, bool]:
    if value == OWN_KEY:
        return None, True
    office = OfficeKey.objects.filter(pk=int(value.removeprefix("office-"))).first()
    return office, office is not None


@require_http_methods(["GET", "POST"])
@login_required
def batch_new(request: AuthenticatedRequest) -> HttpResponse:
    """Start report packs for every firm of an office for a month; the batches started before."""
    form = BatchForm(request.POST or None, offices=_office_choices(request))
    if request.method == "POST" and form.is_valid():
        office, found = _office_of(form.cleaned_data["office"])
        label = office.name if office else _("Firms with their own Tripletex key")
        try:
            if not found:
                raise PackError(_("There are no firms to make report packs for."))
            batch = batch_start(user=request.user, office=office, label=label, month=form.month())
        except PackError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("office_packs:batch", batch_id=batch.pk)
    batches = ReportBatch.objects.filter(created_by=request.user).order_by("-created_at")[:20]
    status = 400 if form.errors else 200
    return render(
        request,
        "ledger/packs/batch_new.html",
        {"form": form, "batches": batches},
        status=status,
    )


def _batch_of(request: AuthenticatedRequest, batch_id: int) -> tuple[ReportBatch, list[ReportPack]]:
    batch = get_object_or_404(ReportBatch, pk=batch_id, created_by=request.user)
    with scopes_disabled():
        packs = list(
            ReportPack.objects.filter(batch=batch)
            .select_related("company")
            .defer("pdf")
            .order_by("company__name")
        )
    return batch, packs


@require_GET
@login_required
def batch_page(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    """A batch's progress: each firm's pack, queued, being made, ready (downloadable) or failed."""
    batch, packs = _batch_of(request, batch_id)
    counts = _batch_counts(packs)
    return render(
        request,
        "ledger/packs/batch.html",
        {"batch": batch, "packs": packs, "counts": counts},
    )


def _batch_counts(packs: list[ReportPack]) -> dict[str, int]:
    counts = {status: 0 for status in ReportPack.Status.values}
    for pack in packs:
        counts[pack.status] += 1
    counts["finished"] = counts[ReportPack.Status.DONE] + counts[ReportPack.Status.FAILED]
    counts["total"] = len(packs)
    return counts


@require_GET
@login_required
def batch_status(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    """A batch's progress as JSON: the counts, and each pack's state and download link."""
    batch, packs = _batch_of(request, batch_id)
    rows = [_pack_rows([pack], pack.company.slug)[0] for pack in packs]
    counts = _batch_counts(packs)
    summary = _("%(finished)s of %(total)s finished: %(done)s ready, %(failed)s failed.") % counts
    return JsonResponse({"counts": counts, "packs": rows, "summary": summary})

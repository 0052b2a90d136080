"""Group pages under the parent's /c/<company_slug>/konsern/: the consolidated P&L and balance
sheet, the subsidiaries, and the elimination mapping.

A person sees a group's figures only when they may open every firm in it (a firm they cannot open
never shows, not even as a column); otherwise the page says so and shows no figures.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from companies.models import Company, Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.figures.selectors import Period, period_resolve
from ledger.groups.consolidation import eliminate
from ledger.groups.forms import GroupCreateForm, MembersForm, PairForm
from ledger.groups.selectors import (
    candidate_firms,
    firm_amounts,
    group_firms,
    group_of,
    group_view,
    pair_specs,
    pairs_of,
    readable_firm_ids,
)
from ledger.groups.services import (
    GroupError,
    group_create,
    group_members_set,
    mapping_confirm,
    pair_add,
    pairs_propose,
    pairs_remove,
)
from ledger.models import CompanyGroup
from ledger.params import ParamError, int_param


def _period(request: CompanyRequest) -> Period:
    """The parent's fiscal year and month of ?ar=&mnd= (a bad value: a message and the default)."""
    choice: dict[str, int | None] = {}
    for name, (low, high) in (("ar", (1900, 2100)), ("mnd", (1, 12))):
        try:
            choice[name] = int_param(request.GET, name, minimum=low, maximum=high)
        except ParamError as exc:
            messages.warning(request, str(exc))
            choice[name] = None
    return period_resolve(
        company=request.company, year=choice["ar"], month=choice["mnd"], is_raw=False
    )


def _query(period: Period) -> str:
    return urlencode({"ar": period.fiscal_year.year, "mnd": period.through.month})


def _blocked(request: CompanyRequest, group: CompanyGroup) -> HttpResponse | None:
    """A 403 page when the person cannot open every firm of the group."""
    if {f.pk for f in group_firms(group)} <= readable_firm_ids(user=request.user):
        return None
    return render(request, "ledger/groups/blocked.html", {"company": request.company}, status=403)


@company_role_required(Role.ACCOUNTANT)
@require_http_methods(["GET", "POST"])
def group_page(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The consolidated P&L and balance sheet; without a group yet, the form that creates one."""
    group = group_of(company=request.company)
    if group is None:
        return _group_new(request)
    if blocked := _blocked(request, group):
        return blocked
    period = _period(request)
    view = group_view(group=group, fiscal_year=period.fiscal_year, through=period.through)
    return render(
        request,
        "ledger/groups/group.html",
        {"company": request.company, "period": period, "view": view, "query": _query(period)},
    )


def _group_new(request: CompanyRequest) -> HttpResponse:
    parent = request.company
    candidates = candidate_firms(user=request.user, parent=parent)
    initial = {"name": _("%(name)s group") % {"name": parent.name}}
    form = GroupCreateForm(request.POST or None, candidates=candidates, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_create(
                parent=parent,
                name=form.cleaned_data["name"],
                member_ids=form.cleaned_data["members"],
                by=request.user,
            )
        except GroupError as exc:
            form.add_error(None, str(exc))
        else:
            period = _period(request)
            pairs_propose(group=group, fiscal_year=period.fiscal_year, through=period.through)
            messages.success(
                request, _("The group is created. Check the proposed eliminations and confirm.")
            )
            return redirect(reverse("ledger:group_mapping", args=[parent.slug]))
    return render(
        request,
        "ledger/groups/group_new.html",
        {"company": parent, "form": form, "candidates": candidates},
        status=400 if form.errors else 200,
    )


@company_role_required(Role.ACCOUNTANT)
@require_http_methods(["GET", "POST"])
def group_members(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Change the group's subsidiaries."""
    group = group_of(company=request.company)
    if group is None:
        return redirect(reverse("ledger:group", args=[request.company.slug]))
    if blocked := _blocked(request, group):
        return blocked
    candidates = candidate_firms(user=request.user, parent=request.company)
    current = [f.pk for f in group_firms(group)[1:]]
    form = MembersForm(request.POST or None, candidates=candidates, initial={"members": current})
    if request.method == "POST" and form.is_valid():
        try:
            group_members_set(group=group, member_ids=form.cleaned_data["members"], by=request.user)
        except GroupError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The subsidiaries are saved. Confirm the eliminations again.")
            )
            return redirect(reverse("ledger:group_mapping", args=[request.company.slug]))
    return render(
        request,
        "ledger/groups/members.html",
        {"company": request.company, "group": group, "form": form},
        status=400 if form.errors else 200,
    )


@company_role_required(Role.ACCOUNTANT)
@require_http_methods(["GET", "POST"])
def group_mapping(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The elimination pairs: what each takes away at the chosen month; add, remove, propose,
    confirm."""
    group = group_of(company=request.company)
    if group is None:
        return redirect(reverse("ledger:group", args=[request.company.slug]))
    if blocked := _blocked(request, group):
        return blocked
    period = _period(request)
    firms = group_firms(group)
    form = PairForm(request.POST if request.POST.get("action") == "add" else None, firms=firms)
    if request.method == "POST":
        response = _mapping_post(request, group, period, firms, form)
        if response is not None:
            return response
    amounts = {
        f.pk: firm_amounts(company=f, fiscal_year=period.fiscal_year, through=period.through)
        for f in firms
    }
    pairs = pairs_of(group)
    outcomes = eliminate(amounts, pair_specs(pairs)).outcomes
    context = {
        "company": request.company,
        "group": group,
        "period": period,
        "rows": list(zip(pairs, outcomes, strict=True)),
        "form": form,
        "query": _query(period),
    }
    return render(
        request, "ledger/groups/mapping.html", context, status=400 if form.errors else 200
    )


def _mapping_post(
    request: CompanyRequest,
    group: CompanyGroup,
    period: Period,
    firms: list[Company],
    form: PairForm,
) -> HttpResponse | None:
    """Carry out one of the mapping page's buttons; None re-shows the page with the form's errors."""
    action = request.POST.get("action")
    if action == "add":
        if not form.is_valid():
            return None
        by_id = {f.pk: f for f in firms}
        data = form.cleaned_data
        try:
            pair_add(
                group=group,
                kind=data["kind"],
                firm_a=by_id[data["firm_a"]],
                account_a=data["account_a"],
                firm_b=by_id[data["firm_b"]],
                account_b=data["account_b"],
            )
        except GroupError as exc:
            form.add_error(None, str(exc))
            return None
        messages.success(request, _("The pair is added. Confirm the eliminations again."))
    elif action == "remove":
        ids = [int(v) for v in request.POST.getlist("pair") if v.isascii() and v.isdigit()]
        removed = pairs_remove(group=group, pair_ids=ids)
        messages.success(request, _("%(count)s pairs removed.") % {"count": removed})
    elif action == "propose":
        count = pairs_propose(group=group, fiscal_year=period.fiscal_year, through=period.through)
        messages.success(request, _("%(count)s pairs proposed.") % {"count": count})
    elif action == "confirm":
        mapping_confirm(group=group, by=request.user)
        messages.success(
            request, _("The eliminations are confirmed and count in the group figures.")
        )
        return redirect(f"{reverse('ledger:group', args=[request.company.slug])}?{_query(period)}")
    else:
        messages.warning(request, _("Nothing was changed."))
    return redirect(
        f"{reverse('ledger:group_mapping', args=[request.company.slug])}?{_query(period)}"
    )

"""Holdings pages: what the firm holds (lots, FIFO and average cost), the year's realisations and
tax summary under the exemption method, the tie-out with the synced securities account, the XLSX
export, and the instruments with their exemption method. Accountants read; finance edits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from companies.models import Role
from companies.tenancy import CompanyRequest, company_role_required
from ledger.holdings.exemption import ExemptionRuling, exemption_ruling
from ledger.holdings.exports import holdings_xlsx
from ledger.holdings.forms import InstrumentForm
from ledger.holdings.instruments import instrument_get, instrument_save, instruments_list
from ledger.holdings.selectors import OpenLot, Position, positions, securities_cost_total
from ledger.holdings.summary import (
    holdings_tieout,
    quantity_text,
    tax_lines,
    tax_year,
    three_percent_note,
    years_with_activity,
)
from ledger.models import Instrument
from ledger.params import ParamError, int_param
from ledger.transactions.vouchers import gl_settings_get


@dataclass(frozen=True)
class PositionRow:
    """A position as the page shows it: its ruling and quantities already in words."""

    position: Position
    ruling: ExemptionRuling | None
    quantity: str
    lots: list[tuple[OpenLot, str]]


def _year(request: CompanyRequest) -> tuple[int, list[int]]:
    """The year asked for (?year=), within the years the picker offers; else this year."""
    today = timezone.localdate()
    years = years_with_activity(company=request.company, today=today)
    try:
        year = int_param(request.GET, "aar", minimum=min(years), maximum=max(years))
    except ParamError as exc:
        messages.warning(request, str(exc))
        year = None
    return year or today.year, years


def _accounts(request: CompanyRequest) -> tuple[int, ...]:
    gl = gl_settings_get(company=request.company)
    return tuple(dict.fromkeys((gl.securities, gl.repayment)))


@company_role_required(Role.ACCOUNTANT)
@require_GET
def holdings(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Positions with open lots, the year's realisations and tax summary, and the tie-out."""
    company = request.company
    year, years = _year(request)
    held = positions(company=company)
    summary = tax_year(company=company, year=year)
    rulings = {row.instrument.key: row.ruling for row in instruments_list(company=company)}
    context: dict[str, Any] = {
        "positions": [
            PositionRow(
                p,
                rulings.get(p.instrument_key),
                quantity_text(p.quantity),
                [(lot, quantity_text(lot.quantity)) for lot in p.lots],
            )
            for p in held
        ],
        "total_cost": securities_cost_total(company=company),
        "summary": summary,
        "tax_lines": tax_lines(summary),
        "three_percent_note": three_percent_note(),
        "year": year,
        "years": years,
        "tieout": holdings_tieout(company=company, accounts=_accounts(request)),
        "rulings": {row.instrument.key: row.ruling for row in instruments_list(company=company)},
    }
    return render(request, "ledger/holdings/holdings.html", context)


@company_role_required(Role.ACCOUNTANT)
@require_GET
def holdings_export(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """The holdings page as an XLSX workbook."""
    company = request.company
    year, _years = _year(request)
    title = _("Holdings of %(company)s, %(date)s") % {
        "company": company.name,
        "date": timezone.localdate().strftime("%d.%m.%Y"),
    }
    body = holdings_xlsx(
        title=title,
        positions=positions(company=company),
        summary=tax_year(company=company, year=year),
    )
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="beholdning-{company.slug}-{year}.xlsx"'
    )
    return response


@company_role_required(Role.ACCOUNTANT)
@require_GET
def instruments(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Every instrument with its exemption method, by the rules or set by a person."""
    context = {
        "rows": instruments_list(company=request.company),
        "can_edit": request.membership.has_role(Role.FINANCE),
    }
    return render(request, "ledger/holdings/instruments.html", context)


@company_role_required(Role.FINANCE)
@require_http_methods(["GET", "POST"])
def instrument_edit(request: CompanyRequest, company_slug: str) -> HttpResponse:
    """Change an instrument's facts or its exemption method (?key=…)."""
    try:
        instrument = instrument_get(company=request.company, key=request.GET.get("key", ""))
    except Instrument.DoesNotExist:
        raise Http404("No such instrument.") from None
    form = InstrumentForm(request.POST or None, instance=instrument)
    if request.method == "POST" and form.is_valid():
        saved = instrument_save(
            company=request.company, instrument=form.save(commit=False), by=request.user
        )
        messages.success(
            request,
            _("%(name)s: %(exemption)s.")
            % {"name": saved.name, "exemption": exemption_ruling(saved).label},
        )
        return redirect(reverse("ledger:instruments", kwargs={"company_slug": company_slug}))
    preview = form.instance if form.is_bound and form.is_valid() else instrument
    context = {"form": form, "instrument": instrument, "ruling": exemption_ruling(preview)}
    return render(
        request, "ledger/holdings/instrument_form.html", context, status=400 if form.errors else 200
    )

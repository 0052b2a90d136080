"""The holdings page (Transactions → Holdings): positions with their open lots, FIFO and average
cost, the year's realisations and the exemption method's split (hand-computed below), the XLSX
export, the tie-out with the synced securities account, the instruments page, and who may see it."""

from __future__ import annotations

import datetime
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from openpyxl import load_workbook

from ledger.holdings.services import lots_reserve
from ledger.models import AccountBalance, Instrument, MonthSync, Transaction
from tests.ledger.support import record, reload

pytestmark = pytest.mark.django_db
D = Decimal
# Last year: every date of the scenario is in the past and in one calendar year.
Y = timezone.localdate().year - 1


def _url(name: str, company, query: str = "") -> str:
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug}) + query


def _txn(company, kind: str, day: date, name: str, isin: str, amount: str, quantity=None):
    return record(
        company,
        kind=kind,
        trade_date=day,
        instrument_name=name,
        isin=isin,
        quantity=D(quantity) if quantity else None,
        price=None,
        amount=D(amount),
        fees=D("0"),
    )


def _booked(company, *txns, at=None) -> None:
    """Write the rows' lots as queueing does (ledger/holdings/services.py) and mark them booked,
    as the worker would once Tripletex has the vouchers."""
    with scope(company=company):
        for txn in txns:
            cost = lots_reserve(company=company, txn=reload(txn))
            Transaction.objects.filter(pk=txn.pk).update(
                status=Transaction.Status.BOOKED,
                cost_basis=cost,
                booked_at=at or timezone.now() - timedelta(days=1),
            )


EQUINOR = ("Equinor ASA", "NO0010096985")  # a Norwegian share: inside
APPLE = ("Apple Inc.", "US0378331005")  # a small US holding: outside
KOMBI = ("Kombifond", "")  # a combination fund of 60 % equities: 60 % inside


@pytest.fixture
def holdings_scenario(acme):
    """Three instruments bought, partly sold and paying dividends in year Y, all booked."""
    with scope(company=acme):
        Instrument.objects.create(
            company=acme,
            key="KOMBIFOND",
            name="Kombifond",
            kind=Instrument.Kind.COMBINATION_FUND,
            country="NO",
            equity_share=D("60"),
        )
    buys = [
        _txn(acme, "purchase", date(Y, 1, 10), *EQUINOR, "10000.00", "100"),
        _txn(acme, "purchase", date(Y, 1, 11), *APPLE, "2000.00", "10"),
        _txn(acme, "purchase", date(Y, 1, 12), *KOMBI, "5000.00", "50"),
    ]
    _booked(acme, *buys)
    others = [
        _txn(acme, "sale", date(Y, 2, 1), *EQUINOR, "5000.00", "40"),
        _txn(acme, "sale", date(Y, 2, 2), *APPLE, "1500.00", "10"),
        _txn(acme, "sale", date(Y, 2, 3), *KOMBI, "3000.00", "25"),
        _txn(acme, "dividend", date(Y, 3, 1), *EQUINOR, "1200.00"),
        _txn(acme, "dividend", date(Y, 3, 2), *APPLE, "100.00"),
        _txn(acme, "dividend", date(Y, 3, 3), *KOMBI, "50.00"),
    ]
    _booked(acme, *others)
    return acme


def test_the_exemption_methods_split_with_hand_computed_figures(client, anders, holdings_scenario):
    acme = holdings_scenario
    client.force_login(anders)  # an accountant reads the page
    page = client.get(_url("holdings", acme, f"?aar={Y}"))
    assert page.status_code == 200
    summary = page.context["summary"]
    # Sales (FIFO cost, no fees):
    #   Equinor 40 of 100 bought for 10 000,00: cost 4 000,00; 5 000,00 - 4 000,00 = +1 000,00, inside.
    #   Apple 10 of 10 bought for 2 000,00: 1 500,00 - 2 000,00 = -500,00, outside (deductible).
    #   Kombifond 25 of 50 bought for 5 000,00: cost 2 500,00; 3 000,00 - 2 500,00 = +500,00,
    #   60 % inside = 300,00, 40 % outside = 200,00.
    split = [
        (r.realisation.instrument_name, r.realisation.cost, r.result_inside, r.result_outside)
        for r in summary.realisations
    ]
    assert split == [
        ("Equinor ASA", D("4000.00"), D("1000.00"), D("0.00")),
        ("Apple Inc.", D("2000.00"), D("0.00"), D("-500.00")),
        ("Kombifond", D("2500.00"), D("300.00"), D("200.00")),
    ]
    # Dividends: Equinor 1 200,00 inside; Apple 100,00 outside; Kombifond 50,00: 30,00 inside
    # and 20,00 outside. Inside 1 200,00 + 30,00 = 1 230,00; 3 % of it = 36,90 taxable.
    assert summary.dividends_inside == D("1230.00")
    assert summary.three_percent == D("36.90")
    assert summary.dividends_outside == D("120.00")
    # Gains inside 1 000,00 + 300,00 = 1 300,00 (not taxable), no loss inside; outside a gain of
    # 200,00 and a loss of 500,00.
    assert (summary.gains_inside, summary.losses_inside) == (D("1300.00"), D("0.00"))
    assert (summary.gains_outside, summary.losses_outside) == (D("200.00"), D("500.00"))
    html = page.content.decode()
    assert 'data-testid="three-percent">36,90<' in html
    assert 'data-testid="dividends-inside">1\u00a0230,00<' in html
    assert 'data-testid="gains-inside">1\u00a0300,00<' in html
    assert 'data-testid="losses-outside">500,00<' in html
    assert "Utbytte innenfor fritaksmetoden" in html


def test_positions_show_quantity_fifo_and_average_cost_and_the_open_lots(
    client, anders, holdings_scenario
):
    acme = holdings_scenario
    client.force_login(anders)
    page = client.get(_url("holdings", acme))
    rows = {r.position.instrument_name: r for r in page.context["positions"]}
    # Equinor: 100 - 40 = 60 left of the one lot, cost 10 000,00 - 4 000,00 = 6 000,00, 100,0000 each.
    equinor = rows["Equinor ASA"]
    assert (equinor.position.quantity, equinor.position.cost) == (D("60"), D("6000.00"))
    assert equinor.position.average_cost == D("100.0000")
    assert [(lot.acquired, lot.cost) for lot, _q in equinor.lots] == [
        (date(Y, 1, 10), D("6000.00"))
    ]
    assert equinor.ruling.exemption == "inside"
    assert rows["Kombifond"].ruling.exemption == "partial"
    assert "Apple Inc." not in rows  # sold out
    # Total 6 000,00 + 2 500,00 = 8 500,00.
    html = page.content.decode()
    assert 'data-testid="total-cost">8\u00a0500,00<' in html
    assert f"10.01.{Y}" in html


def test_the_xlsx_export_has_real_numbers_with_number_formats(client, anders, holdings_scenario):
    acme = holdings_scenario
    client.force_login(anders)
    response = client.get(_url("holdings_xlsx", acme, f"?aar={Y}"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(response.content))
    held, realised, tax = book.worksheets
    assert held.title == "Beholdning"
    rows = {row[0].value: row for row in held.iter_rows(min_row=4)}
    equinor = rows["Equinor ASA"]
    assert (equinor[3].value, equinor[4].value, equinor[5].value) == (60, 6000, 100)
    assert equinor[4].data_type == "n"
    assert equinor[4].number_format == "#,##0.00;[Red]-#,##0.00"
    lot = held.cell(row=int(equinor[0].row or 0) + 1, column=3)
    assert isinstance(lot.value, datetime.datetime)
    assert lot.value.date() == date(Y, 1, 10)
    assert lot.number_format == "dd.mm.yyyy"
    assert rows["Sum"][4].value == 8500
    sales = [
        (r[0].value, r[5].value, r[6].value, r[7].value) for r in realised.iter_rows(min_row=2)
    ]
    assert sales[:3] == [
        ("Equinor ASA", 1000, 1000, 0),
        ("Apple Inc.", -500, 0, -500),
        ("Kombifond", 500, 300, 200),
    ]
    figures = {r[0].value: r[1].value for r in tax.iter_rows(min_row=2)}
    assert figures["3 % av dem: skattepliktig inntekt"] == pytest.approx(36.90)
    assert figures["Tap utenfor fritaksmetoden (fradragsberettiget)"] == 500


def _synced_balance(company, amount: str, synced_at) -> None:
    with scope(company=company):
        MonthSync.objects.create(company=company, month=date(Y, 12, 1), synced_at=synced_at)
        AccountBalance.objects.create(
            company=company,
            account_number=1810,
            month=date(Y, 12, 1),
            balance_in=D(amount),
            balance_change=D("0"),
            balance_out=D(amount),
            synced_at=synced_at,
        )


def test_the_tie_out_matches_the_synced_securities_balance(client, anders, holdings_scenario):
    acme = holdings_scenario
    client.force_login(anders)
    assert client.get(_url("holdings", acme)).context["tieout"].state == "no-sync"
    # The booked cost left on 31.12.Y: 6 000,00 + 2 500,00 = 8 500,00, as on account 1810.
    _synced_balance(acme, "8500.00", timezone.now())
    page = client.get(_url("holdings", acme))
    tieout = page.context["tieout"]
    assert (tieout.state, tieout.booked_cost, tieout.difference) == ("match", D("8500.00"), 0)
    assert "Beholdningens kostpris er lik den synkroniserte saldoen på konto 1810." in (
        page.content.decode()
    )


def test_the_tie_out_says_why_it_differs(client, anders, holdings_scenario):
    acme = holdings_scenario
    client.force_login(anders)
    # 9 000,00 on 1810 and every booking before the sync: booked outside Dynamik.
    _synced_balance(acme, "9000.00", timezone.now())
    page = client.get(_url("holdings", acme))
    assert page.context["tieout"].state == "outside"
    assert page.context["tieout"].difference == D("-500.00")
    assert "ført på konto 1810 utenfor Dynamik" in page.content.decode()
    # The same balance, but a booking after the sync: not synced yet.
    with scope(company=acme):
        MonthSync.objects.filter(company=acme).update(synced_at=timezone.now() - timedelta(days=3))
    page = client.get(_url("holdings", acme))
    assert page.context["tieout"].state == "not-synced-yet"
    assert "ikke i den synkroniserte saldoen ennå" in page.content.decode()


def test_the_instruments_page_shows_the_default_and_a_finance_user_changes_it(
    client, fiona, anders, holdings_scenario
):
    acme = holdings_scenario
    client.force_login(anders)
    page = client.get(_url("instruments", acme))
    rows = {r.instrument.key: r for r in page.context["rows"]}
    assert rows["US0378331005"].ruling.exemption == "outside"
    assert not rows["US0378331005"].is_stored  # by the rules, from the ISIN's country
    assert rows["US0378331005"].instrument.country == "US"
    edit = _url("instrument_edit", acme, "?key=US0378331005")
    assert client.get(edit).status_code == 403  # accountants read

    client.force_login(fiona)
    assert client.get(edit).status_code == 200
    form = {"name": "Apple Inc.", "kind": "share", "country": "Norge", "equity_share": ""}
    bad = client.post(edit, form)
    assert bad.status_code == 400
    assert "Bruk landkoden på to bokstaver" in bad.content.decode(), bad.context["form"].errors
    with scope(company=acme):
        assert not Instrument.objects.filter(company=acme, key="US0378331005").exists()
    ok = client.post(edit, {**form, "country": "us", "holds_ten_percent": "on"})
    assert ok.status_code == 302
    with scope(company=acme):
        apple = Instrument.objects.get(company=acme, key="US0378331005")
    assert (apple.country, apple.holds_ten_percent, apple.updated_by) == ("US", True, fiona)
    page = client.get(_url("holdings", acme, f"?aar={Y}"))
    # Now inside: the 500,00 loss is not deductible and the 100,00 dividend is inside.
    summary = page.context["summary"]
    assert (summary.losses_inside, summary.losses_outside) == (D("500.00"), D("0.00"))
    assert summary.dividends_inside == D("1330.00")
    assert client.get(_url("instrument_edit", acme, "?key=NOPE")).status_code == 404


def test_holdings_are_closed_to_another_firms_users_and_linked_from_transactions(
    client, bob, anders, holdings_scenario
):
    acme = holdings_scenario
    client.force_login(bob)
    for name in ("holdings", "holdings_xlsx", "instruments", "instrument_edit"):
        assert client.get(_url(name, acme)).status_code == 404
    client.force_login(anders)
    listing = client.get(_url("transactions", acme)).content.decode()
    assert 'data-testid="holdings-link"' in listing
    assert _url("holdings", acme) in listing
    # A year out of range is a message, never a 500.
    page = client.get(_url("holdings", acme, "?aar=abc"))
    assert page.status_code == 200
    assert page.context["year"] == timezone.localdate().year

"""Dates mean what was typed (dd.mm.åååå, never month first), a date long ago is confirmed before
it is saved, and a failed submit names every problem at once: in an error summary whose links lead
to the fields, with "Feil: " in the page title."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django_scopes import scope

from ledger.models import Transaction
from ledger.transactions import dates
from ledger.transactions.forms import JournalForm, ReverseForm, SecuritiesForm

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch):
    monkeypatch.setattr(dates, "today", lambda: TODAY)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("01.12.2026", datetime.date(2026, 12, 1)),
        ("1.12.2026", datetime.date(2026, 12, 1)),
        (" 01.12.26 ", datetime.date(2026, 12, 1)),
        ("2026-12-01", datetime.date(2026, 12, 1)),
    ],
)
def test_a_date_is_read_day_first(typed, day):
    field = dates.NorwegianDateField()
    assert field.clean(typed) == day


@pytest.mark.parametrize("typed", ["12/01/2026", "31.02.2026", "1. desember", "2026-13-01"])
def test_anything_else_is_refused_with_the_format_to_use(typed):
    field = dates.NorwegianDateField()
    with pytest.raises(Exception, match=r"dd\.mm\.yyyy, for example 31\.03\.2026"):
        field.clean(typed)


def test_the_field_is_a_text_input_shown_day_first():
    html = str(SecuritiesForm(initial={"trade_date": datetime.date(2026, 12, 1)})["trade_date"])
    assert 'type="text"' in html
    assert 'value="01.12.2026"' in html
    assert 'placeholder="dd.mm.yyyy"' in html
    assert 'aria-describedby="id_trade_date_helptext"' in html


def _purchase(**extra):
    return {
        "kind": "purchase",
        "trade_date": "01.12.2026",
        "instrument_name": "Equinor ASA",
        "quantity": "10",
        "amount": "2 500,00",
        "currency": "NOK",
        "settle_via": "bank",
        **extra,
    }


def test_a_date_more_than_a_year_ago_is_confirmed_before_it_is_saved():
    form = SecuritiesForm(data=_purchase(trade_date="19.11.2025"))
    assert not form.is_valid()
    assert "more than a year ago" in form.errors["trade_date"][0]
    assert form.far_dates == {"trade_date": datetime.date(2025, 11, 19)}
    # Confirming another date does not confirm this one; confirming this one does.
    wrong = _purchase(trade_date="19.11.2025", confirm_trade_date="2025-11-18")
    assert not SecuritiesForm(data=wrong).is_valid()
    assert SecuritiesForm(data={**wrong, "confirm_trade_date": "2025-11-19"}).is_valid()


def test_dates_within_the_year_need_no_confirming():
    assert SecuritiesForm(data=_purchase(trade_date="20.11.2025")).is_valid()
    assert SecuritiesForm(data=_purchase(settlement_date="03.12.2026")).is_valid()


def test_the_journal_and_reversal_dates_ask_too():
    journal = JournalForm(data={"trade_date": "01.01.2020", "description": "Honorar"})
    assert not journal.is_valid()
    assert set(journal.far_dates) == {"trade_date"}
    reversal = ReverseForm(data={"date": "01.01.2020"})
    assert not reversal.is_valid()
    assert ReverseForm(data={"date": "01.01.2020", "confirm_date": "2020-01-01"}).is_valid()


def test_an_empty_securities_form_names_every_missing_field():
    form = SecuritiesForm(data={"kind": "purchase", "settle_via": "bank"})
    assert not form.is_valid()
    assert {"trade_date", "currency", "instrument_name", "quantity", "amount"} <= set(form.errors)


def _url(name, company, **kwargs):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug, **kwargs})


def test_a_failed_submit_has_an_error_summary_and_says_so_in_the_title(client, fiona, acme):
    client.force_login(fiona)
    response = client.post(_url("transaction_new", acme), {"kind": "purchase", "currency": ""})
    assert response.status_code == 200
    html = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title == "Feil: Ny verdipapirtransaksjon · Acme Holding AS · Dynamik"
    summary = html[
        html.index("data-error-summary") - 200 : html.index(
            "</ul>", html.index("data-error-summary")
        )
    ]
    assert 'role="alert"' in summary
    for field in ("trade_date", "instrument_name", "quantity", "amount", "currency"):
        assert f'href="#id_{field}"' in summary, field
    assert "Handelsdato: Feltet er påkrevet." in summary
    with scope(company=acme):
        assert not Transaction.objects.exists()


def test_a_journal_line_problem_links_to_its_line(client, fiona, acme):
    client.force_login(fiona)
    data = {
        "trade_date": "20.11.2026",
        "description": "Honorar",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "2",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-account_number": "12",
        "lines-0-debit": "100,00",
        "lines-1-account_number": "1920",
        "lines-1-credit": "100,00",
    }
    html = client.post(_url("journal_new", acme), data).content.decode()
    assert 'href="#id_lines-0-account_number">Linje 1, Konto:' in html
    # Every input of a line is named for its column and line (they have no <label> of their own).
    assert 'aria-label="Debet, linje 2"' in html


def test_a_page_without_errors_has_no_prefix_and_names_the_firm(client, fiona, acme):
    client.force_login(fiona)
    html = client.get(_url("transactions", acme)).content.decode()
    assert "<title>Transaksjoner · Acme Holding AS · Dynamik</title>" in html
    assert "data-error-summary" not in html

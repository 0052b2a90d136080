"""What the figures pages got wrong (issue 17, item 7): the drill-down's sign, links on zero cells,
month abbreviations, the balance sheet's "Endring", and the key figures page."""

import datetime
import re
from decimal import Decimal
from urllib.parse import urljoin

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.models import Posting, PostingMonth
from tests.ledger.figures_data import every_month, month, seed_changes
from tests.ledger.test_keyfigures import KEYFIGURES_CHANGES

NBSP = "\u00a0"
MINUS = "\u2212"


def _account_row(html: str, number: int) -> str:
    match = re.search(rf'<tr class="row-account" data-account="{number}".*?</tr>', html, re.S)
    assert match, number
    return match.group(0)


def _cells(row: str) -> list[str]:
    # The months: not the label before them, nor the total, comparison and variances after.
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1:-4]


@pytest.fixture
def drill_company(pnl_company):
    """The P&L fixture with January 2025's revenue on 3000 stored as two postings."""
    now = timezone.now()
    with scope(company=pnl_company):
        PostingMonth.objects.create(company=pnl_company, month=month(2025, 1), synced_at=now)
        Posting.objects.bulk_create(
            Posting(
                company=pnl_company,
                tripletex_id=pk,
                date=datetime.date(2025, 1, day),
                account_number=3000,
                amount=Decimal(amount),
                synced_at=now,
            )
            for pk, day, amount in ((1, 10, -60_000), (2, 20, -40_000))
        )
    return pnl_company


@pytest.mark.parametrize(
    ("signs", "shown"), [("", f"100{NBSP}000"), ("tripletex", f"{MINUS}100{NBSP}000")]
)
def test_the_drill_down_has_the_sign_of_the_cell_it_came_from(
    client, anders, drill_company, signs, shown
):
    client.force_login(anders)
    page = f"/c/{drill_company.slug}/resultat/?ar=2025&mnd=3" + (
        f"&fortegn={signs}" if signs else ""
    )
    html = client.get(page).content.decode()
    january = _cells(_account_row(html, 3000))[0]
    link = re.search(r'href="([^"]+)"', january)[1].replace("&amp;", "&")
    assert re.sub(r"<[^>]+>", "", january) == shown  # the P&L cell
    drill = client.get(urljoin(page, link))
    assert drill.status_code == 200
    total = re.search(r'data-testid="page-total">(.*?)</td>', drill.content.decode(), re.S)[1]
    # The postings page sums to the cell's amount, in the cell's sign (øre shown).
    assert re.sub(r"<[^>]+>", "", total) == shown + ",00"


def test_zero_cells_are_not_links(client, anders, pnl_company):
    client.force_login(anders)
    html = client.get(f"/c/{pnl_company.slug}/resultat/?ar=2025&mnd=3").content.decode()
    # 3900 has an amount in February only (−5 000): January and March are plain zeros.
    january, february, march = _cells(_account_row(html, 3900))
    assert (january, march) == ("0", "0")
    assert february.startswith("<a href=")
    assert f"5{NBSP}000" in february
    # Every month of 3000 has an amount, so every one is a link.
    assert all(c.startswith("<a ") for c in _cells(_account_row(html, 3000)))


def test_month_abbreviations_are_lower_case_norwegian(client, anders, acme):
    with scope(company=acme):
        seed_changes(acme, {3000: every_month(month(2025, 1), month(2025, 12), -1)})
    client.force_login(anders)
    html = client.get(f"/c/{acme.slug}/resultat/?ar=2025&mnd=12").content.decode()
    head = re.search(r"<thead>.*?</thead>", html, re.S)[0]
    months = re.findall(r'<th scope="col" class="num">([^<]*)</th>', head)[:12]
    assert months == [
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "mai",
        "jun.",
        "jul.",
        "aug.",
        "sept.",
        "okt.",
        "nov.",
        "des.",
    ]
    assert "Des" not in head
    csv = client.get(f"/c/{acme.slug}/resultat/csv/?ar=2025&mnd=12").content.decode()
    assert ";des. 2025;" in csv


def test_key_figures_page_shows_each_figure_with_its_formula(client, anders, acme):
    with scope(company=acme):
        seed_changes(acme, KEYFIGURES_CHANGES)
    client.force_login(anders)
    pnl = client.get(f"/c/{acme.slug}/resultat/").content.decode()
    nav = re.search(r'data-testid="nav-key-figures"', pnl)
    assert nav  # reachable from the figures navigation
    response = client.get(f"/c/{acme.slug}/nokkeltall/?periode=kvartal&ar=2025&kv=1")
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(r'<tr data-testid="keyfigure-liquidity_ratio">.*?</tr>', html, re.S)[0]
    # The name carries the formula on hover; the value points at the visible formula.
    assert '<abbr title="Omløpsmidler (14xx–19xx) / kortsiktig gjeld (23xx–29xx)' in row
    assert 'aria-describedby="formula-liquidity_ratio"' in row
    assert 'id="formula-liquidity_ratio">Omløpsmidler' in row
    assert ">2,41<" in row  # 229 000 / 95 000, tests/ledger/test_keyfigures.py
    assert "64,5" in html  # the equity ratio
    assert 'data-reconciled="true"' in html
    net = re.search(r'data-testid="cashflow-net">.*?</tr>', html, re.S)[0]
    assert f"49{NBSP}000" in net  # the change in cash in Q1


def test_a_bad_period_says_so_and_shows_the_default(client, anders, pnl_company):
    client.force_login(anders)
    response = client.get(f"/c/{pnl_company.slug}/resultat/?periode=egen&fom=2025-13&tom=x")
    assert response.status_code == 200
    html = response.content.decode()
    assert "fom må være en måned som 2025-03" in html
    export = client.get(f"/c/{pnl_company.slug}/resultat/csv/?periode=egen&fom=2025-01")
    assert export.status_code == 400

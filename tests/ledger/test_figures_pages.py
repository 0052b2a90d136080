"""The P&L and balance-sheet pages: rendering, status and warnings, URL state, query counts."""

import datetime
import re
from urllib.parse import urljoin

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from ledger.models import MonthSync, SyncRun
from tests.ledger.figures_data import (
    BALANCE_CHANGES,
    every_month,
    month,
    seed_changes,
)

NBSP = "\u00a0"


def _row(html: str, testid: str) -> str:
    match = re.search(rf'<tr[^>]*data-testid="{testid}".*?</tr>', html, re.S)
    assert match, testid
    return match.group(0)


def test_pnl_page_shows_groups_totals_and_accounts(client, anders, pnl_company):
    client.force_login(anders)
    response = client.get(f"/c/{pnl_company.slug}/resultat/")
    assert response.status_code == 200
    html = response.content.decode()
    net = _row(html, "total-net_result")
    assert f"49{NBSP}000" in net
    assert f"41{NBSP}500" in net
    assert 'class="negative">\u22121' in net  # March's −1 000 is marked negative
    revenue = _row(html, "group-revenue")
    assert f"305{NBSP}000" in revenue
    assert 'class="variance fav"' in revenue
    assert 'class="variance unfav"' in _row(html, "group-cogs")
    # Accounts are in the page (closed groups hide them with CSS) and drill down per month.
    href = re.search(r'data-account="3000".*?<a href="([^"]+)"', html, re.S).group(1)
    page_url = f"/c/{pnl_company.slug}/resultat/"
    assert urljoin(page_url, href) == f"/c/{pnl_company.slug}/posteringer/3000/2025/1/"
    assert 'data-group="revenue"' in html
    assert "is-open" not in html


def test_pnl_period_and_signs_are_read_from_the_url(client, anders, pnl_company):
    client.force_login(anders)
    response = client.get(f"/c/{pnl_company.slug}/resultat/?ar=2025&mnd=2&fortegn=tripletex")
    period = response.context["period"]
    assert (period.through, period.is_raw) == (month(2025, 2), True)
    html = response.content.decode()
    assert f"\u2212225{NBSP}000" in _row(html, "group-revenue")  # raw YTD Jan–Feb
    # The exports and the group toggles keep the same period and signs.
    assert "resultat/excel/?periode=hittil&amp;ar=2025&amp;mnd=2&amp;fortegn=tripletex" in html
    assert '<option value="2" selected>' in html


def test_open_groups_are_kept_in_the_url(client, anders, pnl_company):
    client.force_login(anders)
    html = client.get(f"/c/{pnl_company.slug}/resultat/?apne=revenue,opex").content.decode()
    assert re.search(r'class="group is-open"\s+data-group="revenue"', html)
    assert re.search(r'class="group is-open"\s+data-group="opex"', html)
    assert re.search(r'class="group"\s+data-group="cogs"', html)
    # The revenue toggle closes revenue and keeps opex open.
    assert 'href="?periode=hittil&amp;ar=2025&amp;mnd=3&amp;apne=opex" aria-expanded="true"' in html
    everything = client.get(f"/c/{pnl_company.slug}/resultat/?apne=alle").content.decode()
    assert 'class="group"' not in everything.replace('class="group-toggle"', "")


def test_bad_period_parameters_fall_back_to_defaults(client, anders, pnl_company):
    client.force_login(anders)
    response = client.get(f"/c/{pnl_company.slug}/resultat/?ar=abc&mnd=13&fortegn=x")
    assert response.status_code == 200
    assert response.context["period"].through == month(2025, 3)


def test_figures_as_of_and_incomplete_warning(client, anders, pnl_company):
    finished = datetime.datetime(2025, 4, 2, 6, 30, tzinfo=timezone.get_default_timezone())
    with scope(company=pnl_company):
        SyncRun.objects.create(
            company=pnl_company,
            trigger="schedule",
            status="incomplete",
            finished_at=finished,
        )
        MonthSync.objects.filter(company=pnl_company, month=month(2025, 3)).update(
            synced_at=finished, is_complete=False, problem="sum of changes is 12.00, not 0"
        )
    client.force_login(anders)
    for path in ("resultat/", "balanse/"):
        html = client.get(f"/c/{pnl_company.slug}/{path}").content.decode()
        assert 'data-testid="figures-as-of">2.' in html
        assert 'data-testid="incomplete-warning"' in html
        assert "2025-03: sum of changes is 12.00, not 0" in html


def test_no_warning_when_figures_are_complete(client, anders, pnl_company):
    client.force_login(anders)
    html = client.get(f"/c/{pnl_company.slug}/resultat/").content.decode()
    assert 'data-testid="incomplete-warning"' not in html
    assert 'data-testid="figures-status"' in html


def test_pages_without_figures(client, anders, acme):
    client.force_login(anders)
    for path in ("resultat/", "balanse/"):
        response = client.get(f"/c/{acme.slug}/{path}")
        assert response.status_code == 200
        assert 'data-testid="pnl-table"' not in response.content.decode()


def test_balance_page_shows_check_line(client, anders, acme):
    with scope(company=acme):
        seed_changes(acme, BALANCE_CHANGES)
    client.force_login(anders)
    response = client.get(f"/c/{acme.slug}/balanse/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-balanced="true"' in html
    assert f"624{NBSP}000" in _row(html, "total-assets")
    assert f"624{NBSP}000" in _row(html, "total-equity-liabilities")
    assert f"114{NBSP}000" in _row(html, "line-unallocated_result")
    href = re.search(r'data-account="1920".*?<a href="([^"]+)"', html, re.S).group(1)
    expected = f"/c/{acme.slug}/posteringer/1920/2025/3/?fra=balanse"
    assert urljoin(f"/c/{acme.slug}/balanse/", href) == expected
    off = client.get(f"/c/{acme.slug}/balanse/?ar=2025&mnd=1").content.decode()
    assert 'data-balanced="false"' in off


def _many_accounts(company, n_accounts: int) -> None:
    """n accounts spread over every group, with 15 months of movements each."""
    numbers = [3000 + (i * 5997) // n_accounts for i in range(n_accounts)]
    numbers += [1000 + (i * 1999) // n_accounts for i in range(n_accounts // 3)]
    changes = {n: every_month(month(2024, 1), month(2025, 3), 100 + n) for n in set(numbers)}
    with scope(company=company):
        seed_changes(company, changes)


@pytest.mark.parametrize("path", ["resultat/", "balanse/", "resultat/excel/", "balanse/csv/"])
def test_query_count_does_not_grow_with_the_accounts(
    client, anders, acme, bergen, bob, path, django_assert_max_num_queries
):
    _many_accounts(acme, 20)
    _many_accounts(bergen, 400)
    counts = []
    for user, company in ((anders, acme), (bob, bergen)):
        client.force_login(user)
        client.get(f"/c/{company.slug}/{path}")  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/c/{company.slug}/{path}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(20):
        client.get(f"/c/{bergen.slug}/{path}")


@pytest.mark.parametrize(
    "value", ["0", "0.49", "0.5", "-0.5", "-0.49", "999.5", "1234567.89", "-1234567.5", "-1000"]
)
def test_fast_cell_format_matches_the_money_filter(value):
    from decimal import Decimal

    from ledger.templatetags.figures_tags import _whole
    from ledger.templatetags.money import nok_cell

    assert _whole(Decimal(value)) == str(nok_cell(Decimal(value), 0))


def test_pages_have_no_inline_styles_or_scripts(client, anders, pnl_company):
    client.force_login(anders)
    for path in ("resultat/", "balanse/", "posteringer/3000/2025/1/"):
        html = client.get(f"/c/{pnl_company.slug}/{path}").content.decode()
        assert "style=" not in html
        assert "<script>" not in html

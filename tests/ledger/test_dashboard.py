"""The office dashboard: hand-computed result, change from last year, budget variance and
liquidity per firm; server-side sorting with aria-sort; the same number of queries for 3 firms
as for 200."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.models import Membership, Role, User
from companies.services import company_create
from ledger.budgets.totals import budget_totals_refresh
from ledger.dashboard import selectors as dashboard_selectors
from ledger.dashboard import views as dashboard_views
from ledger.dashboard.selectors import office_dashboard
from ledger.figures.keyfigures import key_figures
from ledger.models import Budget, ReportPack, SyncRun
from ledger.periods import month_next
from ledger.sync.month_replace import balances_month_replace
from tripletex.sandbox.store import bench_org_number

D = Decimal
TODAY = datetime.date(2026, 3, 15)


def _m(year, month):
    return datetime.date(year, month, 1)


def _firm(name, n, user, role=Role.ACCOUNTANT, *, changes=(), balances=(), budgets=()):
    """A company with the user as member; balances as (account, month, change or out), a row
    for every month an account's balance is not zero, written as the sync writes them (each month
    whole, with its MonthSync and totals); budgets as (account, month, amount, department), with
    their monthly totals as the upload and the budget sync write them."""
    company = company_create(org_number=bench_org_number(n), name=name)
    Membership.objects.create(user=user, company=company, role=role)
    now = timezone.now()
    by_month = defaultdict(list)
    for a, m, v in [*changes, *balances]:
        by_month[m].append((a, D(0), D(v), D(v)))
    with scopes_disabled():
        for m, values in sorted(by_month.items()):
            balances_month_replace(company=company, month=m, values=values, synced_at=now)
        Budget.objects.bulk_create(
            Budget(
                company=company,
                account_number=a,
                month=m,
                amount=D(v),
                department_id=dept,
                source=Budget.Source.UPLOAD,
                updated_at=now,
            )
            for a, m, v, dept in budgets
        )
        if budgets:
            months = [m for _a, m, _v, _d in budgets]
            budget_totals_refresh(company=company, start=min(months), end=month_next(max(months)))
    return company


@pytest.fixture
def dashboard_firms(alice):
    """Firm A, hand-computed (see the test), and firm B without figures or budget."""
    a = _firm(
        "Alfa Holding AS",
        1,
        alice,
        role=Role.FINANCE,
        changes=[
            (3000, _m(2026, 1), "-100000"),
            (4000, _m(2026, 1), "40000"),
            (3000, _m(2026, 2), "-120000"),
            (6300, _m(2026, 2), "15000"),
            (8960, _m(2026, 2), "5000"),  # an allocation: not in the result
            (3000, _m(2026, 3), "-90000"),
            (8050, _m(2026, 3), "-500"),
            (4000, _m(2026, 3), "30000"),
            (3000, _m(2026, 4), "-999"),  # after the current month
            (3000, _m(2025, 1), "-80000"),
            (4000, _m(2025, 2), "10000"),
            (3000, _m(2025, 3), "-50000"),
            (3000, _m(2025, 4), "-777777"),  # after last year's same months
        ],
        balances=[
            (1920, _m(2026, 2), "300000"),
            (1920, _m(2026, 3), "250000"),
            (1920, _m(2026, 4), "1"),
            (1500, _m(2025, 11), "40000"),
            (1500, _m(2026, 3), "50000"),
            (2400, _m(2026, 3), "-100000"),
            (2740, _m(2026, 1), "-70000"),
            (2740, _m(2026, 3), "-50000"),
            (1000, _m(2026, 3), "999999"),  # fixed asset
            (2100, _m(2026, 3), "-123"),  # long-term debt
        ],
        budgets=[
            (3000, _m(2026, 1), "-90000", None),
            (3000, _m(2026, 2), "-100000", None),
            (3000, _m(2026, 3), "-100000", None),
            (4000, _m(2026, 3), "50000", None),
            (3000, _m(2026, 1), "-1000000", 5),  # a department's: not the company's budget
        ],
    )
    b = _firm("Beta Eiendom AS", 2, alice)
    return a, b


def test_figures_hand_computed(dashboard_firms, alice):
    """A, fiscal year 2026 through March. Result: Jan 100 000 − 40 000 = 60 000; Feb 120 000 −
    15 000 = 105 000; Mar 90 000 + 500 − 30 000 = 60 500; total 225 500 (8960 and April left out).
    Last year: 80 000 − 10 000 + 50 000 = 120 000, change 105 500 = 87,9 %. Budget: 90 000 +
    100 000 + 100 000 − 50 000 = 240 000, variance −14 500 = −6,0 %. Liquidity at the end of March
    (the last synced month up to today): current assets 250 000 + 50 000 = 300 000 / short-term
    debt 100 000 + 50 000 = 150 000 = 2,00 (not February's or April's rows, nor 10xx or 21xx)."""
    a, b = dashboard_firms
    rows = {r.company.pk: r for r in office_dashboard(user=alice, today=TODAY)}
    row = rows[a.pk]
    assert (row.result, row.result_last_year) == (D("225500"), D("120000"))
    assert (row.change, row.change_pct) == (D("105500"), D("87.9"))
    assert (row.budget, row.variance, row.variance_pct) == (D("240000"), D("-14500"), D("-6.0"))
    assert (row.liquidity.numerator, row.liquidity.denominator) == (D("300000"), D("150000"))
    assert row.liquidity.value == D("2.00")
    with scope(company=a):
        same = key_figures(company=a, date_from=_m(2026, 1), date_to=_m(2026, 4))
    assert same["liquidity_ratio"].value == row.liquidity.value
    empty = rows[b.pk]
    assert not empty.has_figures
    assert (empty.result, empty.budget, empty.liquidity.value) == (D(0), None, None)


def _table(response) -> str:
    html = response.content.decode()
    return html[html.index('data-testid="dashboard-table"') :]


def test_page_sorts_server_side_with_aria_sort(client, alice, dashboard_firms, settings):
    settings.LANGUAGE_CODE = "en"
    a, b = dashboard_firms
    client.force_login(alice)
    url = reverse("office_dashboard")
    by_name = client.get(url)
    assert by_name.status_code == 200
    html = _table(by_name)
    assert html.index("Alfa Holding AS") < html.index("Beta Eiendom AS")
    assert 'aria-sort="ascending"><a href="?sort=-name"' in html
    worst_first = _table(client.get(url + "?sort=-liquidity"))
    assert 'aria-sort="descending"><a href="?sort=liquidity"' in worst_first
    assert worst_first.index("Alfa Holding AS") < worst_first.index("Beta Eiendom AS")
    by_result = _table(client.get(url + "?sort=result"))
    assert by_result.index("Beta Eiendom AS") < by_result.index("Alfa Holding AS")
    assert client.get(url + "?sort=nonsense").status_code == 200


def test_start_page_links_the_dashboard_for_several_firms(client, alice, dashboard_firms):
    client.force_login(alice)
    assert 'data-testid="dashboard-link"' in client.get(reverse("home")).content.decode()


def _office(user, start, count):
    for n in range(start, start + count):
        company = _firm(
            f"Firma {n:03d} AS",
            100 + n,
            user,
            role=Role.FINANCE if n % 2 else Role.ACCOUNTANT,
            changes=[(3000, _m(2026, 1), "-1000"), (3000, _m(2025, 1), "-900")],
            balances=[(1920, _m(2026, 1), "500"), (2400, _m(2026, 1), "-250")],
            budgets=[(3000, _m(2026, 1), "-1100", None)],
        )
        SyncRun.objects.create(
            company=company, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.SUCCEEDED
        )
        with scopes_disabled():
            ReportPack.objects.create(company=company, month=_m(2026, 2), status="done")


def _queries(user) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        rows = office_dashboard(user=user, today=TODAY)
    return len(queries), len(rows)


def test_query_count_is_the_same_for_3_and_200_firms(db):
    office = User.objects.create_user(email="kontor@example.no", password="not-used-here-9")
    _office(office, 0, 3)
    small, n_small = _queries(office)
    _office(office, 3, 197)
    large, n_large = _queries(office)
    assert (n_small, n_large) == (3, 200)
    assert small == large


def test_rows_show_each_state(client, alice, dashboard_firms, settings, monkeypatch):
    """A (finance): its figures linked to its P&L, last year and budget on hover, the liquidity
    ratio, the transactions; B (accountant, nothing synced): no figures, a link to its budget page,
    the transactions hidden; the name escaped."""
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(dashboard_views, "today_local", lambda: TODAY)
    monkeypatch.setattr(dashboard_selectors, "today_local", lambda: TODAY)
    a, b = dashboard_firms
    b.name = "Beta & <Eiendom> AS"
    b.save()
    client.force_login(alice)
    html = _table(client.get(reverse("office_dashboard")))
    row_a = html[html.index(f'data-company="{a.slug}"') :]
    row_a = row_a[: row_a.index("</tr>")]
    assert f'<a href="/c/{a.slug}/resultat/">225\u00a0500</a>' in row_a
    assert 'title="Same months last year: 120\u00a0000">105\u00a0500' in row_a
    assert '<span class="muted">(87,9&nbsp;%)</span>' in row_a
    assert '<span title="Budget: 240\u00a0000"><span class="negative">\u221214\u00a0500</span>' in (
        row_a
    )
    assert '<td class="num" data-testid="liquidity" title="Current assets' in row_a
    assert ">2,00</td>" in row_a
    assert '<td class="num" data-testid="waiting">0</td>' in row_a
    assert '<span class="muted">Never</span>' in row_a
    assert '<span class="muted">None yet</span>' in row_a
    row_b = html[html.index(f'data-company="{b.slug}"') :]
    row_b = row_b[: row_b.index("</tr>")]
    assert "Beta &amp; &lt;Eiendom&gt; AS" in row_b
    assert '<td class="num muted" data-testid="result">No figures</td>' in row_b
    assert f'<a class="muted" href="/c/{b.slug}/budsjett/">No budget</a>' in row_b
    assert 'title="Visible to finance and administrators">–</span>' in row_b

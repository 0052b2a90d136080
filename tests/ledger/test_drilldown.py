"""Drill-down to postings stored from the Tripletex sandbox: paging, voucher links, ours, the
refresh that pulls a month again, and its errors. Reading a page never calls Tripletex."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from companies.credentials import connection_set_own_key, tripletex_client_for
from companies.services import company_create, membership_set
from ledger.figures import drilldown
from ledger.figures.drilldown import postings_for_account_month
from ledger.models import LedgerAccount
from tests.conftest import make_user
from tripletex.sandbox import demo

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_cache")]


@pytest.fixture
def holding_with_chart(db, settings, tripletex_sandbox):
    """Fjellvik Holding connected to the sandbox with its own key and its chart of accounts."""
    settings.TRIPLETEX_WEB_URL = "https://tripletex.example"
    company = company_create(org_number=demo.HOLDING.org_number, name=demo.HOLDING.name)
    connection_set_own_key(company=company, token=demo.HOLDING_TOKEN, by=None)
    now = timezone.now()
    accounts = tripletex_client_for(company).accounts()
    with scope(company=company):
        LedgerAccount.objects.bulk_create(
            LedgerAccount(
                company=company, tripletex_id=a.id, number=a.number, name=a.name, synced_at=now
            )
            for a in accounts
        )
    company.sandbox = tripletex_sandbox
    company.bank_id = next(a.id for a in accounts if a.number == 1920)
    return company


def _march(sandbox) -> datetime.date:
    return datetime.date(sandbox.store.today().year - 1, 3, 1)


def _sandbox_postings(company, month):
    following = datetime.date(month.year, month.month + 1, 1)
    total, items = company.sandbox.store.postings(
        demo.HOLDING.company_id, month, following, filters={"account_id": company.bank_id}
    )
    return total, items


def _refresh(company, month):
    with scope(company=company):
        return drilldown.postings_refresh(company=company, month=month)


def _tripletex_refuses_everything(company):
    company.sandbox.faults.update({"fail_next": {"count": 1000, "status": 403}})


def test_pages_through_every_posting(holding_with_chart, monkeypatch):
    monkeypatch.setattr(drilldown, "PAGE_SIZE", 2)
    month = _march(holding_with_chart.sandbox)
    total, items = _sandbox_postings(holding_with_chart, month)
    assert total > 4  # the fixture month must need several pages
    assert _refresh(holding_with_chart, month) == ""
    _tripletex_refuses_everything(holding_with_chart)  # reading pages must not call it
    seen, page = [], 1
    with scope(company=holding_with_chart):
        while True:
            result = postings_for_account_month(
                company=holding_with_chart, account_number=1920, month=month, page=page
            )
            assert result.error == ""
            assert result.is_stored
            assert len(result.rows) <= 2
            seen += result.rows
            if not result.has_next:
                break
            page += 1
    assert page == (total + 1) // 2
    assert len(seen) == total
    assert sum(r.amount for r in seen) == sum(Decimal(str(i["amount"])) for i in items)
    assert all(month <= r.date < datetime.date(month.year, 4, 1) for r in seen)
    first = seen[0]
    assert first.voucher_number is not None
    assert first.voucher_url == (
        f"https://tripletex.example/execute/voucher?voucherId={first.voucher_id}"
    )


def test_the_sync_stores_what_the_drilldown_shows_and_a_refresh_pulls_a_new_voucher(
    holding_with_chart,
):
    from tests.ledger.support import connect
    from tests.ledger.test_sync import book, run_sync

    connect(holding_with_chart, token=demo.HOLDING_TOKEN)
    run_sync(holding_with_chart)
    sandbox = holding_with_chart.sandbox
    month = _march(sandbox)
    total, _items = _sandbox_postings(holding_with_chart, month)
    with scope(company=holding_with_chart):
        before = postings_for_account_month(
            company=holding_with_chart, account_number=1920, month=month
        )
    assert before.is_stored
    assert len(before.rows) == total
    assert before.page_total == before.synced_change

    # A voucher booked in Tripletex since: the stored page does not show it until a refresh.
    sandbox.store.today_override = month + datetime.timedelta(days=20)
    book(sandbox, [(6800, Decimal("75.00")), (1920, Decimal("-75.00"))], day=month)
    sandbox.store.today_override = None
    with scope(company=holding_with_chart):
        unchanged = postings_for_account_month(
            company=holding_with_chart, account_number=1920, month=month
        )
        assert len(unchanged.rows) == total
        assert drilldown.postings_refresh(company=holding_with_chart, month=month) == ""
        after = postings_for_account_month(
            company=holding_with_chart, account_number=1920, month=month
        )
    assert len(after.rows) == total + 1
    assert after.as_of > before.as_of
    assert Decimal("-75.00") in [r.amount for r in after.rows]


def test_a_month_not_stored_says_so_without_calling_tripletex(holding_with_chart):
    _tripletex_refuses_everything(holding_with_chart)
    with scope(company=holding_with_chart):
        result = postings_for_account_month(
            company=holding_with_chart,
            account_number=1920,
            month=_march(holding_with_chart.sandbox),
        )
    assert result.error == ""
    assert not result.is_stored
    assert result.rows == []


def test_tripletex_errors_of_a_refresh_become_a_message(holding_with_chart):
    _tripletex_refuses_everything(holding_with_chart)
    error = _refresh(holding_with_chart, _march(holding_with_chart.sandbox))
    assert error
    assert "Traceback" not in error


def test_unknown_account_and_missing_connection(holding_with_chart, acme):
    with scope(company=holding_with_chart):
        result = postings_for_account_month(
            company=holding_with_chart,
            account_number=1999,
            month=_march(holding_with_chart.sandbox),
        )
    assert result.error
    assert not result.rows
    with scope(company=acme):
        LedgerAccount.objects.create(
            company=acme, tripletex_id=1, number=1920, name="Bank", synced_at=timezone.now()
        )
        result = postings_for_account_month(
            company=acme, account_number=1920, month=datetime.date(2025, 1, 1)
        )
    assert result.error == ""
    assert not result.rows
    assert _refresh(acme, datetime.date(2025, 1, 1))


def test_vouchers_booked_by_us_are_marked(holding_with_chart):
    from ledger.models import Transaction

    month = _march(holding_with_chart.sandbox)
    _total, items = _sandbox_postings(holding_with_chart, month)
    ours = items[0]["voucher"].id
    assert _refresh(holding_with_chart, month) == ""
    with scope(company=holding_with_chart):
        Transaction.objects.create(
            company=holding_with_chart,
            kind="journal",
            trade_date=month,
            status="booked",
            tripletex_voucher_id=ours,
        )
        result = postings_for_account_month(
            company=holding_with_chart, account_number=1920, month=month
        )
    marked = {r.voucher_id for r in result.rows if r.is_ours}
    assert marked == {ours}


def test_postings_page_in_the_browser_flow(client, holding_with_chart, monkeypatch):
    monkeypatch.setattr(drilldown, "PAGE_SIZE", 2)
    user = make_user("accountant@fjellvik.no")
    membership_set(company=holding_with_chart, user=user, role="accountant")
    client.force_login(user)
    month = _march(holding_with_chart.sandbox)
    url = f"/c/{holding_with_chart.slug}/posteringer/1920/{month.year}/3/"
    empty = client.get(url + "?fra=balanse")
    assert 'data-testid="postings-not-stored"' in empty.content.decode()

    refreshed = client.post(url + "oppdater/", {"fra": "balanse"})
    assert refreshed.status_code == 302
    assert refreshed["Location"] == url + "?fra=balanse"
    response = client.get(url + "?side=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="postings-as-of"' in html
    assert html.count('class="posting-row"') == 2
    assert 'data-testid="page-previous"' in html
    assert 'data-testid="page-next"' in html
    assert 'href="https://tripletex.example/execute/voucher?voucherId=' in html
    assert (
        client.get(f"/c/{holding_with_chart.slug}/posteringer/1920/{month.year}/13/").status_code
        == 404
    )
    assert client.get(url + "oppdater/").status_code == 405
    holding_with_chart.sandbox.faults.update({"fail_next": {"count": 5, "status": 403}})
    failed = client.post(url + "oppdater/", follow=True)
    assert failed.status_code == 200
    assert any(m.level_tag == "error" for m in failed.context["messages"])
    # The stored postings are still there: a failed refresh replaces nothing.
    assert failed.content.decode().count('class="posting-row"') == 2

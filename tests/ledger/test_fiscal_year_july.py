"""A firm whose fiscal year starts in July, end to end: the sandbox's ledger, the sync (which
months, the tie-out), the sync window and the P&L page all agree on July–June years.

The sandbox is seeded up to a fixed day, 16 March 2026, so the fiscal years are known: the current
one is 2025/26 (July 2025 – June 2026) and the previous one 2024/25, which starts before the
calendar year before today does.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from ledger.models import AccountBalance, MonthSync, SyncRun
from ledger.periods import FiscalYear, fiscal_year_start_month_of, month_next, months_in
from ledger.sync.selectors import figures_status, sync_month_choices, window_start
from ledger.sync.services import balances_sync, sync_request
from ledger.sync.tieout import tieout_check
from tests.ledger.support import connect
from tripletex.sandbox import demo

TODAY = datetime.date(2026, 3, 16)
CURRENT = FiscalYear(datetime.date(2025, 7, 1))
PREVIOUS = FiscalYear(datetime.date(2024, 7, 1))
SYNCED = months_in(PREVIOUS.start, month_next(TODAY))  # July 2024 – March 2026


@pytest.fixture
def july_firm(acme, july_sandbox):
    """Acme, connected to the sandbox's July-fiscal-year holding company."""
    return connect(acme, token=demo.JULY_TOKEN)


def _sync(company):
    with scope(company=company):
        run, _created = sync_request(
            company=company, trigger=SyncRun.Trigger.COMMAND, enqueue=False
        )
        return balances_sync(company=company, run=run, today=TODAY)


def _expected_balances(server) -> dict:
    """{(account, month): (in, change, out)} from the sandbox's postings, years from July."""
    postings = server.store.all_postings(demo.JULY.company_id)
    grid = {}
    for month in SYNCED:
        year_start = (CURRENT if CURRENT.contains(month) else PREVIOUS).start
        sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for number, day, amount in postings:
            if day < month:
                if number < 3000 or day >= year_start:
                    sums[number][0] += amount
            elif day < month_next(month):
                sums[number][1] += amount
        for number, (b_in, change) in sums.items():
            if b_in or change:
                grid[(number, month)] = (b_in, change, b_in + change)
    return grid


def _result(server, start: datetime.date, end: datetime.date) -> Decimal:
    """The net result (profit positive) of [start, end): accounts 3000–8799, as the P&L sums."""
    postings = server.store.all_postings(demo.JULY.company_id)
    return -sum(
        (
            amount
            for number, day, amount in postings
            if 3000 <= number < 8800 and start <= day < end
        ),
        Decimal(0),
    )


def test_july_firm_syncs_both_fiscal_years_ties_out_and_shows_its_pnl(
    client, alice, july_firm, july_sandbox
):
    run = _sync(july_firm)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    with scopes_disabled():
        months = list(MonthSync.objects.filter(company=july_firm).values_list("month", flat=True))
        incomplete = list(
            MonthSync.objects.filter(company=july_firm, is_complete=False).values_list(
                "month", "problem"
            )
        )
        stored = {
            (n, m): (i, c, o)
            for n, m, i, c, o in AccountBalance.objects.filter(company=july_firm).values_list(
                "account_number", "month", "balance_in", "balance_change", "balance_out"
            )
        }
    assert sorted(months) == SYNCED, "the previous fiscal year starts in July 2024"
    assert incomplete == []
    assert stored == _expected_balances(july_sandbox)
    with scope(company=july_firm):
        assert fiscal_year_start_month_of(company=july_firm) == 7
        assert tieout_check(company=july_firm, fiscal_years=[PREVIOUS, CURRENT]) == {}
        assert window_start(company=july_firm, today=TODAY) == PREVIOUS.start
        assert sync_month_choices(company=july_firm, today=TODAY) == SYNCED[::-1]
        assert not figures_status(company=july_firm).is_incomplete

    client.force_login(alice)
    response = client.get(f"/c/{july_firm.slug}/resultat/")

    assert response.status_code == 200
    period, pnl = response.context["period"], response.context["pnl"]
    assert (period.fiscal_year, period.fiscal_year.label) == (CURRENT, "2025/26")
    assert period.months == months_in(CURRENT.start, month_next(TODAY))
    net = next(line for line in pnl.lines if line.key == "net_result").cells
    assert net.ytd == _result(july_sandbox, CURRENT.start, month_next(TODAY)) != 0
    # Same period last year: July 2024 – March 2025, all of it synced.
    assert net.last_year == _result(july_sandbox, PREVIOUS.start, datetime.date(2025, 4, 1)) != 0
    assert not response.context["status"].is_incomplete
    assert "2025/26" in response.content.decode()


def test_second_sync_of_a_july_firm_pulls_only_its_open_months(july_firm, july_sandbox):
    first = _sync(july_firm)
    second = _sync(july_firm)

    open_months = [
        datetime.date.fromisoformat(p["start"])
        for p in july_sandbox.store.periods(demo.JULY.company_id)
        if not p["isClosed"] and p["start"] <= TODAY.isoformat()
    ]
    assert first.months_done == len(SYNCED)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.months_done == len(open_months)
    assert second.months_skipped == len(SYNCED) - len(open_months)

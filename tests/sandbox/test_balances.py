"""Balance sheets of the sandbox agree with its postings, month by month."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from stdnum.no import orgnr

from tripletex.sandbox import demo, seed
from tripletex.sandbox.store import Store

FIELDS = "account(id,number,name),balanceIn,balanceChange,balanceOut,startDate,endDate"


def _months(today: date, start_month: int = 1) -> list[tuple[date, date]]:
    """[start, end) of each month of the previous and current fiscal year up to today."""
    out = []
    current = seed.fiscal_year_start(today, start_month)
    start = current.replace(year=current.year - 1)
    while start <= today:
        out.append((start, seed.next_month(start)))
        start = seed.next_month(start)
    return out


def _pull(http, server, date_from, date_to, **params):
    resp = http.get(
        f"{server.base_url}/balanceSheet",
        params={
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "fields": FIELDS,
            **params,
        },
    )
    assert resp.status_code == 200, resp.text
    return {row["account"]["number"]: row for row in resp.json(parse_float=Decimal)["values"]}


def _expected(postings, date_from, date_to, start_month=1):
    """Independent computation of (in, change) per account number from raw postings."""
    balance_in, change = defaultdict(Decimal), defaultdict(Decimal)
    year = date_from.year if date_from.month >= start_month else date_from.year - 1
    year_start = date(year, start_month, 1)
    for number, day, amount in postings:
        if date_from <= day < date_to:
            change[number] += amount
        elif day < date_from and (number < 3000 or day >= year_start):
            balance_in[number] += amount
    return balance_in, change


@pytest.mark.parametrize("company", [demo.HOLDING, demo.OPERATING, demo.JULY])
def test_monthly_balances_match_postings(tripletex_sandbox_shared, sandbox_http, company):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, company.employee_token)
    postings = server.store.all_postings(company.company_id)
    assert len(postings) > 100
    start_month = company.fiscal_year_start_month
    for date_from, date_to in _months(server.store.today(), start_month):
        rows = _pull(http, server, date_from, date_to, includeActiveAccountsWithoutMovements=True)
        balance_in, change = _expected(postings, date_from, date_to, start_month)
        for number, row in rows.items():
            assert row["balanceIn"] == balance_in[number], (date_from, number)
            assert row["balanceChange"] == change[number], (date_from, number)
            assert row["balanceIn"] + row["balanceChange"] == row["balanceOut"]
            assert row["startDate"] == date_from.isoformat()
            assert row["endDate"] == date_to.isoformat()
        assert sum(r["balanceChange"] for r in rows.values()) == 0
        assert sum(r["balanceOut"] for r in rows.values()) == 0


def test_balances_without_flag_still_sum_to_zero(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    today = server.store.today()
    rows = _pull(http, server, date(today.year, 2, 1), date(today.year, 3, 1))
    full = _pull(
        http,
        server,
        date(today.year, 2, 1),
        date(today.year, 3, 1),
        includeActiveAccountsWithoutMovements=True,
    )
    assert len(full) == len(server.store.accounts(demo.OPERATING.company_id)) > len(rows)
    assert sum(r["balanceOut"] for r in rows.values()) == 0


def test_date_to_is_exclusive(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    postings = server.store.all_postings(demo.OPERATING.company_id)
    day = max(d for _, d, _ in postings if d.year == server.store.today().year - 1)
    following = date.fromordinal(day.toordinal() + 1)
    one_day = _pull(http, server, day, following)
    assert any(r["balanceChange"] != 0 for r in one_day.values())
    for number, row in one_day.items():
        assert row["balanceChange"] == sum(a for n, d, a in postings if n == number and d == day)
    # A range ending on `day` leaves that day's postings out.
    before = _pull(http, server, date(day.year, 1, 1), day)
    for number, row in before.items():
        expected = sum(a for n, d, a in postings if n == number and date(day.year, 1, 1) <= d < day)
        assert row["balanceChange"] == expected


def test_result_accounts_restart_each_year(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year
    rows = _pull(http, server, date(year, 1, 1), date(year, 2, 1))
    for number, row in rows.items():
        if number >= 3000:
            assert row["balanceIn"] == 0, number
    # The closing voucher moved last year's result to 2050: 8960 holds it for that year.
    last_year = _pull(http, server, date(year - 1, 12, 1), date(year, 1, 1))
    assert last_year[8960]["balanceChange"] != 0
    results = sum(r["balanceOut"] for n, r in last_year.items() if n >= 3000)
    assert results == 0


def test_result_accounts_of_a_july_fiscal_year_restart_in_july(
    tripletex_sandbox_shared, sandbox_http
):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.JULY_TOKEN)
    july = seed.fiscal_year_start(server.store.today(), 7)
    opening = _pull(http, server, july, seed.next_month(july))
    assert all(row["balanceIn"] == 0 for number, row in opening.items() if number >= 3000)
    # Inside a fiscal year the result accounts carry over New Year.
    january = date(july.year, 1, 1)
    carried = _pull(http, server, january, seed.next_month(january))
    assert any(row["balanceIn"] != 0 for number, row in carried.items() if number >= 3000)
    # The previous fiscal year was closed on 30 June: 8960 holds its result, and results net to 0.
    closing = _pull(http, server, date(july.year, 6, 1), july)
    assert closing[8960]["balanceChange"] != 0
    assert sum(r["balanceOut"] for n, r in closing.items() if n >= 3000) == 0
    periods = server.store.periods(demo.JULY.company_id)
    first = july.replace(year=july.year - 1)
    assert (len(periods), periods[0]["start"], periods[0]["number"]) == (24, first.isoformat(), 1)


def test_account_number_range(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year
    rows = _pull(
        http,
        server,
        date(year, 1, 1),
        date(year, 2, 1),
        accountNumberFrom=1800,
        accountNumberTo=1900,
    )
    assert rows
    assert all(1800 <= n < 1900 for n in rows)


def test_date_range_must_be_given(tripletex_sandbox_shared, sandbox_http):
    http = sandbox_http(tripletex_sandbox_shared)
    resp = http.get(
        f"{tripletex_sandbox_shared.base_url}/balanceSheet", params={"dateFrom": "2025-01-01"}
    )
    assert resp.status_code == 422
    assert resp.json()["validationMessages"][0]["field"] == "dateTo"


def test_holding_company_has_securities_and_dividends(tripletex_sandbox_shared):
    postings = tripletex_sandbox_shared.store.all_postings(demo.HOLDING.company_id)
    numbers = {n for n, _, _ in postings}
    assert {1800, 1810, 1920, 8071, 8960, 2050} <= numbers
    # Realised results on shares are in the 807x/817x groups, never on the currency accounts.
    assert numbers & {8077, 8177, 8178}
    assert not numbers & {8060, 8160}


def test_chart_has_norwegian_names_and_key_accounts(tripletex_sandbox_shared):
    accounts = {
        a["number"]: a for a in tripletex_sandbox_shared.store.accounts(demo.HOLDING.company_id)
    }
    assert 140 <= len(accounts) <= 200
    required = {1800, 1810, 1880, 1920, 2000, 2050, 2400, 2600, 2700, 2710, 2740, 2800, 2920}
    required |= {3000, 4300, 5000, 6300, 8040, 8071, 8077, 8160, 8177, 8300, 8800, 8960}
    assert required <= set(accounts)
    assert accounts[1920]["name"] == "Bankinnskudd"
    # Tripletex's own account help (README, "Default accounts"): these are not share accounts.
    assert accounts[8040]["name"] == "Renteinntekt tilbakebetalt skatt skattefri"
    assert accounts[8060]["name"] == "Valutagevinst (agio)"
    assert accounts[8160]["name"] == "Valutatap (disagio)"
    assert accounts[8077]["name"].startswith("Gevinst ved realisasjon")
    assert accounts[8177]["name"].startswith("Tap ved realisasjon")


def test_bench_companies_are_generated_fast_and_cached(tmp_path):
    store = Store(tmp_path / "bench.sqlite3")
    try:
        started = time.perf_counter()
        info = store.token_info(demo.bench_token(42))
        elapsed = time.perf_counter() - started
        assert info is not None
        assert info.company_id == demo.BENCH_COMPANY_ID_BASE + 42
        assert elapsed < 0.5  # ~15 ms here; generous for slow CI
        assert store.token_info(demo.bench_token(42)) is info
        accounts = store.accounts(info.company_id)
        assert 50 <= len(accounts) <= 70
        postings = store.all_postings(info.company_id)
        assert 200 <= len(postings) <= 1500
        company = store.company(info.company_id)
        assert orgnr.is_valid(company["organizationNumber"])
        other = store.company(store.token_info(demo.bench_token(43)).company_id)
        assert other["organizationNumber"] != company["organizationNumber"]
        assert store.token_info("sandbox-bench-x") is None
    finally:
        store.close()


def test_generation_is_deterministic():
    today = date(2026, 6, 15)
    first = seed.generate("holding", "holding", today)
    second = seed.generate("holding", "holding", today)
    assert [(d.date, d.lines) for d in first] == [(d.date, d.lines) for d in second]


def test_add_volume_books_balanced_postings_over_the_whole_ledger(tmp_path):
    store = Store(tmp_path / "volume.sqlite3", today=date(2026, 3, 16))
    try:
        company = demo.HOLDING.company_id
        before = store.all_postings(company)
        added = store.add_volume(company, postings_per_year=2400)
        after = store.all_postings(company)
    finally:
        store.close()
    assert added == len(after) - len(before)
    # 100 vouchers a month of two postings each, the current month in proportion to its days.
    assert added == 2 * (14 * 100 + 100 * 16 // 28)
    moved: dict[int, Decimal] = defaultdict(Decimal)
    for number, _day, amount in after:
        moved[number] += amount
    for number, _day, amount in before:
        moved[number] -= amount
    changed = {n: v for n, v in moved.items() if v}
    assert set(changed) == {1920, 6800}
    assert changed[6800] == -changed[1920] > 0
    days = {d for _n, d, _a in after} - {d for _n, d, _a in before}
    assert max(days) <= date(2026, 3, 16)
    assert min(d for _n, d, _a in after) == date(2025, 1, 1)

"""Fault knobs of the sandbox: rate limits, latency, errors, dropped replies, corruption."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests

from tests.openapi_contract import load_spec, validate_response
from tripletex.sandbox import SandboxServer, demo
from tripletex.sandbox.faults import Faults


def test_rate_limit_headers_and_429(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    server.faults.rate_limit = 3
    server.faults.rate_window = 30
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    remaining = []
    for _ in range(3):
        resp = http.get(f"{server.base_url}/ledger/vatType")
        assert resp.status_code == 200
        assert resp.headers["X-Rate-Limit-Limit"] == "3"
        assert 0 < int(resp.headers["X-Rate-Limit-Reset"]) <= 30
        remaining.append(int(resp.headers["X-Rate-Limit-Remaining"]))
    assert remaining == [2, 1, 0]
    limited = http.get(f"{server.base_url}/ledger/vatType")
    assert limited.status_code == 429
    assert limited.json()["status"] == 429
    assert "X-Rate-Limit-Reset" in limited.headers


def test_429_without_reset_header(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    server.faults.update({"rate_limit": 1, "omit_reset_on_429": True})
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    assert "X-Rate-Limit-Reset" in http.get(f"{server.base_url}/ledger/vatType").headers
    limited = http.get(f"{server.base_url}/ledger/vatType")
    assert limited.status_code == 429
    assert "X-Rate-Limit-Reset" not in limited.headers
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"


def test_rate_window_resets(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    server.faults.update({"rate_limit": 1, "rate_window": 0.3})
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    assert http.get(f"{server.base_url}/ledger/vatType").status_code == 200
    assert http.get(f"{server.base_url}/ledger/vatType").status_code == 429
    time.sleep(0.35)
    assert http.get(f"{server.base_url}/ledger/vatType").status_code == 200


def test_office_clients_share_one_budget(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    server.faults.rate_limit = 2
    first = sandbox_http(server, demo.OFFICE_TOKEN, company_id=demo.CLIENT_A.company_id)
    second = sandbox_http(server, demo.OFFICE_TOKEN, company_id=demo.CLIENT_B.company_id)
    assert first.get(f"{server.base_url}/ledger/vatType").headers["X-Rate-Limit-Remaining"] == "1"
    assert second.get(f"{server.base_url}/ledger/vatType").headers["X-Rate-Limit-Remaining"] == "0"
    assert first.get(f"{server.base_url}/ledger/vatType").status_code == 429


def test_latency(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    server.faults.latency_ms = 150
    started = time.perf_counter()
    assert http.get(f"{server.base_url}/ledger/vatType").ok
    assert time.perf_counter() - started >= 0.15


def test_error_rate_fails_reads_only(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    server.faults.error_rate = 1.0
    resp = http.get(f"{server.base_url}/ledger/vatType")
    assert resp.status_code == 500
    assert resp.json()["code"] == 1000
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 7770)["id"]
    body = {
        "date": server.store.today().isoformat(),
        "postings": [
            {"row": 1, "account": {"id": fee}, "amountGross": 10},
            {"row": 2, "account": {"id": bank}, "amountGross": -10},
        ],
    }
    assert http.post(f"{server.base_url}/ledger/voucher", json=body).status_code == 201
    server.faults.error_rate = 0.0
    assert http.get(f"{server.base_url}/ledger/vatType").ok


def test_fail_next(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    server.faults.update({"fail_next": {"status": 503, "count": 2}})
    statuses = [http.get(f"{server.base_url}/ledger/vatType").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_drop_reply_after_voucher_store(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    server.faults.drop_reply_after_voucher_store = 1
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 7770)["id"]
    body = {
        "date": server.store.today().isoformat(),
        "externalVoucherNumber": "APP-9-1",
        "postings": [
            {"row": 1, "account": {"id": fee}, "amountGross": 10},
            {"row": 2, "account": {"id": bank}, "amountGross": -10},
        ],
    }
    with pytest.raises(requests.ConnectionError):
        http.post(f"{server.base_url}/ledger/voucher", json=body)
    found = http.get(
        f"{server.base_url}/ledger/voucher/>externalVoucherNumber",
        params={"externalVoucherNumber": "APP-9-1"},
    ).json()["values"]
    assert len(found) == 1
    assert server.faults.drop_reply_after_voucher_store == 0


def test_unbalance_month_breaks_the_tie_out(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year - 1

    def pull(date_from, date_to):
        resp = http.get(
            f"{server.base_url}/balanceSheet",
            params={"dateFrom": date_from, "dateTo": date_to, "fields": "balanceChange"},
        )
        return sum(r["balanceChange"] for r in resp.json(parse_float=Decimal)["values"])

    assert pull(f"{year}-03-01", f"{year}-04-01") == 0
    server.faults.update(
        {"unbalance_month": f"{year}-03", "unbalance_company_id": demo.HOLDING.company_id}
    )
    assert pull(f"{year}-03-01", f"{year}-04-01") == Decimal("100.00")
    assert pull(f"{year}-01-01", f"{year + 1}-01-01") == 0


def test_hide_salary_postings_hides_them_from_postings_not_from_the_balance_sheet(
    tripletex_sandbox_shared, sandbox_http
):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    year = server.store.today().year - 1
    span = {"dateFrom": f"{year}-01-01", "dateTo": f"{year + 1}-01-01"}

    def salary_postings():
        resp = http.get(
            f"{server.base_url}/ledger/posting",
            params={**span, "count": 100_000, "fields": "amount,account(number)"},
        )
        return [p for p in resp.json()["values"] if p["account"]["number"] == 5000]

    def salary_change():
        resp = http.get(
            f"{server.base_url}/balanceSheet",
            params={**span, "fields": "account(number),balanceChange"},
        )
        rows = resp.json(parse_float=Decimal)["values"]
        return sum(r["balanceChange"] for r in rows if r["account"]["number"] == 5000)

    assert salary_postings()
    change = salary_change()
    assert change > 0
    server.faults.hide_salary_postings = True
    assert salary_postings() == []
    assert salary_change() == change


def test_postings_sorted_by_date_then_id_page_without_gaps(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year - 1
    params = {"dateFrom": f"{year}-01-01", "dateTo": f"{year + 1}-01-01", "fields": "id,date"}
    url = f"{server.base_url}/ledger/posting"
    everything = http.get(url, params={**params, "count": 100_000}).json()["values"]
    paged, start = [], 0
    while True:
        page = http.get(url, params={**params, "sorting": "date,id", "from": start, "count": 7})
        values = page.json()["values"]
        paged += values
        if len(values) < 7:
            break
        start += len(values)
    assert paged == sorted(everything, key=lambda p: (p["date"], p["id"]))


def test_faults_update_rejects_unknown_knobs():
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault knob"):
        faults.update({"nope": 1})
    faults.update({"latency_ms": "20", "unbalance_amount": "1.50"})
    assert faults.latency_ms == 20
    assert faults.unbalance_amount == Decimal("1.50")
    faults.reset()
    assert faults == Faults()


def test_admin_endpoints_only_with_admin(tripletex_sandbox_shared, tmp_path):
    resp = requests.get(tripletex_sandbox_shared.base_url[:-3] + "/_sandbox/faults", timeout=10)
    assert resp.status_code == 404
    server = SandboxServer(tmp_path / "admin.sqlite3", admin=True).start()
    try:
        admin = server.base_url[:-3] + "/_sandbox"
        with requests.Session() as http:
            assert http.get(f"{admin}/faults").json()["latency_ms"] == 0
            changed = http.put(f"{admin}/faults", json={"error_rate": 0.5, "fail_next": 1})
            assert changed.json()["error_rate"] == 0.5
            assert server.faults.fail_next == 1
            assert http.put(f"{admin}/faults", json={"bogus": 1}).status_code == 400
            assert http.delete(f"{admin}/faults").json()["fail_next"] == 0
            server.store.today_override = date(2030, 1, 1)
            assert http.post(f"{admin}/reset").json() == {"status": "reset"}
            assert server.store.periods(demo.HOLDING.company_id)[0]["start"] == "2029-01-01"
    finally:
        server.stop()


def test_fail_session_create_answers_each_status_in_turn_as_the_spec_says(
    tripletex_sandbox_shared, sandbox_http
):
    load_spec()
    server = tripletex_sandbox_shared
    api = sandbox_http(server)
    server.faults.update({"fail_session_create": [429, 500], "fail_session_create_reset": 3})
    url = f"{server.base_url}/token/session/:create"
    params = {
        "consumerToken": demo.CONSUMER_TOKEN,
        "employeeToken": demo.HOLDING_TOKEN,
        "expirationDate": (server.store.today() + timedelta(days=7)).isoformat(),
    }
    with requests.Session() as http:
        answers = [http.put(url, params=params, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 500, 200]
    for answer in answers:
        validate_response("PUT", url, answer.status_code, answer.json())
    assert answers[0].headers["X-Rate-Limit-Reset"] == "3"
    assert answers[0].headers["X-Rate-Limit-Remaining"] == "0"
    assert answers[1].json()["code"] == 1000
    assert answers[2].json()["value"]["token"]
    assert server.faults.fail_session_create == ()
    # Only session creation takes these faults: other calls are untouched.
    server.faults.fail_session_create = (503,)
    assert api.get(f"{server.base_url}/ledger/vatType").ok
    assert server.faults.fail_session_create == (503,)


def test_fail_session_create_429_can_omit_the_reset(tripletex_sandbox_shared):
    server = tripletex_sandbox_shared
    server.faults.update({"fail_session_create": [429], "omit_reset_on_429": True})
    resp = requests.put(f"{server.base_url}/token/session/:create", timeout=10)
    assert resp.status_code == 429
    assert "X-Rate-Limit-Reset" not in resp.headers


def _voucher_body(server: SandboxServer, external: str) -> dict:
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 7770)["id"]
    return {
        "date": server.store.today().isoformat(),
        "externalVoucherNumber": external,
        "postings": [
            {"row": 1, "account": {"id": fee}, "amountGross": 10},
            {"row": 2, "account": {"id": bank}, "amountGross": -10},
        ],
    }


def test_fail_path_answers_each_status_in_turn_on_its_path_only(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    url = f"{server.base_url}/ledger/voucher"
    today = server.store.today()
    listing = {"dateFrom": today.isoformat(), "dateTo": (today + timedelta(days=1)).isoformat()}
    server.faults.update({"fail_path": "POST /ledger/voucher", "fail_path_statuses": [0, 503, 422]})
    assert server.faults.fail_path_statuses == (0, 503, 422)
    # A GET of the same path is not a POST: it takes none of the statuses.
    assert http.get(url, params=listing).status_code == 200
    answers = [http.post(url, json=_voucher_body(server, f"APP-9-{n}")) for n in range(4)]
    assert [a.status_code for a in answers] == [201, 503, 422, 201]
    assert answers[1].json()["code"] == 1000
    assert answers[1].headers["x-tlx-request-id"] == answers[1].json()["requestId"]
    assert "X-Rate-Limit-Reset" not in answers[1].headers
    assert server.faults.fail_path_statuses == ()
    # The refused POSTs stored nothing.
    stored = http.get(url, params=listing).json()["values"]
    assert sorted(v["externalVoucherNumber"] for v in stored) == ["APP-9-0", "APP-9-3"]
    # A bare path matches every method.
    server.faults.update({"fail_path": "/ledger/vatType", "fail_path_statuses": [500]})
    assert http.get(f"{server.base_url}/ledger/vatType").status_code == 500
    assert http.get(f"{server.base_url}/ledger/vatType").status_code == 200


def test_blind_lookups_answer_no_rows_for_vouchers_that_exist(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    created = http.post(
        f"{server.base_url}/ledger/voucher", json=_voucher_body(server, "APP-9-7")
    ).json()["value"]
    today = server.store.today()
    by_external = f"{server.base_url}/ledger/voucher/>externalVoucherNumber"
    by_date = f"{server.base_url}/ledger/voucher"
    external = {"externalVoucherNumber": "APP-9-7"}
    dates = {"dateFrom": today.isoformat(), "dateTo": (today + timedelta(days=1)).isoformat()}

    def found() -> tuple[list[int], list[int]]:
        return (
            [v["id"] for v in http.get(by_external, params=external).json()["values"]],
            [v["id"] for v in http.get(by_date, params=dates).json()["values"]],
        )

    assert found() == ([created["id"]], [created["id"]])
    server.faults.update({"blind_external_lookup": True})
    assert found() == ([], [created["id"]])
    server.faults.update({"blind_voucher_search": True})
    assert found() == ([], [])
    listing = http.get(by_date, params=dates).json()
    assert (listing["fullResultSize"], listing["count"]) == (0, 0)
    # The voucher itself is still there.
    assert http.get(f"{by_date}/{created['id']}").json()["value"]["id"] == created["id"]
    server.faults.reset()
    assert found() == ([created["id"]], [created["id"]])


def test_an_added_office_token_reaches_its_bench_clients_on_one_budget(
    tripletex_sandbox, sandbox_http
):
    """bench/night_plan.py puts many firms behind one office key (store.add_office_token)."""
    server = tripletex_sandbox
    clients = [demo.BENCH_COMPANY_ID_BASE + n for n in (1, 2)]
    for n in (1, 2):
        server.store.token_info(demo.bench_token(n))
    server.store.add_office_token("bench-office-test", clients)
    server.faults.rate_limit = 2
    first, second = (sandbox_http(server, "bench-office-test", company_id=c) for c in clients)
    assert first.get(f"{server.base_url}/ledger/vatType").status_code == 200
    assert second.get(f"{server.base_url}/ledger/vatType").status_code == 200
    assert first.get(f"{server.base_url}/ledger/vatType").status_code == 429
    other = sandbox_http(server, "bench-office-test", company_id=demo.HOLDING.company_id)
    assert other.get(f"{server.base_url}/ledger/vatType").status_code == 403

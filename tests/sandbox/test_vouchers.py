"""Posting vouchers to the sandbox: validation, VAT, numbering, lookup and reversal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tripletex.sandbox import demo


def _accounts(server, company=demo.HOLDING):
    return {a["number"]: a["id"] for a in server.store.accounts(company.company_id)}


def _voucher(server, lines, *, day=None, external="APP-1-1", company=demo.HOLDING):
    ids = _accounts(server, company)
    postings = []
    for row, (number, amount, *vat) in enumerate(lines, start=1):
        posting = {
            "row": row,
            "account": {"id": ids.get(number, number)},
            "amountGross": amount,
            "amountGrossCurrency": amount,
        }
        if vat:
            posting["vatType"] = {"id": vat[0]}
        postings.append(posting)
    return {
        "date": (day or server.store.today()).isoformat(),
        "description": "Test voucher",
        "externalVoucherNumber": external,
        "postings": postings,
    }


def _post(http, server, body, **params):
    return http.post(f"{server.base_url}/ledger/voucher", json=body, params=params)


def _fields(resp):
    return sorted(m["field"] for m in resp.json()["validationMessages"])


def test_booked_voucher_appears_in_next_balance_pull(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    today = server.store.today()
    month = (today.replace(day=1), (today.replace(day=28) + timedelta(days=4)).replace(day=1))
    params = {"dateFrom": month[0].isoformat(), "dateTo": month[1].isoformat()}

    def bank_change():
        rows = http.get(f"{server.base_url}/balanceSheet", params=params).json(parse_float=Decimal)
        by_id = {r["account"]["id"]: r for r in rows["values"]}
        row = by_id.get(_accounts(server)[1920])
        return row["balanceChange"] if row else Decimal(0)

    before = bank_change()
    resp = _post(http, server, _voucher(server, [(6705, 1000.10), (1920, -1000.10)]))
    assert resp.status_code == 201, resp.text
    value = resp.json()["value"]
    assert value["number"] >= 1
    assert value["year"] == today.year
    assert value["externalVoucherNumber"] == "APP-1-1"
    assert bank_change() == before - Decimal("1000.10")


def test_amounts_are_exact_decimals(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    body = _voucher(server, [(6800, 0.1), (6800, 0.2), (1920, -0.3)])
    resp = _post(http, server, body, fields="postings(amountGross,account(number))")
    assert resp.status_code == 201, resp.text
    amounts = sorted(p["amountGross"] for p in resp.json(parse_float=Decimal)["value"]["postings"])
    assert amounts == [Decimal("-0.30"), Decimal("0.10"), Decimal("0.20")]
    assert '"amountGross":0.10' in resp.text


def test_vat_is_split_into_a_system_row(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    body = _voucher(server, [(6800, 1250, 6001), (1920, -1250)], company=demo.OPERATING)
    fields = "postings(row,amount,amountGross,systemGenerated,account(number))"
    resp = _post(http, server, body, fields=fields)
    assert resp.status_code == 201, resp.text
    rows = {p["account"]["number"]: p for p in resp.json(parse_float=Decimal)["value"]["postings"]}
    assert rows[6800]["amount"] == Decimal("1000.00")
    assert rows[6800]["amountGross"] == Decimal("1250.00")
    assert rows[2710]["amount"] == Decimal("250.00")
    assert rows[2710]["row"] == 0
    assert rows[2710]["systemGenerated"] is True


@pytest.mark.parametrize(
    ("lines", "fields"),
    [
        ([(6705, 100), (1920, -99)], ["postings"]),
        ([(6705, 100)], ["postings", "postings"]),
        ([(6705, 100.001), (1920, -100.001)], ["postings.amountGross", "postings.amountGross"]),
        ([(6705, 100), (999_999_999, -100)], ["postings.account"]),
        ([(6705, 100), (1920, -100, 424242)], ["postings.vatType"]),
    ],
)
def test_invalid_vouchers_are_422(tripletex_sandbox_shared, sandbox_http, lines, fields):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    resp = _post(http, server, _voucher(server, lines))
    assert resp.status_code == 422
    assert resp.json()["code"] == 18000
    assert _fields(resp) == fields


def test_row_zero_is_rejected(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    body = _voucher(server, [(6705, 100), (1920, -100)])
    body["postings"][0]["row"] = 0
    resp = _post(sandbox_http(server), server, body)
    assert resp.status_code == 422
    assert _fields(resp) == ["postings.row"]


def test_empty_postings_are_rejected(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    body = _voucher(server, [])
    resp = _post(sandbox_http(server), server, body)
    assert resp.status_code == 422
    assert _fields(resp) == ["postings"]


def test_closed_period_is_rejected(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    old = date(server.store.today().year - 1, 1, 15)
    resp = _post(sandbox_http(server), server, _voucher(server, [(6705, 1), (1920, -1)], day=old))
    assert resp.status_code == 422
    assert resp.json()["code"] == 18000
    assert _fields(resp) == ["date"]


def test_invalid_json_is_422(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    resp = http.post(
        f"{server.base_url}/ledger/voucher",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == 22000


def test_token_without_advanced_voucher_gets_403(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server, demo.READONLY_TOKEN)
    body = _voucher(server, [(6705, 100), (1920, -100)])
    resp = _post(http, server, body)
    assert resp.status_code == 403
    assert resp.json()["code"] == 9000
    assert resp.json()["validationMessages"] == []
    # Without sending to the ledger the same token may create a non-posted voucher.
    draft = _post(http, server, body, sendToLedger="false")
    assert draft.status_code == 201
    value = draft.json()["value"]
    assert value["number"] == 0
    assert value["tempNumber"] >= 1


def test_non_posted_voucher_stays_out_of_balances(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    before = server.store.all_postings(demo.HOLDING.company_id)
    body = _voucher(server, [(6705, 100), (1920, -100)])
    assert _post(http, server, body, sendToLedger="false").status_code == 201
    assert server.store.all_postings(demo.HOLDING.company_id) == before


def test_external_voucher_number_lookup(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    url = f"{server.base_url}/ledger/voucher/>externalVoucherNumber"
    params = {"externalVoucherNumber": "APP-7-99", "fields": "id,number,externalVoucherNumber"}
    assert http.get(url, params=params).json()["values"] == []
    created = _post(http, server, _voucher(server, [(6705, 5), (1920, -5)], external="APP-7-99"))
    found = http.get(url, params=params).json()["values"]
    assert found == [
        {
            "id": created.json()["value"]["id"],
            "number": created.json()["value"]["number"],
            "externalVoucherNumber": "APP-7-99",
        }
    ]


def test_voucher_numbers_increase_per_year(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    first = _post(http, server, _voucher(server, [(6705, 5), (1920, -5)], external="a"))
    second = _post(http, server, _voucher(server, [(6705, 5), (1920, -5)], external="b"))
    assert second.json()["value"]["number"] == first.json()["value"]["number"] + 1


def test_reverse_creates_negated_voucher_and_links_it(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    created = _post(http, server, _voucher(server, [(6705, 250), (1920, -250)])).json()["value"]
    today = server.store.today().isoformat()
    resp = http.put(
        f"{server.base_url}/ledger/voucher/{created['id']}/:reverse",
        params={"date": today, "fields": "id,date,postings(amountGross,account(number))"},
    )
    assert resp.status_code == 200, resp.text
    reversal = resp.json(parse_float=Decimal)["value"]
    amounts = {p["account"]["number"]: p["amountGross"] for p in reversal["postings"]}
    assert amounts == {6705: Decimal("-250.00"), 1920: Decimal("250.00")}
    original = http.get(
        f"{server.base_url}/ledger/voucher/{created['id']}", params={"fields": "reverseVoucher(id)"}
    ).json()["value"]
    assert original["reverseVoucher"]["id"] == reversal["id"]
    again = http.put(
        f"{server.base_url}/ledger/voucher/{created['id']}/:reverse", params={"date": today}
    )
    assert again.status_code == 422


def test_reverse_unknown_voucher_is_404(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    resp = sandbox_http(server).put(
        f"{server.base_url}/ledger/voucher/1/:reverse", params={"date": "2026-01-01"}
    )
    assert resp.status_code == 404
    assert resp.json()["code"] == 6000


def test_voucher_search_needs_dates_and_filters_by_range(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    assert http.get(f"{server.base_url}/ledger/voucher").status_code == 422
    year = server.store.today().year - 1
    resp = http.get(
        f"{server.base_url}/ledger/voucher",
        params={"dateFrom": f"{year}-03-01", "dateTo": f"{year}-04-01", "fields": "id,date"},
    )
    body = resp.json()
    assert body["values"]
    assert all(f"{year}-03-01" <= v["date"] < f"{year}-04-01" for v in body["values"])
    assert body["totalNumberOfPostings"] >= 2 * len(body["values"])

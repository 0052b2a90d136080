"""Reference-data lists, paging, sorting and `fields` projection of the sandbox."""

from __future__ import annotations

from tripletex.sandbox import demo
from tripletex.sandbox.fields import Projector, Ref, parse_fields


def test_parse_fields_tree():
    assert parse_fields(None) is None
    assert parse_fields("id, account(id,number),*") == {
        "id": None,
        "account": {"id": None, "number": None},
        "*": None,
    }
    assert parse_fields("voucher.number,voucher(id)") == {"voucher": {"number": None, "id": None}}


def test_projector_defaults_expands_and_omits_nulls():
    entities = {("account", 7): {"id": 7, "number": 1920, "name": "Bank", "vatType": None}}
    projector = Projector("http://h/v2", lambda kind, i: entities.get((kind, i)))
    obj = {"id": 1, "account": Ref("account", 7), "note": None}
    assert projector.project(obj, None, "posting") == {
        "id": 1,
        "account": {"id": 7, "url": "http://h/v2/ledger/account/7"},
    }
    expanded = projector.project(obj, parse_fields("account(number,vatType)"), "posting")
    assert expanded == {"account": {"number": 1920}}


def test_paging_with_from_and_count(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year - 1
    params = {"dateFrom": f"{year}-01-01", "dateTo": f"{year + 1}-01-01", "fields": "id"}
    everything = http.get(f"{server.base_url}/ledger/posting", params=params).json()["values"]
    assert len(everything) > 50
    seen, start = [], 0
    while True:
        page = http.get(
            f"{server.base_url}/ledger/posting", params={**params, "from": start, "count": 40}
        ).json()
        assert page["from"] == start
        seen += page["values"]
        if len(page["values"]) < 40:
            break
        start += 40
    assert seen == everything
    assert len({p["id"] for p in seen}) == len(seen)


def test_posting_filters(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    year = server.store.today().year
    resp = http.get(
        f"{server.base_url}/ledger/posting",
        params={
            "dateFrom": f"{year}-01-01",
            "dateTo": f"{year}-02-01",
            "accountId": bank,
            "fields": "id,date,amount,account(id,number)",
        },
    )
    values = resp.json()["values"]
    assert values
    assert {v["account"]["number"] for v in values} == {1920}
    assert all(f"{year}-01-01" <= v["date"] < f"{year}-02-01" for v in values)


def test_accounts_default_fields_and_nested_refs(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    resp = http.get(f"{server.base_url}/ledger/account", params={"number": "1920,2400"})
    body = resp.json()
    assert set(body) == {"fullResultSize", "from", "count", "versionDigest", "values"}
    assert [a["number"] for a in body["values"]] == [1920, 2400]
    assert set(body["values"][0]["vatType"]) == {"id", "url"}
    expanded = http.get(
        f"{server.base_url}/ledger/account",
        params={"number": "3000", "fields": "number,vatType(number,percentage)"},
    ).json()["values"]
    assert expanded == [{"number": 3000, "vatType": {"number": "3", "percentage": 25}}]


def test_star_and_unknown_fields(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    star = http.get(
        f"{server.base_url}/ledger/account", params={"number": "1920", "fields": "*"}
    ).json()["values"][0]
    assert {"id", "number", "name", "url", "vatType"} <= set(star)
    # A real Tripletex field the sandbox does not fill is simply absent, not an error.
    known = http.get(
        f"{server.base_url}/ledger/account", params={"number": "1920", "fields": "number,bankName"}
    )
    assert known.json()["values"] == [{"number": 1920}]
    bad = http.get(f"{server.base_url}/ledger/account", params={"fields": "id,nonsense"})
    assert bad.status_code == 400
    assert bad.json()["code"] == 11000
    nested = http.get(f"{server.base_url}/ledger/account", params={"fields": "vatType(bogus)"})
    assert nested.status_code == 400


def test_sorting(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    values = http.get(
        f"{server.base_url}/ledger/account", params={"sorting": "-number", "fields": "number"}
    ).json()["values"]
    numbers = [v["number"] for v in values]
    assert numbers == sorted(numbers, reverse=True)


def test_accounting_periods(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    today = server.store.today()
    resp = http.get(
        f"{server.base_url}/ledger/accountingPeriod",
        params={
            "startFrom": f"{today.year - 1}-01-01",
            "startTo": f"{today.year}-01-01",
            "fields": "id,number,start,end,isClosed",
        },
    )
    periods = resp.json()["values"]
    assert [p["number"] for p in periods] == list(range(1, 13))
    assert periods[0]["isClosed"] is True
    current = http.get(
        f"{server.base_url}/ledger/accountingPeriod",
        params={"startFrom": today.replace(day=1).isoformat(), "fields": "start,isClosed"},
    ).json()["values"]
    assert current[0] == {"start": today.replace(day=1).isoformat(), "isClosed": False}


def test_vat_and_voucher_types(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    vat = http.get(
        f"{server.base_url}/ledger/vatType", params={"fields": "number,percentage"}
    ).json()["values"]
    codes = {v["number"]: v["percentage"] for v in vat}
    assert set(codes) == {"0", "1", "3", "5", "6", "11", "12", "13", "31", "33"}
    assert (codes["3"], codes["31"], codes["33"]) == (25, 15, 12)
    types = http.get(f"{server.base_url}/ledger/voucherType", params={"name": "faktura"}).json()
    assert {t["name"] for t in types["values"]} == {"Utgående faktura", "Leverandørfaktura"}


def test_departments_and_projects(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    departments = http.get(f"{server.base_url}/department").json()["values"]
    assert len(departments) >= 2
    projects = http.get(
        f"{server.base_url}/project",
        params={"isOffer": "false", "fields": "id,number,name,department(id,name)"},
    ).json()["values"]
    assert projects
    assert {"id", "name"} == set(projects[0]["department"])
    one = http.get(f"{server.base_url}/project", params={"number": projects[0]["number"]})
    assert len(one.json()["values"]) == 1


def test_single_entity_endpoints(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    resp = http.get(f"{server.base_url}/ledger/account/{bank}", params={"fields": "number"})
    assert resp.json() == {"value": {"number": 1920}}
    year = server.store.today().year
    voucher = http.get(
        f"{server.base_url}/ledger/voucher",
        params={"dateFrom": f"{year - 1}-01-01", "dateTo": f"{year - 1}-01-02", "fields": "id"},
    ).json()["values"][0]
    detail = http.get(f"{server.base_url}/ledger/voucher/{voucher['id']}").json()["value"]
    assert all(set(p) == {"id", "url"} for p in detail["postings"])


def test_negative_paging_is_rejected(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    resp = http.get(f"{server.base_url}/ledger/account", params={"from": -1})
    assert resp.status_code == 422
    assert resp.json()["validationMessages"][0]["field"] == "from"
    empty = http.get(f"{server.base_url}/ledger/account", params={"count": 0}).json()
    assert empty["values"] == []
    assert empty["fullResultSize"] > 0


def test_voucher_sorting_and_paging(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    year = server.store.today().year - 1
    params = {"dateFrom": f"{year}-01-01", "dateTo": f"{year + 1}-01-01", "fields": "id,date"}
    newest = http.get(
        f"{server.base_url}/ledger/voucher", params={**params, "sorting": "-date", "count": 5}
    ).json()
    dates = [v["date"] for v in newest["values"]]
    assert len(dates) == 5
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == f"{year}-12-31"
    assert newest["fullResultSize"] > 5

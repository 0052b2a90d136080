"""Every sandbox endpoint answers with bodies that validate against Tripletex's spec."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.openapi_contract import load_spec, validate_request, validate_response
from tripletex.sandbox import demo

# The validators read the spec: without it, every test here skips (or fails with REQUIRE_SPEC=1).
pytestmark = pytest.mark.usefixtures("openapi_spec")


def _call(http, server, method, path, *, params=None, body=None, status=200):
    url = server.base_url + path
    validate_request(method, url, params, body)
    resp = http.request(method, url, params=params, json=body, timeout=10)
    assert resp.status_code == status, resp.text
    validate_response(method, url, resp.status_code, resp.json() if resp.content else None)
    return resp


def test_session_endpoints(tripletex_sandbox_shared):
    server = tripletex_sandbox_shared
    good = {
        "consumerToken": demo.CONSUMER_TOKEN,
        "employeeToken": demo.HOLDING_TOKEN,
        "expirationDate": (server.store.today() + timedelta(days=3)).isoformat(),
    }
    with requests.Session() as http:
        created = _call(http, server, "PUT", "/token/session/:create", params=good)
        _call(
            http,
            server,
            "PUT",
            "/token/session/:create",
            params={**good, "employeeToken": "x"},
            status=422,
        )
        token = created.json()["value"]["token"]
        http.auth = ("0", token)
        _call(http, server, "GET", "/token/session/>whoAmI")
        _call(
            http,
            server,
            "GET",
            "/token/session/>whoAmI",
            params={"fields": "companyId,company(*),employee(*)"},
        )
        _call(http, server, "DELETE", f"/token/session/{token}", status=204)
        _call(http, server, "GET", "/token/session/>whoAmI", status=401)


def test_office_endpoints(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OFFICE_TOKEN)
    _call(http, server, "GET", "/company/>withLoginAccess")
    _call(http, server, "GET", "/company/>withLoginAccess", params={"fields": "*,currency(*)"})
    _call(http, server, "GET", "/ledger/account", status=403)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ledger/account", {}),
        ("/ledger/account", {"fields": "*,vatType(*),legalVatTypes(*),currency(*)"}),
        ("/ledger/vatType", {}),
        ("/ledger/voucherType", {}),
        ("/ledger/accountingPeriod", {"startFrom": "2020-01-01"}),
        ("/department", {}),
        ("/project", {"fields": "*,department(*)"}),
        ("/balanceSheet", {"dateFrom": "{y}-01-01", "dateTo": "{y}-02-01"}),
        (
            "/balanceSheet",
            {
                "dateFrom": "{y}-01-01",
                "dateTo": "{y}-02-01",
                "includeActiveAccountsWithoutMovements": "true",
                "fields": "account(id,number,name),balanceIn,balanceChange,balanceOut,startDate,endDate",
            },
        ),
        ("/ledger/posting", {"dateFrom": "{y}-01-01", "dateTo": "{y}-02-01", "count": 50}),
        (
            "/ledger/posting",
            {
                "dateFrom": "{y}-01-01",
                "dateTo": "{y}-02-01",
                "fields": "*,account(*),voucher(*),vatType(*),department(*),project(*)",
            },
        ),
        ("/ledger/voucher", {"dateFrom": "{y}-01-01", "dateTo": "{y}-02-01"}),
        (
            "/ledger/voucher",
            {
                "dateFrom": "{y}-01-01",
                "dateTo": "{y}-02-01",
                "fields": "*,postings(*),voucherType(*)",
            },
        ),
        ("/ledger/voucher/>externalVoucherNumber", {"externalVoucherNumber": "nothing"}),
        ("/resultbudget/company", {"year": "{y}"}),
        (
            "/resultbudget/company",
            {
                "year": "{y}",
                "fields": "id,account(id,number),accountingPeriod(id,number,start,end),amount,"
                "resultBudgetType,department(id),project(id)",
            },
        ),
        (
            "/resultbudget",
            {
                "year": "{y}",
                "includeAllDepartmentResultBudgets": "true",
                "includeAllProjectResultBudgets": "true",
                "fields": "*,account(*),accountingPeriod(*),department(*),project(*)",
            },
        ),
        ("/resultbudget", {"year": "{y}", "departmentIds": "501,502", "projectIds": "701"}),
        ("/resultbudget/department/501", {"year": "{y}"}),
        ("/resultbudget/project/701", {"year": "{y}"}),
        ("/resultbudget/employee/1", {"year": "{y}"}),
        ("/resultbudget/product/1", {"year": "{y}"}),
    ],
)
def test_read_endpoints(tripletex_sandbox_shared, sandbox_http, path, params):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    year = str(server.store.today().year - 1)
    params = {k: str(v).replace("{y}", year) for k, v in params.items()}
    _call(http, server, "GET", path, params=params)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/balanceSheet", {"dateFrom": "2025-01-01"}, 422),
        ("/ledger/posting", {"dateFrom": "x", "dateTo": "2025-01-01"}, 422),
        ("/ledger/voucher", {}, 422),
        ("/ledger/voucher/1", {}, 404),
        ("/ledger/account", {"fields": "nope"}, 400),
        ("/resultbudget/company", {"year": "1899"}, 422),
        ("/resultbudget", {"year": "2025", "departmentIds": "x"}, 422),
    ],
)
def test_read_errors(tripletex_sandbox_shared, sandbox_http, path, params, status):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    url = server.base_url + path
    resp = http.get(url, params=params)
    assert resp.status_code == status
    validate_response("GET", url, status, resp.json())


def test_voucher_lifecycle(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 6705)["id"]
    today = server.store.today().isoformat()
    body = {
        "date": today,
        "description": "Kontrakt",
        "externalVoucherNumber": "APP-C-1",
        "postings": [
            {
                "row": 1,
                "account": {"id": fee},
                "amountGross": 125.5,
                "amountGrossCurrency": 125.5,
                "vatType": {"id": 6001},
            },
            {
                "row": 2,
                "account": {"id": bank},
                "amountGross": -125.5,
                "amountGrossCurrency": -125.5,
            },
        ],
    }
    created = _call(
        http,
        server,
        "POST",
        "/ledger/voucher",
        params={"sendToLedger": "true"},
        body=body,
        status=201,
    )
    voucher_id = created.json()["value"]["id"]
    _call(http, server, "GET", f"/ledger/voucher/{voucher_id}")
    _call(
        http,
        server,
        "GET",
        f"/ledger/voucher/{voucher_id}",
        params={"fields": "*,postings(*,account(*),vatType(*))"},
    )
    _call(
        http,
        server,
        "GET",
        "/ledger/voucher/>externalVoucherNumber",
        params={"externalVoucherNumber": "APP-C-1"},
    )
    _call(http, server, "PUT", f"/ledger/voucher/{voucher_id}/:reverse", params={"date": today})
    _call(
        http,
        server,
        "PUT",
        f"/ledger/voucher/{voucher_id}/:reverse",
        params={"date": today},
        status=422,
    )
    body["postings"][1]["amountGross"] = -1
    _call(http, server, "POST", "/ledger/voucher", body=body, status=422)
    readonly = sandbox_http(server, demo.READONLY_TOKEN)
    _call(readonly, server, "POST", "/ledger/voucher", body=body, status=403)


def test_vouchers_waiting_for_approval(tripletex_sandbox, sandbox_http):
    """sendToLedger=false, >nonPosted, :sendToLedger and DELETE, as an approval flow uses them."""
    server = tripletex_sandbox
    readonly = sandbox_http(server, demo.READONLY_TOKEN)
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 6705)["id"]
    today = server.store.today()
    day = {"dateFrom": today.isoformat(), "dateTo": (today + timedelta(days=1)).isoformat()}
    lines = [
        {"row": 1, "account": {"id": fee}, "amountGross": 80, "amountGrossCurrency": 80},
        {"row": 2, "account": {"id": bank}, "amountGross": -80, "amountGrossCurrency": -80},
    ]

    def waiting() -> list[dict]:
        params = {**day, "includeNonApproved": "true"}
        listing = _call(readonly, server, "GET", "/ledger/voucher/>nonPosted", params=params)
        return listing.json()["values"]

    ids = []
    for external in ("APP-W-1", "APP-W-2"):
        body = {"date": today.isoformat(), "externalVoucherNumber": external, "postings": lines}
        created = _call(
            readonly,
            server,
            "POST",
            "/ledger/voucher",
            params={"sendToLedger": "false"},
            body=body,
            status=201,
        )
        ids.append(created.json()["value"]["id"])
    assert sorted(v["id"] for v in waiting()) == ids
    # Approving needs the permission the read-only key lacks.
    _call(readonly, server, "PUT", f"/ledger/voucher/{ids[0]}/:sendToLedger", status=403)
    http = sandbox_http(server)
    approved = _call(http, server, "PUT", f"/ledger/voucher/{ids[0]}/:sendToLedger")
    assert approved.json()["value"]["number"] > 0
    _call(http, server, "PUT", f"/ledger/voucher/{ids[0]}/:sendToLedger", status=422)
    _call(readonly, server, "DELETE", f"/ledger/voucher/{ids[1]}", status=204)
    _call(readonly, server, "GET", f"/ledger/voucher/{ids[1]}", status=404)
    assert waiting() == []


def test_rate_limited_and_failing_responses(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    server.faults.update({"fail_next": {"status": 500, "count": 1}})
    _call(http, server, "GET", "/ledger/vatType", status=500)
    server.faults.rate_limit = 0
    _call(http, server, "GET", "/ledger/vatType", status=429)


def test_validate_request_catches_mistakes():
    load_spec()
    with pytest.raises(AssertionError, match="missing required"):
        validate_request("GET", "http://h/v2/balanceSheet", {"dateFrom": "2025-01-01"})
    with pytest.raises(AssertionError, match="not a boolean"):
        validate_request("POST", "http://h/v2/ledger/voucher", {"sendToLedger": "yes"}, {})
    with pytest.raises(AssertionError, match="not a path"):
        validate_request("GET", "http://h/v2/no/such/thing")

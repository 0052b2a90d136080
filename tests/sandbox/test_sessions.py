"""Sessions, Basic auth, accounting-office access and request ids of the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.sandbox.support import create_session_token
from tripletex.sandbox import demo


def _create(server, employee_token=demo.HOLDING_TOKEN, consumer=demo.CONSUMER_TOKEN, days=7):
    expiration = server.store.today() + timedelta(days=days)
    return requests.put(
        f"{server.base_url}/token/session/:create",
        params={
            "consumerToken": consumer,
            "employeeToken": employee_token,
            "expirationDate": expiration.isoformat(),
        },
        timeout=10,
    )


def test_session_create_returns_token_and_expiry(tripletex_sandbox_shared):
    resp = _create(tripletex_sandbox_shared)
    assert resp.status_code == 200
    value = resp.json()["value"]
    assert "-" not in value["token"]
    assert (
        value["expirationDate"]
        == (tripletex_sandbox_shared.store.today() + timedelta(days=7)).isoformat()
    )
    assert resp.headers["x-tlx-request-id"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"consumer": "wrong"}, "arg:consumerToken"),
        ({"employee_token": "no-such-token"}, "arg:employeeToken"),
        ({"days": 0}, "arg:expirationDate"),
        ({"days": -3}, "arg:expirationDate"),
    ],
)
def test_session_create_rejects_bad_arguments(tripletex_sandbox_shared, kwargs, field):
    resp = _create(tripletex_sandbox_shared, **kwargs)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == 18000
    assert [m["field"] for m in body["validationMessages"]] == [field]
    assert body["requestId"] == resp.headers["x-tlx-request-id"]


@pytest.mark.parametrize("path", ["/token/session/>whoAmI", "/token/session/%3EwhoAmI"])
def test_who_am_i_raw_and_encoded(tripletex_sandbox_shared, sandbox_http, path):
    http = sandbox_http(tripletex_sandbox_shared)
    resp = http.get(
        tripletex_sandbox_shared.base_url + path,
        params={"fields": "companyId,company(id,name,organizationNumber),employeeId"},
    )
    assert resp.status_code == 200
    value = resp.json()["value"]
    assert value["companyId"] == demo.HOLDING.company_id
    assert value["company"]["organizationNumber"] == demo.HOLDING.org_number
    assert set(value) == {"companyId", "company", "employeeId"}


def test_missing_or_unknown_session_is_401(tripletex_sandbox_shared):
    base = tripletex_sandbox_shared.base_url
    for auth in (None, ("0", "not-a-session")):
        resp = requests.get(f"{base}/ledger/account", auth=auth, timeout=10)
        assert resp.status_code == 401
        assert resp.json()["code"] == 3000


def test_expired_session_is_401(tripletex_sandbox_shared):
    server = tripletex_sandbox_shared
    token = create_session_token(server, demo.HOLDING_TOKEN)
    server.store.set_session_expiration(token, server.store.today())
    resp = requests.get(f"{server.base_url}/ledger/account", auth=("0", token), timeout=10)
    assert resp.status_code == 401
    assert resp.json()["code"] == 3000


def test_delete_session_revokes_it(tripletex_sandbox_shared):
    server = tripletex_sandbox_shared
    token = create_session_token(server, demo.OPERATING_TOKEN)
    resp = requests.delete(
        f"{server.base_url}/token/session/{token}", auth=("0", token), timeout=10
    )
    assert resp.status_code == 204
    assert resp.content == b""
    again = requests.get(f"{server.base_url}/token/session/>whoAmI", auth=("0", token), timeout=10)
    assert again.status_code == 401


def test_office_token_lists_clients_and_acts_as_them(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    root = sandbox_http(server, demo.OFFICE_TOKEN)
    resp = root.get(
        f"{server.base_url}/company/>withLoginAccess", params={"fields": "id,organizationNumber"}
    )
    assert resp.status_code == 200
    clients = {c["organizationNumber"]: c["id"] for c in resp.json()["values"]}
    assert clients == {
        demo.CLIENT_A.org_number: demo.CLIENT_A.company_id,
        demo.CLIENT_B.org_number: demo.CLIENT_B.company_id,
    }
    as_client = requests.Session()
    as_client.auth = (str(demo.CLIENT_B.company_id), root.auth[1])
    with as_client:
        who = as_client.get(f"{server.base_url}/token/session/>whoAmI").json()["value"]
        assert who["companyId"] == demo.CLIENT_B.company_id
        assert who["employeeIsProxy"] is True
        accounts = as_client.get(f"{server.base_url}/ledger/account", params={"number": "1920"})
        assert accounts.status_code == 200
        assert accounts.json()["values"][0]["number"] == 1920


def test_office_token_with_user_zero_only_reaches_who_am_i(tripletex_sandbox_shared, sandbox_http):
    http = sandbox_http(tripletex_sandbox_shared, demo.OFFICE_TOKEN)
    resp = http.get(f"{tripletex_sandbox_shared.base_url}/ledger/account")
    assert resp.status_code == 403
    assert resp.json()["code"] == 9000
    assert http.get(f"{tripletex_sandbox_shared.base_url}/token/session/>whoAmI").ok


def test_company_without_login_access_is_403(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    office = sandbox_http(server, demo.OFFICE_TOKEN, company_id=demo.HOLDING.company_id)
    resp = office.get(f"{server.base_url}/ledger/account")
    assert (resp.status_code, resp.json()["code"]) == (403, 9000)
    holding = sandbox_http(server, demo.HOLDING_TOKEN, company_id=demo.OPERATING.company_id)
    assert holding.get(f"{server.base_url}/ledger/account").status_code == 403


def test_holding_token_may_name_its_own_company(tripletex_sandbox_shared, sandbox_http):
    http = sandbox_http(tripletex_sandbox_shared, company_id=demo.HOLDING.company_id)
    who = http.get(f"{tripletex_sandbox_shared.base_url}/token/session/>whoAmI")
    assert who.json()["value"]["companyId"] == demo.HOLDING.company_id


def test_every_response_has_a_request_id(tripletex_sandbox_shared, sandbox_http):
    http = sandbox_http(tripletex_sandbox_shared)
    ids = set()
    for path in ("/ledger/account", "/no/such/path", "/ledger/voucher/999999999"):
        resp = http.get(tripletex_sandbox_shared.base_url + path)
        ids.add(resp.headers["x-tlx-request-id"])
        if resp.status_code >= 400:
            assert resp.json()["requestId"] == resp.headers["x-tlx-request-id"]
    assert len(ids) == 3


def test_demo_constants_are_consistent():
    from stdnum.no import orgnr

    assert demo.CONSUMER_TOKEN == "sandbox-consumer-token"
    assert len({c.company_id for c in demo.DEMO_COMPANIES}) == len(demo.DEMO_COMPANIES)
    for company in demo.DEMO_COMPANIES:
        assert orgnr.is_valid(company.org_number), company
    assert {c.role for c in demo.DEMO_COMPANIES} == {"holding", "operating", "office", "client"}
    assert [c.key for c in demo.DEMO_COMPANIES if c.office_token == demo.OFFICE_TOKEN] == [
        "client-a",
        "client-b",
    ]


def test_office_token_may_delete_its_session(tripletex_sandbox_shared):
    server = tripletex_sandbox_shared
    token = create_session_token(server, demo.OFFICE_TOKEN)
    url = f"{server.base_url}/token/session/{token}"
    assert requests.delete(url, auth=("0", token), timeout=10).status_code == 204


def test_extra_employee_tokens_can_be_added_and_revoked(tripletex_sandbox):
    server = tripletex_sandbox
    server.store.add_employee_token("canary-123", demo.OPERATING.company_id)
    assert _create(server, "canary-123").status_code == 200
    server.store.remove_employee_token("canary-123")
    resp = _create(server, "canary-123")
    assert resp.status_code == 422
    assert resp.json()["validationMessages"][0]["field"] == "arg:employeeToken"

"""TripletexClient against a faked Tripletex: retries, errors, paging, parsing, office keys."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import redis
import requests
import responses

from tests.tripletex.fakes import (
    FakeTime,
    FakeTripletex,
    basic_password,
    basic_user,
    error_body,
    make_client,
    query,
)
from tripletex.client import POSTING_PAGE_MAX, POSTING_SYNC_FIELDS, RetryPolicy
from tripletex.errors import (
    TripletexAuthError,
    TripletexConflict,
    TripletexForbidden,
    TripletexNotFound,
    TripletexOutcomeUnknown,
    TripletexResponseError,
    TripletexUnavailable,
    TripletexValidationError,
    VoucherNotBalancedError,
)
from tripletex.schemas import PostingPayload, VoucherPayload

WHOAMI = {
    "value": {
        "employeeId": 7,
        "companyId": 42,
        "company": {"id": 42, "name": "Holding AS", "organizationNumber": "999 888 777"},
        "employee": {"id": 7, "firstName": "Kari", "lastName": "Nordmann"},
        "language": "NO",
    }
}


def _voucher_payload(amount: str = "12500.10") -> VoucherPayload:
    return VoucherPayload(
        date=date(2025, 3, 31),
        description="Accrued fee",
        external_voucher_number="APP-17-000123",
        postings=(
            PostingPayload(row=1, account_id=100001, amount_gross=Decimal(amount), vat_type_id=11),
            PostingPayload(row=2, account_id=100002, amount_gross=-Decimal(amount)),
        ),
    )


def test_who_am_i_parses_and_sends_fields_and_encoded_path(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    me = make_client().who_am_i()
    assert (me.company_id, me.organization_number, me.employee_name) == (
        42,
        "999888777",
        "Kari Nordmann",
    )
    (call,) = tripletex_api.api_calls()
    assert "/token/session/%3EwhoAmI" in call.request.url
    assert "company(id,name,organizationNumber)" in query(call)["fields"]
    assert basic_user(call) == "0"
    assert basic_password(call) == tripletex_api.session_tokens[0]


def test_session_is_created_once_for_many_calls(tripletex_api: FakeTripletex):
    for _ in range(3):
        tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client = make_client()
    for _ in range(3):
        client.who_am_i()
    assert tripletex_api.sessions_created == 1
    assert client.stats.calls == 3


def test_stats_since_a_mark_count_only_the_calls_after_it(tripletex_api: FakeTripletex):
    for _ in range(3):
        tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client = make_client()
    client.who_am_i()
    mark = client.stats.mark()
    client.who_am_i()
    client.for_company(7).who_am_i()  # a client made from it shares the counters
    assert mark.calls == 1
    assert client.stats.since(mark).calls == 2
    assert client.stats.since(client.stats.mark()).calls == 0
    assert client.stats.calls == 3


def test_403_is_not_retried(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/account",
        status=403,
        json_body=error_body(403, 9000),
        headers={"x-tlx-request-id": "rid-403"},
    )
    client = make_client()
    with pytest.raises(TripletexForbidden) as info:
        client.accounts()
    assert len(tripletex_api.api_calls()) == 1
    assert info.value.request_id == "rid-403"
    assert info.value.code == 9000
    assert client.stats.failed_request_ids == ["rid-403"]


def test_422_surfaces_validation_messages(tripletex_api: FakeTripletex):
    body = error_body(
        422,
        18000,
        "Validering feilet.",
        validationMessages=[
            {"field": "postings.row", "message": "Rad 0 er reservert"},
            {"field": "", "message": "Summen av posteringene er ikke lik 0"},
        ],
    )
    tripletex_api.add("POST", "/ledger/voucher", status=422, json_body=body)
    with pytest.raises(TripletexValidationError) as info:
        make_client().voucher_create(_voucher_payload())
    error = info.value
    assert [vm.field for vm in error.validation_messages] == ["postings.row", ""]
    assert error.messages[0] == "postings.row: Rad 0 er reservert"
    assert error.request_id == "body-rid"  # no header: taken from the envelope
    assert "body-rid" in str(error)
    assert "POST /ledger/voucher" in str(error)
    assert len(tripletex_api.api_calls()) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [(404, TripletexNotFound), (409, TripletexConflict), (400, TripletexValidationError)],
)
def test_client_errors_map_to_classes_without_retry(tripletex_api: FakeTripletex, status, cls):
    tripletex_api.add("GET", "/ledger/voucher/5", status=status, json_body=error_body(status, 1))
    with pytest.raises(cls):
        make_client().voucher_get(5)
    assert len(tripletex_api.api_calls()) == 1


def test_5xx_on_get_is_retried_with_backoff_then_succeeds(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher/5", status=503, body="")
    tripletex_api.add("GET", "/ledger/voucher/5", status=500, json_body=error_body(500, 1000))
    tripletex_api.add("GET", "/ledger/voucher/5", json_body={"value": {"id": 5, "postings": []}})
    fake = FakeTime()
    client = make_client(fake, retry=RetryPolicy(base_delay=0.5, jitter=0.0))
    assert client.voucher_get(5).id == 5
    assert fake.sleeps == [0.5, 1.0]
    assert client.stats.retries == 2


def test_5xx_retried_within_budget_then_unavailable(tripletex_api: FakeTripletex):
    for _ in range(10):
        tripletex_api.add("GET", "/ledger/voucher/5", status=502, body="Bad gateway")
    fake = FakeTime()
    policy = RetryPolicy(
        max_attempts=10, base_delay=1.0, max_delay=8.0, total_budget=10.0, jitter=0
    )
    with pytest.raises(TripletexUnavailable) as info:
        make_client(fake, retry=policy).voucher_get(5)
    assert not isinstance(info.value, TripletexOutcomeUnknown)
    # 1 + 2 + 4 = 7 s fits; the next 8 s would pass the 10 s budget.
    assert fake.sleeps == [1.0, 2.0, 4.0]
    assert len(tripletex_api.api_calls()) == 4


def test_5xx_stops_after_max_attempts(tripletex_api: FakeTripletex):
    for _ in range(5):
        tripletex_api.add("GET", "/ledger/voucher/5", status=500, body="")
    with pytest.raises(TripletexUnavailable):
        make_client(retry=RetryPolicy(max_attempts=3, jitter=0)).voucher_get(5)
    assert len(tripletex_api.api_calls()) == 3


def test_post_is_not_retried_on_5xx(tripletex_api: FakeTripletex):
    tripletex_api.add("POST", "/ledger/voucher", status=500, json_body=error_body(500, 1000))
    tripletex_api.add("POST", "/ledger/voucher", json_body={"value": {"id": 1}})
    with pytest.raises(TripletexOutcomeUnknown):
        make_client().voucher_create(_voucher_payload())
    assert len(tripletex_api.api_calls("POST")) == 1


def test_post_read_timeout_is_outcome_unknown(tripletex_api: FakeTripletex):
    tripletex_api.add("POST", "/ledger/voucher", body=requests.ReadTimeout("read timed out"))
    tripletex_api.add("POST", "/ledger/voucher", json_body={"value": {"id": 1}})
    with pytest.raises(TripletexOutcomeUnknown):
        make_client().voucher_create(_voucher_payload())
    assert len(tripletex_api.api_calls("POST")) == 1


def test_put_reverse_is_not_retried_on_dropped_connection(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "PUT", "/ledger/voucher/9/:reverse", body=requests.ConnectionError("Connection aborted")
    )
    with pytest.raises(TripletexOutcomeUnknown):
        make_client().voucher_reverse(9, date=date(2025, 4, 1))
    assert len(tripletex_api.api_calls("PUT")) == 1


def test_post_connect_timeout_is_plain_unavailable(tripletex_api: FakeTripletex):
    # The connection never opened: not "unknown", but still not resent by the client.
    tripletex_api.add("POST", "/ledger/voucher", body=requests.ConnectTimeout("connect timed out"))
    tripletex_api.add("POST", "/ledger/voucher", json_body={"value": {"id": 1}})
    with pytest.raises(TripletexUnavailable) as info:
        make_client().voucher_create(_voucher_payload())
    assert not isinstance(info.value, TripletexOutcomeUnknown)
    assert len(tripletex_api.api_calls("POST")) == 1


def test_get_timeouts_are_retried_then_unavailable(tripletex_api: FakeTripletex):
    for _ in range(3):
        tripletex_api.add("GET", "/ledger/voucher/5", body=requests.ReadTimeout("timed out"))
    fake = FakeTime()
    with pytest.raises(TripletexUnavailable):
        make_client(fake, retry=RetryPolicy(max_attempts=3, jitter=0)).voucher_get(5)
    assert len(tripletex_api.api_calls()) == 3
    assert len(fake.sleeps) == 2


def test_timeout_tuple_is_passed_to_requests(tripletex_api: FakeTripletex, monkeypatch):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client = make_client(timeout=(3.0, 45.0))
    seen = []
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    client.who_am_i()
    # Session creation and the call itself.
    assert seen == [(3.0, 45.0), (3.0, 45.0)]


def test_malformed_json_raises_response_error(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher/5", body="<html>maintenance</html>")
    with pytest.raises(TripletexResponseError):
        make_client().voucher_get(5)
    assert len(tripletex_api.api_calls()) == 1


def test_unexpected_shape_raises_response_error(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/account", json_body={"value": []})
    with pytest.raises(TripletexResponseError):
        make_client().accounts()


def test_unreadable_answer_to_post_is_outcome_unknown(tripletex_api: FakeTripletex):
    tripletex_api.add("POST", "/ledger/voucher", status=201, body="not json")
    with pytest.raises(TripletexOutcomeUnknown):
        make_client().voucher_create(_voucher_payload())


def test_paging_until_short_page_ignores_full_result_size(tripletex_api: FakeTripletex):
    def page(ids, size):
        rows = [{"id": i, "number": 1000 + i, "name": f"A{i}"} for i in ids]
        return {"fullResultSize": size, "from": 0, "count": len(rows), "values": rows}

    # fullResultSize lies both ways; only the short third page ends the loop.
    tripletex_api.add("GET", "/ledger/account", json_body=page([1, 2], 2))
    tripletex_api.add("GET", "/ledger/account", json_body=page([3, 4], 999))
    tripletex_api.add("GET", "/ledger/account", json_body=page([5], 0))
    client = make_client()
    client.page_size = 2
    accounts = client.accounts()
    assert [a.id for a in accounts] == [1, 2, 3, 4, 5]
    sent = [query(c) for c in tripletex_api.api_calls()]
    assert [(q["from"], q["count"]) for q in sent] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert all(q["sorting"] == "id" and q["fields"] for q in sent)


def test_exact_page_multiple_needs_one_empty_page(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/department", json_body={"values": [{"id": 1}, {"id": 2}]})
    tripletex_api.add("GET", "/department", json_body={"values": []})
    client = make_client()
    client.page_size = 2
    assert [d.id for d in client.departments()] == [1, 2]
    assert len(tripletex_api.api_calls()) == 2


def test_result_set_too_large_halves_the_page(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET", "/ledger/posting", status=422, json_body=error_body(422, 23000, "Too large")
    )
    tripletex_api.add("GET", "/ledger/posting", json_body={"values": [{"id": 1}]})
    client = make_client()
    client.postings(date_from=date(2025, 1, 1), date_to=date(2026, 1, 1))
    counts = [query(c)["count"] for c in tripletex_api.api_calls()]
    assert counts == ["1000", "500"]


def test_postings_page_sends_filters_and_parses(tripletex_api: FakeTripletex):
    posting = {
        "id": 3,
        "date": "2025-03-05",
        "account": {"id": 11, "number": 1920, "name": "Bank"},
        "amount": 0.1,
        "amountGross": 1250,
        "voucher": {"id": 8, "number": 14, "year": 2025},
    }
    tripletex_api.add("GET", "/ledger/posting", json_body={"values": [posting]})
    page = make_client().postings_page(
        date_from=date(2025, 3, 1), date_to=date(2025, 4, 1), account_id=11, from_=100, count=50
    )
    assert page.is_last
    assert page.from_ == 100
    (row,) = page.values
    assert row.amount == Decimal("0.1")
    assert row.amount_gross == Decimal("1250")
    assert (row.voucher_id, row.voucher_number, row.account_number) == (8, 14, 1920)
    q = query(tripletex_api.api_calls()[0])
    assert (q["dateFrom"], q["dateTo"], q["accountId"]) == ("2025-03-01", "2025-04-01", "11")
    assert (q["from"], q["count"]) == ("100", "50")


def test_posting_pages_ask_for_big_date_ordered_pages_of_the_sync_fields(
    tripletex_api: FakeTripletex, monkeypatch
):
    assert POSTING_PAGE_MAX == 10_000
    monkeypatch.setattr("tripletex.client.POSTING_PAGE_MAX", 3)
    full = [{"id": n, "date": "2025-01-02", "amount": 1} for n in range(3)]
    tripletex_api.add("GET", "/ledger/posting", json_body={"values": full})
    tripletex_api.add("GET", "/ledger/posting", json_body={"values": full[:1]})

    pages = list(make_client().posting_pages(date_from=date(2025, 1, 1), date_to=date(2026, 1, 1)))

    assert [len(p.values) for p in pages] == [3, 1]
    calls = [query(c) for c in tripletex_api.api_calls()]
    assert [(q["from"], q["count"]) for q in calls] == [("0", "3"), ("3", "3")]
    assert {q["sorting"] for q in calls} == {"date,id"}
    assert {q["fields"] for q in calls} == {POSTING_SYNC_FIELDS}


def test_decimal_parsing_is_exact(tripletex_api: FakeTripletex):
    raw = (
        b'{"values": [{"account": {"id": 1, "number": 1920, "name": "Bank"},'
        b' "balanceIn": 0.1, "balanceChange": 0.2, "balanceOut": 0.3,'
        b' "startDate": "2025-03-01", "endDate": "2025-04-01"}]}'
    )
    tripletex_api.add("GET", "/balanceSheet", body=raw)
    (row,) = make_client().balance_sheet(date_from=date(2025, 3, 1), date_to=date(2025, 4, 1))
    assert row.balance_in + row.balance_change == row.balance_out == Decimal("0.3")
    assert isinstance(row.balance_in, Decimal)
    assert row.end_date == date(2025, 4, 1)
    q = query(tripletex_api.api_calls()[0])
    assert q["includeActiveAccountsWithoutMovements"] == "false"
    assert "sorting" not in q


def test_voucher_post_body_has_exact_decimals(tripletex_api: FakeTripletex):
    answer = {
        "value": {
            "id": 77,
            "number": 5,
            "year": 2025,
            "date": "2025-03-31",
            "externalVoucherNumber": "APP-17-000123",
            "version": 0,
            "postings": [{"id": 1, "url": "x"}, {"id": 2, "url": "y"}],
        }
    }
    tripletex_api.add("POST", "/ledger/voucher", status=201, json_body=answer)
    voucher = make_client().voucher_create(_voucher_payload("12500.10"), send_to_ledger=False)
    assert (voucher.id, voucher.number, voucher.external_voucher_number) == (77, 5, "APP-17-000123")
    (call,) = tripletex_api.api_calls("POST")
    raw = call.request.body.decode()
    assert '"amountGross":12500.10' in raw
    assert '"amountGross":-12500.10' in raw
    assert '"amountGrossCurrency":12500.10' in raw
    assert "null" not in raw
    assert call.request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert query(call) == {"sendToLedger": "false"}
    body = json.loads(raw)
    assert body["postings"][0]["account"] == {"id": 100001}
    assert body["postings"][0]["vatType"] == {"id": 11}


def test_unbalanced_voucher_is_refused_before_any_call(tripletex_api: FakeTripletex):
    payload = VoucherPayload(
        date=date(2025, 3, 31),
        description="x",
        external_voucher_number="APP-1",
        postings=(
            PostingPayload(row=1, account_id=1, amount_gross=Decimal("100.00")),
            PostingPayload(row=2, account_id=2, amount_gross=Decimal("-99.99")),
        ),
    )
    with pytest.raises(VoucherNotBalancedError):
        make_client().voucher_create(payload)
    assert len(tripletex_api.mock.calls) == 0


def test_vouchers_by_external_number_sends_key_and_fields(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/voucher/>externalVoucherNumber",
        json_body={"values": [{"id": 991, "externalVoucherNumber": "APP-1"}]},
    )
    (found,) = make_client().vouchers_by_external_number("APP-1")
    assert found.id == 991
    (call,) = tripletex_api.api_calls()
    assert "%3EexternalVoucherNumber" in call.request.url
    assert query(call)["externalVoucherNumber"] == "APP-1"
    assert "externalVoucherNumber" in query(call)["fields"]


def test_vouchers_between_asks_for_external_number(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher", json_body={"values": []})
    assert (
        make_client().vouchers_between(date_from=date(2025, 3, 31), date_to=date(2025, 4, 1)) == []
    )
    q = query(tripletex_api.api_calls()[0])
    assert "externalVoucherNumber" in q["fields"].split(",")
    assert (q["dateFrom"], q["dateTo"]) == ("2025-03-31", "2025-04-01")


def test_vouchers_non_posted_asks_for_unapproved_ones_too(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/voucher/>nonPosted",
        json_body={
            "values": [{"id": 7, "number": 0, "tempNumber": 4, "externalVoucherNumber": "A"}]
        },
    )
    (found,) = make_client().vouchers_non_posted(
        date_from=date(2025, 3, 31), date_to=date(2025, 4, 1)
    )
    # Tripletex's number 0 means "not in the ledger yet": no number, a temporary one.
    assert (found.id, found.number, found.temp_number) == (7, None, 4)
    q = query(tripletex_api.api_calls()[0])
    assert q["includeNonApproved"] == "true"
    assert (q["dateFrom"], q["dateTo"]) == ("2025-03-31", "2025-04-01")
    assert {"externalVoucherNumber", "tempNumber"} <= set(q["fields"].split(","))


def test_voucher_get_parses_postings(tripletex_api: FakeTripletex):
    value = {
        "id": 5,
        "number": 3,
        "year": 2025,
        "date": "2025-03-31",
        "version": 2,
        "reverseVoucher": {"id": 6},
        "postings": [
            {
                "id": 1,
                "row": 1,
                "account": {"id": 9, "number": 6790},
                "amountGross": 100.5,
                "department": {"id": 4},
            },
            {"id": 2, "row": 2, "account": {"id": 8, "number": 2400}, "amountGross": -100.5},
        ],
    }
    tripletex_api.add("GET", "/ledger/voucher/5", json_body={"value": value})
    voucher = make_client().voucher_get(5)
    assert voucher.reverse_voucher_id == 6
    assert sum(p.amount_gross for p in voucher.postings) == 0
    assert voucher.postings[0].voucher_id == 5
    assert voucher.postings[0].department_id == 4
    assert "postings(" in query(tripletex_api.api_calls()[0])["fields"]


def test_reference_lists_parse(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/vatType",
        json_body={"values": [{"id": 1, "number": "3", "name": "Utgående 25%", "percentage": 25}]},
    )
    tripletex_api.add(
        "GET", "/ledger/voucherType", json_body={"values": [{"id": 2, "name": "Bank"}]}
    )
    tripletex_api.add(
        "GET",
        "/project",
        json_body={"values": [{"id": 3, "number": "P1", "name": "Bygg", "isClosed": True}]},
    )
    tripletex_api.add(
        "GET",
        "/ledger/accountingPeriod",
        json_body={
            "values": [
                {
                    "id": 4,
                    "number": 3,
                    "start": "2025-03-01",
                    "end": "2025-04-01",
                    "isClosed": False,
                }
            ]
        },
    )
    tripletex_api.add(
        "GET",
        "/company/>withLoginAccess",
        json_body={"values": [{"id": 555, "name": "Klient AS", "organizationNumber": "912345678"}]},
    )
    tripletex_api.add(
        "GET",
        "/ledger/account",
        json_body={
            "values": [
                {
                    "id": 9,
                    "number": 2400,
                    "name": "Leverandørgjeld",
                    "type": "LIABILITIES",
                    "vatType": {"id": 0},
                    "requiresDepartment": True,
                },
                {"id": 10, "number": 6790, "name": "Annen kostnad", "type": "OPERATING_EXPENSES"},
            ]
        },
    )
    client = make_client()
    assert client.vat_types()[0].percentage == Decimal(25)
    assert client.voucher_types()[0].name == "Bank"
    assert client.projects()[0].is_closed is True
    period = client.accounting_periods(start_from=date(2025, 1, 1), start_to=date(2026, 1, 1))[0]
    assert period.end == date(2025, 4, 1)
    assert client.clients_with_login_access()[0].id == 555
    payable, expense = client.accounts()
    assert payable.is_balance_account
    assert payable.requires_department
    assert payable.vat_type_id == 0
    assert not expense.is_balance_account
    assert expense.ledger_type == "GENERAL"
    project_query = query(tripletex_api.api_calls()[2])
    assert project_query["isOffer"] == "false"


def test_for_company_uses_client_id_as_user_and_shares_limiter_and_stats(
    tripletex_api: FakeTripletex,
):
    tripletex_api.add("GET", "/company/>withLoginAccess", json_body={"values": [{"id": 555}]})
    tripletex_api.add(
        "GET",
        "/token/session/>whoAmI",
        json_body=WHOAMI,
        headers={"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "3"},
    )
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    fake = FakeTime()
    office = make_client(fake)
    (client_company,) = office.clients_with_login_access()
    acting = office.for_company(client_company.id)
    acting.who_am_i()
    # The budget seen through client 555 makes the office itself wait: one shared limiter.
    office.for_company(777).who_am_i()
    calls = tripletex_api.api_calls()
    assert [basic_user(c) for c in calls] == ["0", "555", "777"]
    assert len({basic_password(c) for c in calls}) == 1  # one session for all companies
    assert tripletex_api.sessions_created == 1
    assert fake.sleeps == [3.0]
    assert office.stats is acting.stats
    assert (office.stats.rate_limit_waits, office.stats.waited_seconds) == (1, 3.0)
    assert office.stats.calls == 3


def test_session_delete_revokes_without_creating_a_session(tripletex_api: FakeTripletex):
    client = make_client()
    client.session_delete()  # nothing cached: no call at all
    assert len(tripletex_api.mock.calls) == 0
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client.who_am_i()
    token = tripletex_api.session_tokens[0]
    tripletex_api.mock.add(
        responses.DELETE, f"https://tripletex.test/v2/token/session/{token}", status=204
    )
    client.session_delete()
    assert tripletex_api.api_calls("DELETE")
    assert client._shared.sessions.peek() is None


def test_session_delete_tolerates_an_already_dead_session(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client = make_client()
    client.who_am_i()
    token = tripletex_api.session_tokens[0]
    tripletex_api.mock.add(
        responses.DELETE, f"https://tripletex.test/v2/token/session/{token}", status=401, json={}
    )
    client.session_delete()
    assert tripletex_api.sessions_created == 1


def test_second_401_after_renewal_is_auth_error(tripletex_api: FakeTripletex):
    for _ in range(3):
        tripletex_api.add("GET", "/ledger/voucher/5", status=401, json_body=error_body(401, 3000))
    with pytest.raises(TripletexAuthError):
        make_client().voucher_get(5)
    assert tripletex_api.sessions_created == 2
    assert len(tripletex_api.api_calls()) == 2


def test_401_on_post_renews_and_sends_once_more(tripletex_api: FakeTripletex):
    tripletex_api.add("POST", "/ledger/voucher", status=401, json_body=error_body(401, 3000))
    tripletex_api.add("POST", "/ledger/voucher", status=201, json_body={"value": {"id": 3}})
    assert make_client().voucher_create(_voucher_payload()).id == 3
    posts = tripletex_api.api_calls("POST")
    assert [basic_password(c) for c in posts] == tripletex_api.session_tokens


class _BrokenStore:
    """A cache/limiter whose backend is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.ConnectionError("Redis is down")

        return fail


def test_session_store_outage_is_unavailable(tripletex_api: FakeTripletex):
    with pytest.raises(TripletexUnavailable, match="session store"):
        make_client(sessions=_BrokenStore()).who_am_i()
    assert len(tripletex_api.mock.calls) == 0


def test_rate_limiter_outage_does_not_fail_the_call(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    assert make_client(limiter=_BrokenStore()).who_am_i().company_id == 42


def test_failed_request_ids_are_capped(tripletex_api: FakeTripletex):
    client = make_client()
    for n in range(105):
        client.stats.failed(f"rid-{n}")
    assert len(client.stats.failed_request_ids) == 100
    assert client.stats.failed_request_ids[-1] == "rid-104"

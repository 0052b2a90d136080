"""Schemas (Decimal in, exact decimal text out, payload rules) and error_from_response."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tripletex.errors import (
    InvalidVoucherError,
    TripletexAuthError,
    TripletexConflict,
    TripletexError,
    TripletexForbidden,
    TripletexNotFound,
    TripletexOutcomeUnknown,
    TripletexRateLimited,
    TripletexUnavailable,
    TripletexValidationError,
    VoucherNotBalancedError,
    error_from_response,
)
from tripletex.schemas import (
    BalanceRow,
    PostingPayload,
    VoucherPayload,
    WhoAmI,
    decode_json,
    encode_json,
)


def _payload(*amounts: str, rows: tuple[int, ...] | None = None) -> VoucherPayload:
    rows = rows or tuple(range(1, len(amounts) + 1))
    return VoucherPayload(
        date=date(2025, 3, 31),
        description="Test",
        external_voucher_number="APP-1-1",
        postings=tuple(
            PostingPayload(row=r, account_id=100 + r, amount_gross=Decimal(a))
            for r, a in zip(rows, amounts, strict=True)
        ),
    )


def test_decode_json_gives_exact_decimals():
    data = decode_json(b'{"a": 0.1, "b": 0.2, "c": 0.3, "n": 5}')
    assert data["a"] + data["b"] == data["c"]
    assert isinstance(data["n"], int)


def test_integer_amounts_become_decimal():
    row = BalanceRow.from_api(
        {
            "account": {"id": 1, "number": 1920},
            "balanceIn": 100,
            "balanceChange": 0,
            "balanceOut": 100,
        }
    )
    assert isinstance(row.balance_in, Decimal)
    assert row.balance_out == Decimal(100)


def test_who_am_i_keeps_digits_of_org_number_only():
    me = WhoAmI.from_api(
        {"employeeId": 1, "companyId": 2, "company": {"organizationNumber": "NO 999 888 777 MVA"}}
    )
    assert me.organization_number == "999888777"


def test_encode_json_writes_decimal_text_exactly():
    raw = encode_json({"a": Decimal("12500.10"), "b": Decimal("-0.00"), "c": Decimal("1E+2")})
    assert raw == b'{"a":12500.10,"b":-0.00,"c":100}'
    assert json.loads(raw, parse_float=Decimal)["a"] == Decimal("12500.10")


def test_encode_json_refuses_floats_and_nan():
    with pytest.raises(TypeError):
        encode_json({"a": 0.1})
    with pytest.raises(ValueError, match="NaN"):
        encode_json({"a": Decimal("NaN")})


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
    )
)
def test_encode_json_round_trips_any_amount(amount):
    assert decode_json(encode_json([amount]))[0] == amount


def test_voucher_payload_to_api_shape():
    body = VoucherPayload(
        date=date(2025, 3, 31),
        description="Fee",
        external_voucher_number="APP-2",
        voucher_type_id=4,
        postings=(
            PostingPayload(
                row=1,
                account_id=11,
                amount_gross=Decimal("10.00"),
                description="line",
                vat_type_id=3,
                department_id=5,
                project_id=6,
                currency_id=2,
                amount_gross_currency=Decimal("1.00"),
            ),
            PostingPayload(row=2, account_id=12, amount_gross=Decimal("-10.00")),
        ),
    ).to_api()
    first, second = body["postings"]
    assert first == {
        "row": 1,
        "account": {"id": 11},
        "amountGross": Decimal("10.00"),
        "amountGrossCurrency": Decimal("1.00"),
        "description": "line",
        "currency": {"id": 2},
        "vatType": {"id": 3},
        "department": {"id": 5},
        "project": {"id": 6},
    }
    assert second == {
        "row": 2,
        "account": {"id": 12},
        "amountGross": Decimal("-10.00"),
        "amountGrossCurrency": Decimal("-10.00"),
    }
    assert body["voucherType"] == {"id": 4}
    assert body["date"] == "2025-03-31"


def test_balanced_voucher_with_tricky_decimals_is_accepted():
    _payload("0.10", "0.20", "-0.30").to_api()


@pytest.mark.parametrize("amounts", [("100.00", "-99.99"), ("0.01", "0.00")])
def test_unbalanced_voucher_is_refused(amounts):
    with pytest.raises(VoucherNotBalancedError):
        _payload(*amounts).to_api()


def test_single_posting_is_refused():
    with pytest.raises(VoucherNotBalancedError):
        _payload("0.00").to_api()


def test_row_zero_and_duplicate_rows_are_refused():
    with pytest.raises(InvalidVoucherError):
        _payload("1.00", "-1.00", rows=(0, 1)).to_api()
    with pytest.raises(InvalidVoucherError):
        _payload("1.00", "-1.00", rows=(1, 1)).to_api()
    assert issubclass(VoucherNotBalancedError, ValueError)


def _response(status: int, body: object = None, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "method", "cls"),
    [
        (400, "GET", TripletexValidationError),
        (401, "GET", TripletexAuthError),
        (403, "GET", TripletexForbidden),
        (404, "GET", TripletexNotFound),
        (409, "PUT", TripletexConflict),
        (422, "POST", TripletexValidationError),
        (429, "POST", TripletexRateLimited),
        (500, "GET", TripletexUnavailable),
        (503, "POST", TripletexOutcomeUnknown),
        (418, "GET", TripletexError),
    ],
)
def test_error_from_response_maps_statuses(status, method, cls):
    error = error_from_response(_response(status, {"code": 1}), method=method, path="/x")
    assert type(error) is cls
    assert error.status == status


def test_error_from_response_reads_envelope_and_header():
    body = {
        "status": 422,
        "code": 18000,
        "message": "Validering feilet.",
        "developerMessage": "dev",
        "requestId": "from-body",
        "validationMessages": [{"field": "postings.account.name", "message": "Kan ikke være null"}],
    }
    error = error_from_response(
        _response(422, body, {"x-tlx-request-id": "from-header"}),
        method="post",
        path="/ledger/voucher",
    )
    assert (error.code, error.request_id, error.method) == (18000, "from-header", "POST")
    assert error.validation_messages[0].field == "postings.account.name"
    assert error.developer_message == "dev"
    text = str(error)
    assert "from-header" in text
    assert "HTTP 422" in text
    assert "\n" not in text


def test_error_from_response_survives_a_non_json_body():
    response = _response(502)
    response._content = b"<html>Bad gateway</html>"
    response.reason = "Bad Gateway"
    error = error_from_response(response, method="GET", path="/x")
    assert isinstance(error, TripletexUnavailable)
    assert error.message == "Bad Gateway"
    assert error.request_id is None


def test_rate_limited_reads_reset_header():
    error = error_from_response(
        _response(429, {}, {"X-Rate-Limit-Reset": "17"}), method="GET", path="/x"
    )
    assert isinstance(error, TripletexRateLimited)
    assert error.retry_after == 17.0

"""Currencies in the sandbox: GET /currency, an account locked to USD, and postings in currency.

What Tripletex does is in the docstring of tripletex/sandbox/endpoints.py `_validate_currency`
(with its sources): a posting's currency must exist, an account locked to a foreign currency takes
postings in that currency only and with the currency amount, the voucher balances in NOK, and
reading it back returns the currency fields as sent.
"""

from __future__ import annotations

from decimal import Decimal

from tripletex.sandbox import demo, seed

USD_ACCOUNT = 1925


def _ids(server):
    return {a["number"]: a["id"] for a in server.store.accounts(demo.HOLDING.company_id)}


def _currency_id(http, server, code):
    resp = http.get(f"{server.base_url}/currency", params={"code": code})
    assert resp.status_code == 200, resp.text
    (value,) = resp.json()["values"]
    return value["id"]


def _posting(server, row, number, gross, **extra):
    return {"row": row, "account": {"id": _ids(server)[number]}, "amountGross": gross, **extra}


def _voucher(server, postings, external="FX-1"):
    return {
        "date": server.store.today().isoformat(),
        "description": "Kjøp Apple Inc.",
        "externalVoucherNumber": external,
        "postings": postings,
    }


def _post(http, server, body, **params):
    return http.post(f"{server.base_url}/ledger/voucher", json=body, params=params)


def _messages(resp):
    return [(m["field"], m["message"]) for m in resp.json()["validationMessages"]]


def test_currency_list_has_the_usual_currencies_with_the_specs_fields(
    tripletex_sandbox_shared, sandbox_http
):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    resp = http.get(f"{server.base_url}/currency")
    assert resp.status_code == 200, resp.text
    values = resp.json()["values"]
    assert {v["code"] for v in values} == {"NOK", "USD", "EUR", "SEK", "DKK", "GBP"}
    nok = next(v for v in values if v["code"] == "NOK")
    assert nok["id"] == 1
    assert set(nok) >= {"id", "version", "url", "code", "description", "factor", "isDisabled"}
    sek = next(v for v in values if v["code"] == "SEK")
    assert sek["factor"] == 100

    by_code = http.get(f"{server.base_url}/currency", params={"code": "usd,EUR"}).json()
    assert sorted(v["code"] for v in by_code["values"]) == ["EUR", "USD"]
    usd_id = _currency_id(http, server, "USD")
    one = http.get(f"{server.base_url}/currency/{usd_id}", params={"fields": "id,code,factor"})
    assert one.status_code == 200
    assert one.json()["value"] == {"id": usd_id, "code": "USD", "factor": 1}
    assert http.get(f"{server.base_url}/currency/999").status_code == 404


def test_the_demo_chart_has_an_account_locked_to_usd(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server)
    params = {"number": f"{USD_ACCOUNT},1920", "fields": "number,currency(id,code)"}
    resp = http.get(f"{server.base_url}/ledger/account", params=params)
    assert resp.status_code == 200, resp.text
    by_number = {a["number"]: a["currency"]["code"] for a in resp.json()["values"]}
    assert by_number == {USD_ACCOUNT: "USD", 1920: "NOK"}


def test_usd_posting_on_the_usd_account_is_stored_with_its_currency_fields(
    tripletex_sandbox, sandbox_http
):
    """10 Apple shares at USD 150.00 + USD 1.50 fees at 10.5 NOK/USD: 1 590.75 NOK."""
    server = tripletex_sandbox
    http = sandbox_http(server)
    usd = _currency_id(http, server, "USD")
    body = _voucher(
        server,
        [
            _posting(server, 1, 1810, 1590.75, amountGrossCurrency=1590.75),
            _posting(
                server, 2, USD_ACCOUNT, -1590.75, amountGrossCurrency=-151.50, currency={"id": usd}
            ),
        ],
    )
    fields = "id,postings(row,amountGross,amountGrossCurrency,amountCurrency,currency(code))"
    resp = _post(http, server, body, fields=fields)
    assert resp.status_code == 201, resp.text
    value = resp.json(parse_float=Decimal)["value"]
    postings = sorted(value["postings"], key=lambda p: p["row"])
    assert postings == [
        {
            "row": 1,
            "amountGross": Decimal("1590.75"),
            "amountGrossCurrency": Decimal("1590.75"),
            "amountCurrency": Decimal("1590.75"),
            "currency": {"code": "NOK"},
        },
        {
            "row": 2,
            "amountGross": Decimal("-1590.75"),
            "amountGrossCurrency": Decimal("-151.50"),
            "amountCurrency": Decimal("-151.50"),
            "currency": {"code": "USD"},
        },
    ]
    # A reversal negates the currency amounts too.
    voucher_id = value["id"]
    today = server.store.today().isoformat()
    reverse = http.put(
        f"{server.base_url}/ledger/voucher/{voucher_id}/:reverse", params={"date": today}
    )
    assert reverse.status_code == 200, reverse.text
    reversal = reverse.json()["value"]["id"]
    back = http.get(f"{server.base_url}/ledger/voucher/{reversal}", params={"fields": fields})
    rows = sorted(back.json(parse_float=Decimal)["value"]["postings"], key=lambda p: p["row"])
    assert [(p["amountGrossCurrency"], p["currency"]["code"]) for p in rows] == [
        (Decimal("-1590.75"), "NOK"),
        (Decimal("151.50"), "USD"),
    ]


def test_usd_account_refuses_a_nok_posting(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    body = _voucher(
        server,
        [
            _posting(server, 1, 1810, 100, amountGrossCurrency=100),
            _posting(server, 2, USD_ACCOUNT, -100, amountGrossCurrency=-100),
        ],
    )
    resp = _post(http, server, body)
    assert resp.status_code == 422
    assert _messages(resp) == [
        (
            "postings.currency",
            f"Konto {USD_ACCOUNT} er låst til valuta USD; posteringen må være i USD, ikke NOK.",
        )
    ]
    assert server.store.vouchers(demo.HOLDING.company_id, external_number="FX-1")[0] == 0


def test_usd_account_refuses_another_currency(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    eur = _currency_id(http, server, "EUR")
    body = _voucher(
        server,
        [
            _posting(server, 1, 1810, 100, amountGrossCurrency=100),
            _posting(server, 2, USD_ACCOUNT, -100, amountGrossCurrency=-8.5, currency={"id": eur}),
        ],
    )
    resp = _post(http, server, body)
    assert resp.status_code == 422
    assert _messages(resp)[0][1].endswith("må være i USD, ikke EUR.")


def test_a_currency_posting_needs_its_currency_amount_with_the_same_sign(
    tripletex_sandbox, sandbox_http
):
    server = tripletex_sandbox
    http = sandbox_http(server)
    usd = _currency_id(http, server, "USD")
    missing = _voucher(
        server,
        [
            _posting(server, 1, 1810, 100, amountGrossCurrency=100),
            _posting(server, 2, USD_ACCOUNT, -100, currency={"id": usd}),
        ],
    )
    resp = _post(http, server, missing)
    assert resp.status_code == 422
    assert _messages(resp) == [("postings.amountGrossCurrency", "Beløp i valuta (USD) mangler.")]
    flipped = _voucher(
        server,
        [
            _posting(server, 1, 1810, 100, amountGrossCurrency=100),
            _posting(server, 2, USD_ACCOUNT, -100, amountGrossCurrency=9.5, currency={"id": usd}),
        ],
    )
    resp = _post(http, server, flipped)
    assert resp.status_code == 422
    assert _messages(resp) == [
        ("postings.amountGrossCurrency", "Beløpet i valuta må ha samme fortegn som beløpet i NOK.")
    ]


def test_unknown_currency_and_nok_amount_mismatch_are_refused(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    unknown = _voucher(
        server,
        [
            _posting(server, 1, 6800, 100, amountGrossCurrency=10, currency={"id": 999}),
            _posting(server, 2, 1920, -100, amountGrossCurrency=-100),
        ],
    )
    resp = _post(http, server, unknown)
    assert resp.status_code == 422
    assert _messages(resp) == [("postings.currency", "Valutaen finnes ikke.")]
    mismatch = _voucher(
        server,
        [
            _posting(server, 1, 6800, 100, amountGrossCurrency=99),
            _posting(server, 2, 1920, -100, amountGrossCurrency=-100),
        ],
    )
    resp = _post(http, server, mismatch)
    assert resp.status_code == 422
    assert _messages(resp) == [
        (
            "postings.amountGrossCurrency",
            "Beløpet i valuta må være lik beløpet når posteringen er i NOK.",
        )
    ]


def test_the_voucher_balances_in_nok_not_in_currency(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    usd = _currency_id(http, server, "USD")
    body = _voucher(
        server,
        [
            _posting(server, 1, 1810, 1050, amountGrossCurrency=1050),
            _posting(
                server, 2, USD_ACCOUNT, -1050.01, amountGrossCurrency=-100, currency={"id": usd}
            ),
        ],
    )
    resp = _post(http, server, body)
    assert resp.status_code == 422
    assert _messages(resp)[0][0] == "postings"
    assert "er ikke lik 0" in _messages(resp)[0][1]


def test_a_nok_account_takes_a_posting_in_currency(tripletex_sandbox, sandbox_http):
    """Tripletex changelog 28.06.2016: an account in the company currency may be posted to in
    another currency."""
    server = tripletex_sandbox
    http = sandbox_http(server)
    eur = _currency_id(http, server, "EUR")
    body = _voucher(
        server,
        [
            _posting(server, 1, 6800, 117.5, amountGrossCurrency=10, currency={"id": eur}),
            _posting(server, 2, 1920, -117.5, amountGrossCurrency=-117.5),
        ],
    )
    resp = _post(http, server, body, fields="postings(row,amountGrossCurrency,currency(id))")
    assert resp.status_code == 201, resp.text
    rows = {p["row"]: p for p in resp.json(parse_float=Decimal)["value"]["postings"]}
    assert rows[1]["currency"]["id"] == eur == seed.CURRENCY_IDS["EUR"]
    assert rows[1]["amountGrossCurrency"] == Decimal("10.00")

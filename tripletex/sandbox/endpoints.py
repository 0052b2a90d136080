"""Endpoint handlers of the sandbox: one function per Tripletex operation, plus the routes.

Each handler takes the server and a `Context` and returns (status, payload); it raises
`ApiError` for anything Tripletex would answer with an error body. Voucher validation follows
Tripletex (README §7.1): rows >= 1, at least two postings, gross amounts summing to 0 per date,
known accounts, open periods, and the "Advanced Voucher" permission for sendToLedger=true.
Currencies as `_validate_currency` describes (an account locked to a foreign currency takes only
postings in it, with their currency amount).
"""

from __future__ import annotations

import functools
import json
import re
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from . import demo, seed
from .api import ApiError, Context, Handler, Server, encode_json, validation_error
from .attachments import document_get, voucher_attachment_upload
from .entities import (
    currency_entities,
    ore_to_decimal,
    vat_type_entities,
    voucher_type_entities,
)
from .fields import FieldSelectionError, Ref
from .specfields import SPEC_FIELDS
from .store import VAT_BY_ID, PostingInput, decimal_to_ore

# -- endpoint handlers --------------------------------------------------------------------------


def session_create(server: Server, ctx: Context) -> tuple[int, Any]:
    """PUT /token/session/:create (no auth; tokens in the query string)."""
    _session_create_faults(server)
    if ctx.q_str("consumerToken") != demo.CONSUMER_TOKEN:
        raise validation_error(
            [("arg:consumerToken", "The consumer token is invalid or does not exist")]
        )
    employee_token = ctx.q_str("employeeToken") or ""
    info = server.store.token_info(employee_token)
    if info is None:
        raise validation_error(
            [("arg:employeeToken", "The employee token is invalid or does not exist")]
        )
    raw = ctx.q_str("expirationDate")
    try:
        expiration = date.fromisoformat(raw or "")
    except ValueError:
        raise validation_error([("arg:expirationDate", "Ugyldig dato.")]) from None
    if expiration <= server.store.today():
        raise validation_error([("arg:expirationDate", "Utløpsdatoen må være etter dagens dato.")])
    session = server.store.create_session(employee_token, expiration)
    value = {
        "id": session["id"],
        "version": 1,
        "consumerToken": {"id": 1, "version": 1, "token": demo.CONSUMER_TOKEN},
        "employeeToken": {"id": info.employee_id, "version": 1, "token": employee_token},
        "expirationDate": expiration.isoformat(),
        "token": session["token"],
        "encryptionKey": "",
    }
    return 200, {"value": value}


def _session_create_faults(server: Server) -> None:
    """The `fail_session_create` knob: a 429 (rate-limit headers as on any 429) or a 5xx."""
    faults = server.faults
    status = faults.take_session_create_fault()
    if status is None:
        return
    if status != 429:
        raise ApiError(status, 1000 if status >= 500 else 4000, "Injected failure.")
    headers = {"X-Rate-Limit-Limit": str(faults.rate_limit), "X-Rate-Limit-Remaining": "0"}
    if not faults.omit_reset_on_429:
        headers["X-Rate-Limit-Reset"] = str(faults.fail_session_create_reset)
    raise ApiError(429, 0, "Too many requests.", headers=headers)


def _session_delete(server: Server, ctx: Context) -> tuple[int, Any]:
    if not server.store.delete_session(ctx.params["token"]):
        raise ApiError(404, 6000, "Objektet finnes ikke.")
    return 204, None


def _who_am_i(server: Server, ctx: Context) -> tuple[int, Any]:
    assert ctx.token is not None
    value = {
        "employeeId": ctx.token.employee_id,
        "actualEmployeeId": ctx.token.employee_id,
        "employee": Ref("employee", ctx.token.employee_id),
        "companyId": ctx.company_id,
        "company": Ref("company", ctx.company_id),
        "language": "no",
        "loggedInWithConnect": False,
        "employeeIsProxy": ctx.company_id != ctx.token.company_id,
    }
    return 200, server.single(ctx, value, "loggedInUserInfo")


def _with_login_access(server: Server, ctx: Context) -> tuple[int, Any]:
    assert ctx.token is not None
    clients = []
    for client_id in sorted(ctx.token.client_ids):
        company = server.store.company(client_id)
        if company is not None:
            # customerCompanyId is Tripletex's customer id, not the id to log in with.
            clients.append({**company, "customerCompanyId": client_id + 500_000})
    return 200, server.listing(ctx, clients, "company")


def _accounts(server: Server, ctx: Context) -> tuple[int, Any]:
    items = server.store.accounts(ctx.company_id)
    ids, numbers = ctx.q_ids("id"), ctx.q_ids("number")
    if ids:
        items = [a for a in items if a["id"] in ids]
    if numbers:
        items = [a for a in items if a["number"] in numbers]
    for param, key in (
        ("isInactive", "isInactive"),
        ("isBankAccount", "isBankAccount"),
        ("isApplicableForSupplierInvoice", "isApplicableForSupplierInvoice"),
    ):
        flag = ctx.q_bool(param)
        if flag is not None:
            items = [a for a in items if a[key] == flag]
    balance = ctx.q_bool("isBalanceAccount")
    if balance is not None:
        items = [a for a in items if (a["number"] < 3000) == balance]
    ledger_type = ctx.q_str("ledgerType")
    if ledger_type:
        items = [a for a in items if a["ledgerType"] == ledger_type]
    return 200, server.listing(ctx, items, "account")


def _vat_types(server: Server, ctx: Context) -> tuple[int, Any]:
    items = vat_type_entities()
    ids, numbers = ctx.q_ids("id"), ctx.q_str("number")
    if ids:
        items = [v for v in items if v["id"] in ids]
    if numbers:
        wanted = {n.strip() for n in numbers.split(",")}
        items = [v for v in items if v["number"] in wanted]
    direction = ctx.q_str("typeOfVat")
    if direction:
        allowed = {code for code, v in seed.VAT_TYPES.items() if v[4] in (direction, "NONE")}
        items = [v for v in items if v["number"] in allowed]
    return 200, server.listing(ctx, items, "vatType")


def _currencies(server: Server, ctx: Context) -> tuple[int, Any]:
    """GET /currency: the currencies, filtered by `id` and `code` (comma-separated lists)."""
    items = currency_entities()
    ids, codes = ctx.q_ids("id"), ctx.q_str("code")
    if ids:
        items = [c for c in items if c["id"] in ids]
    if codes:
        wanted = {code.strip().upper() for code in codes.split(",")}
        items = [c for c in items if c["code"] in wanted]
    return 200, server.listing(ctx, items, "currency")


def _voucher_types(server: Server, ctx: Context) -> tuple[int, Any]:
    items = voucher_type_entities()
    name = ctx.q_str("name")
    if name:
        items = [v for v in items if name.lower() in v["name"].lower()]
    return 200, server.listing(ctx, items, "voucherType")


def _periods(server: Server, ctx: Context) -> tuple[int, Any]:
    items = server.store.periods(ctx.company_id)
    ids = ctx.q_ids("id")
    if ids:
        items = [p for p in items if p["id"] in ids]
    for param, key, inclusive in (
        ("startFrom", "start", True),
        ("startTo", "start", False),
        ("endFrom", "end", True),
        ("endTo", "end", False),
    ):
        bound = ctx.q_date(param)
        if bound is not None:
            text = bound.isoformat()
            items = [p for p in items if (p[key] >= text if inclusive else p[key] < text)]
    number_from, number_to = ctx.q_int("numberFrom"), ctx.q_int("numberTo")
    if number_from is not None:
        items = [p for p in items if p["number"] >= number_from]
    if number_to is not None:
        items = [p for p in items if p["number"] < number_to]
    return 200, server.listing(ctx, items, "accountingPeriod", default_count=1400)


def _balance_sheet(server: Server, ctx: Context) -> tuple[int, Any]:
    faults = server.faults
    key = (
        ctx.company_id,
        server.store.version(ctx.company_id),
        ctx.base_url,
        tuple(sorted(ctx.query.items())),
        (
            faults.unbalance_month,
            faults.unbalance_company_id,
            faults.unbalance_amount,
            faults.unbalance_account_number,
        ),
    )
    cached = server.response_cache.get(key)
    if cached is None:
        cached = encode_json(_balance_sheet_payload(server, ctx))
        if len(server.response_cache) > 20_000:
            server.response_cache.clear()
        server.response_cache[key] = cached
    return 200, cached


def _balance_sheet_payload(server: Server, ctx: Context) -> dict[str, Any]:
    date_from = ctx.q_date("dateFrom", required=True)
    date_to = ctx.q_date("dateTo", required=True)
    assert date_from is not None
    assert date_to is not None
    if date_to <= date_from:
        raise validation_error([("dateTo", "Til og med dato må være etter fra og med dato.")])
    rows = server.store.balance_sheet(
        ctx.company_id,
        date_from,
        date_to,
        number_from=ctx.q_int("accountNumberFrom"),
        number_to=ctx.q_int("accountNumberTo"),
        include_without_movements=bool(ctx.q_bool("includeActiveAccountsWithoutMovements")),
    )
    dimension = _dimension(ctx)
    if dimension is not None:
        changes = server.store.dimension_changes(ctx.company_id, date_from, date_to, *dimension)
        rows = [(a, 0, changes.get(a["id"], 0), a["id"] in changes) for a, _, _, _ in rows]
        rows = [r for r in rows if r[3]]
    deltas = _unbalance(server, ctx, date_from, date_to)
    start, end = date_from.isoformat(), date_to.isoformat()
    items = []
    for account, before, change, _ in rows:
        change += deltas.pop(account["number"], 0)
        items.append(
            {
                "account": Ref("account", account["id"]),
                "balanceIn": ore_to_decimal(before),
                "balanceChange": ore_to_decimal(change),
                "balanceOut": ore_to_decimal(before + change),
                "startDate": start,
                "endDate": end,
            }
        )
    for number, delta in deltas.items():
        unlisted = server.store.account_by_number(ctx.company_id, number)
        if unlisted is not None:
            items.append(
                {
                    "account": Ref("account", unlisted["id"]),
                    "balanceIn": ore_to_decimal(0),
                    "balanceChange": ore_to_decimal(delta),
                    "balanceOut": ore_to_decimal(delta),
                    "startDate": start,
                    "endDate": end,
                }
            )
    return server.listing(ctx, items, "balanceSheetAccount")


def _dimension(ctx: Context) -> tuple[str, int] | None:
    for param, column in (("departmentId", "department_id"), ("projectId", "project_id")):
        value = ctx.q_int(param)
        if value is not None:
            return column, value
    return None


def _unbalance(server: Server, ctx: Context, date_from: date, date_to: date) -> dict[int, int]:
    """Corruption for the `unbalance_month` fault: only the exact month's pull is off."""
    month = server.faults.unbalance_month
    if not month:
        return {}
    target = server.faults.unbalance_company_id
    if target is not None and target != ctx.company_id:
        return {}
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    following = date(year + mon // 12, mon % 12 + 1, 1)
    if (date_from, date_to) != (first, following):
        return {}
    amount = decimal_to_ore(Decimal(server.faults.unbalance_amount)) or 0
    return {server.faults.unbalance_account_number: amount}


def _postings(server: Server, ctx: Context) -> tuple[int, Any]:
    date_from = ctx.q_date("dateFrom", required=True)
    date_to = ctx.q_date("dateTo", required=True)
    assert date_from is not None
    assert date_to is not None
    filters: dict[str, Any] = {}
    for param, column in (
        ("accountId", "account_id"),
        ("departmentId", "department_id"),
        ("projectId", "project_id"),
        ("accountNumberFrom", "number_from"),
        ("accountNumberTo", "number_to"),
    ):
        value = ctx.q_int(param)
        if value is not None:
            filters[column] = value
    # The `hide_salary_postings` knob: a key without access to salary sees no posting of a
    # salary voucher here (README §8.3), while /balanceSheet still counts them.
    hidden = seed.VOUCHER_TYPES["Lønnsbilag"] if server.faults.hide_salary_postings else None
    sorting = (ctx.q_str("sorting") or "").replace(" ", "")
    if sorting and sorting not in ("id", "date,id"):
        _, items = server.store.postings(
            ctx.company_id,
            date_from,
            date_to,
            filters=filters,
            limit=1_000_000,
            hidden_voucher_type=hidden,
        )
        return 200, server.listing(ctx, items, "posting")
    start, count = ctx.paging()
    total, items = server.store.postings(
        ctx.company_id,
        date_from,
        date_to,
        filters=filters,
        offset=start,
        limit=count,
        by_date=sorting == "date,id",
        hidden_voucher_type=hidden,
    )
    return 200, server.listing(ctx, items, "posting", total=total, paged=True)


def _sql_page(ctx: Context) -> tuple[int, int]:
    """Offset and limit for a list the database pages by id (everything when sorting by more)."""
    start, count = ctx.paging()
    sorting = ctx.q_str("sorting")
    if sorting and sorting.strip() != "id":
        return 0, 1_000_000
    return start, count


def _db_listing(
    server: Server, ctx: Context, items: list[dict[str, Any]], total: int, **extra: Any
) -> dict[str, Any]:
    sorting = ctx.q_str("sorting")
    if sorting and sorting.strip() != "id":
        return server.listing(ctx, items, "voucher", extra=extra)
    return server.listing(ctx, items, "voucher", total=total, paged=True, extra=extra)


def _voucher_search(server: Server, ctx: Context) -> tuple[int, Any]:
    date_from = ctx.q_date("dateFrom", required=True)
    date_to = ctx.q_date("dateTo", required=True)
    if server.faults.blind_voucher_search:
        return 200, _db_listing(server, ctx, [], 0, totalNumberOfPostings=0)
    number = ctx.q_int("number")
    start, count = _sql_page(ctx)
    total, n_postings, items = server.store.vouchers(
        ctx.company_id,
        date_from=date_from,
        date_to=date_to,
        ids=ctx.q_ids("id"),
        number_from=number if number is not None else ctx.q_int("numberFrom"),
        number_to=number if number is not None else ctx.q_int("numberTo"),
        type_id=ctx.q_int("typeId"),
        offset=start,
        limit=count,
    )
    return 200, _db_listing(server, ctx, items, total, totalNumberOfPostings=n_postings)


def _voucher_by_external(server: Server, ctx: Context) -> tuple[int, Any]:
    if server.faults.blind_external_lookup:
        return 200, _db_listing(server, ctx, [], 0)
    start, count = _sql_page(ctx)
    total, _, items = server.store.vouchers(
        ctx.company_id,
        external_number=ctx.q_str("externalVoucherNumber") or "",
        offset=start,
        limit=count,
    )
    return 200, _db_listing(server, ctx, items, total)


def _voucher_non_posted(server: Server, ctx: Context) -> tuple[int, Any]:
    if not ctx.q_bool("includeNonApproved", False):
        # The sandbox keeps no approval state: every non-posted voucher is "non-approved".
        return 200, _db_listing(server, ctx, [], 0)
    start, count = _sql_page(ctx)
    total, _, items = server.store.vouchers(
        ctx.company_id,
        date_from=ctx.q_date("dateFrom"),
        date_to=ctx.q_date("dateTo"),
        posted=False,
        offset=start,
        limit=count,
    )
    return 200, _db_listing(server, ctx, items, total)


def _voucher_state(server: Server, ctx: Context) -> tuple[int, tuple[bool, int | None]]:
    """The path's voucher id and its (is posted, reverse voucher id); 404 when there is none."""
    voucher_id = int(ctx.params["id"])
    state = server.store.voucher_state(ctx.company_id, voucher_id)
    if state is None:
        raise ApiError(404, 6000, "Objektet finnes ikke.")
    return voucher_id, state


def _voucher_send_to_ledger(server: Server, ctx: Context) -> tuple[int, Any]:
    _require_advanced_voucher(ctx)
    voucher_id, state = _voucher_state(server, ctx)
    if state[0]:
        raise validation_error([("id", "Bilaget er allerede bokført.")])
    server.store.send_to_ledger(ctx.company_id, voucher_id)
    voucher = server.store.voucher(ctx.company_id, voucher_id)
    assert voucher is not None
    return 200, server.single(ctx, voucher, "voucher")


def _voucher_delete(server: Server, ctx: Context) -> tuple[int, Any]:
    voucher_id, state = _voucher_state(server, ctx)
    if state[0]:
        # Deleting a posted voucher needs the same access as posting it.
        _require_advanced_voucher(ctx)
    server.store.delete_voucher(ctx.company_id, voucher_id)
    return 204, None


def _voucher_get(server: Server, ctx: Context) -> tuple[int, Any]:
    voucher = server.store.voucher(ctx.company_id, int(ctx.params["id"]))
    if voucher is None:
        raise ApiError(404, 6000, "Objektet finnes ikke.")
    return 200, server.single(ctx, voucher, "voucher")


def _entity_get(kind: str) -> Handler:
    def handler(server: Server, ctx: Context) -> tuple[int, Any]:
        entity = server.resolver(ctx.company_id)(kind, int(ctx.params["id"]))
        if entity is None:
            raise ApiError(404, 6000, "Objektet finnes ikke.")
        return 200, server.single(ctx, entity, kind)

    return handler


def _require_advanced_voucher(ctx: Context) -> None:
    assert ctx.token is not None
    if not ctx.token.advanced_voucher:
        raise ApiError(
            403,
            9000,
            "You do not have access to this functionality.",
            developer="The employee token lacks the Advanced Voucher permission.",
        )


def _voucher_create(server: Server, ctx: Context) -> tuple[int, Any]:
    send = ctx.q_bool("sendToLedger", True)
    if send:
        _require_advanced_voucher(ctx)
    try:
        body = json.loads(ctx.body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, 22000, "Ugyldig JSON.", developer=str(exc)) from None
    if not isinstance(body, dict):
        raise ApiError(422, 16000, "Forventet et bilag (JSON-objekt).")
    if ctx.tree is not None:
        unknown = set(ctx.tree) - {"*"} - SPEC_FIELDS["voucher"]
        if unknown:
            raise FieldSelectionError(sorted(unknown)[0], "VoucherDTO")
    day, postings, voucher_type = _validate_voucher(server, ctx.company_id, body)
    _voucher_write_faults(server)
    external = body.get("externalVoucherNumber")
    voucher_id = server.store.create_voucher(
        ctx.company_id,
        day=day,
        description=_text(body.get("description")),
        external_number=_text(external),
        voucher_type_id=voucher_type,
        postings=postings,
        send_to_ledger=bool(send),
    )
    if server.faults.take_drop_reply():
        ctx.drop_reply = True
        return 0, None
    voucher = server.store.voucher(ctx.company_id, voucher_id)
    assert voucher is not None
    return 201, server.single(ctx, voucher, "voucher")


def _voucher_write_faults(server: Server) -> None:
    """Fault knobs of a voucher write, before it is stored: a 429, or a slow store."""
    if server.faults.take_limit_voucher_write():
        reset = str(server.faults.limit_voucher_writes_reset)
        raise ApiError(429, 0, "Too many requests.", headers={"X-Rate-Limit-Reset": reset})
    if server.faults.take_hold_voucher_write():
        time.sleep(server.faults.hold_voucher_writes_seconds)


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _ref_id(value: Any) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("id"), int):
        return int(value["id"])
    return None


def _validate_voucher(
    server: Server, company_id: int, body: dict[str, Any]
) -> tuple[date, list[PostingInput], int | None]:
    messages: list[tuple[str, str]] = []
    try:
        day = date.fromisoformat(str(body.get("date") or ""))
    except ValueError:
        raise validation_error([("date", "Kan ikke være null.")]) from None
    voucher_type = _ref_id(body.get("voucherType"))
    if body.get("voucherType") is not None and voucher_type not in seed.VOUCHER_TYPES.values():
        messages.append(("voucherType", "Bilagstypen finnes ikke."))
    raw = body.get("postings")
    if not isinstance(raw, list) or not raw:
        raise validation_error([("postings", "Et bilag kan ikke registreres uten posteringer.")])
    if len(raw) < 2:
        messages.append(("postings", "Et bilag må ha minst to posteringer."))
    postings = [_validate_posting(server, company_id, p, day, messages) for p in raw]
    valid = [p for p in postings if p is not None]
    totals: dict[date, int] = {}
    for p in valid:
        totals[p.date] = totals.get(p.date, 0) + p.gross
    for when, total in sorted(totals.items()):
        if total != 0 and len(valid) == len(postings):
            messages.append(("postings", f"Summen av posteringene for {when} er ikke lik 0."))
    for when in sorted({day, *totals}):
        if server.store.is_closed(company_id, when):
            messages.append(("date", f"Regnskapsperioden for {when} er lukket."))
    if messages:
        raise validation_error(messages)
    return day, valid, voucher_type


def _validate_posting(
    server: Server,
    company_id: int,
    raw: Any,
    day: date,
    messages: list[tuple[str, str]],
) -> PostingInput | None:
    if not isinstance(raw, dict):
        messages.append(("postings", "Ugyldig postering."))
        return None
    ok = True
    row = raw.get("row")
    if not isinstance(row, int) or isinstance(row, bool) or row < 1:
        messages.append(("postings.row", "Rad må være 1 eller høyere (rad 0 er systemgenerert)."))
        ok = False
    account_id = _ref_id(raw.get("account"))
    if account_id is None or server.store.account(company_id, account_id) is None:
        messages.append(("postings.account", "Kontoen finnes ikke."))
        ok = False
    gross = _amount(raw.get("amountGross"))
    if gross is None:
        messages.append(("postings.amountGross", "Beløpet mangler eller har mer enn to desimaler."))
        ok = False
    vat_code = None
    if raw.get("vatType") is not None:
        vat_id = _ref_id(raw.get("vatType"))
        vat_code = VAT_BY_ID.get(vat_id or -1)
        if vat_code is None:
            messages.append(("postings.vatType", "Mva-koden finnes ikke."))
            ok = False
    currency = _validate_currency(server, company_id, raw, account_id, gross, messages)
    department = _dimension_ref(raw, "department", server.store.departments(company_id), messages)
    project = _dimension_ref(raw, "project", server.store.projects(company_id), messages)
    posting_day = day
    if raw.get("date"):
        try:
            posting_day = date.fromisoformat(str(raw["date"]))
        except ValueError:
            messages.append(("postings.date", "Ugyldig dato."))
            ok = False
    if not ok or department is False or project is False or currency is None:
        return None
    assert account_id is not None
    assert gross is not None
    assert isinstance(row, int)
    return PostingInput(
        row,
        account_id,
        gross,
        vat_code,
        department or None,
        project or None,
        _text(raw.get("description")),
        posting_day,
        currency_id=currency[0],
        gross_currency=currency[1],
    )


def _validate_currency(
    server: Server,
    company_id: int,
    raw: dict[str, Any],
    account_id: int | None,
    gross: int | None,
    messages: list[tuple[str, str]],
) -> tuple[int, int | None] | None:
    """(currency id, gross in the currency's cents or None for "as amountGross") of a posting, or
    None after adding what is wrong to `messages`.

    What Tripletex does, as far as its own words go:
    * A posting without `currency` is in the company currency (README §7.1: "defaults to company
      currency"), NOK here; its `amountGrossCurrency` is the same number as `amountGross`
      (README §7.1 and the minimal example of tripletex-api2#15, where both are sent equal).
    * A currency is named by id and must exist (GET /currency; tripletex-api2#18).
    * An account locked to a currency other than the company's takes postings in that currency
      only (Tripletex changelog 28.06.2016, "Endringer i Tripletex": "hvis regnskapskontoen er
      låst til USD, så kan man ikke postere i en annen valuta enn USD"); such a posting needs its
      amount in that currency, `amountGrossCurrency`, with the same sign as the NOK amount.
    * An account in the company currency may take a posting in another currency (the same
      changelog); the sandbox accepts it with its currency amount.
    The voucher balances in NOK (`amountGross`), whatever the currencies (_validate_voucher).
    """
    currency_id = seed.CURRENCY_NOK
    if raw.get("currency") is not None:
        ident = _ref_id(raw.get("currency"))
        if ident is None or ident not in seed.CURRENCIES:
            messages.append(("postings.currency", "Valutaen finnes ikke."))
            return None
        currency_id = ident
    code = seed.CURRENCIES[currency_id][0]
    account = server.store.account(company_id, account_id) if account_id is not None else None
    if account is not None:
        locked = account["currency"].id
        if locked != seed.CURRENCY_NOK and locked != currency_id:
            messages.append(
                (
                    "postings.currency",
                    f"Konto {account['number']} er låst til valuta "
                    f"{seed.CURRENCIES[locked][0]}; posteringen må være i "
                    f"{seed.CURRENCIES[locked][0]}, ikke {code}.",
                )
            )
            return None
    if gross is None:
        return currency_id, None  # amountGross itself is wrong: said once, for that field
    sent = raw.get("amountGrossCurrency")
    in_currency = _amount(sent) if sent is not None else None
    if sent is not None and in_currency is None:
        messages.append(
            ("postings.amountGrossCurrency", "Beløpet i valuta har mer enn to desimaler.")
        )
        return None
    if currency_id == seed.CURRENCY_NOK:
        if in_currency is not None and in_currency != gross:
            messages.append(
                (
                    "postings.amountGrossCurrency",
                    "Beløpet i valuta må være lik beløpet når posteringen er i NOK.",
                )
            )
            return None
        return currency_id, None
    if in_currency is None:
        messages.append(("postings.amountGrossCurrency", f"Beløp i valuta ({code}) mangler."))
        return None
    if (in_currency > 0, in_currency < 0) != (gross > 0, gross < 0):
        messages.append(
            (
                "postings.amountGrossCurrency",
                "Beløpet i valuta må ha samme fortegn som beløpet i NOK.",
            )
        )
        return None
    return currency_id, in_currency


def _dimension_ref(
    raw: dict[str, Any], name: str, known: list[dict[str, Any]], messages: list[tuple[str, str]]
) -> int | bool | None:
    if raw.get(name) is None:
        return None
    ident = _ref_id(raw[name])
    if ident is None or all(e["id"] != ident for e in known):
        messages.append((f"postings.{name}", "Objektet finnes ikke."))
        return False
    return ident


def _amount(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return decimal_to_ore(Decimal(value) if isinstance(value, int) else Decimal(str(value)))
    except InvalidOperation:
        return None


def _voucher_reverse(server: Server, ctx: Context) -> tuple[int, Any]:
    _require_advanced_voucher(ctx)
    voucher_id, state = _voucher_state(server, ctx)
    day = ctx.q_date("date", required=True)
    assert day is not None
    posted, reversed_by = state
    if not posted:
        raise validation_error([("id", "Bilaget er ikke bokført og kan ikke tilbakeføres.")])
    if reversed_by is not None:
        raise validation_error([("reverseVoucher", "Bilaget er allerede tilbakeført.")])
    if server.store.is_closed(ctx.company_id, day):
        raise validation_error([("date", f"Regnskapsperioden for {day} er lukket.")])
    _voucher_write_faults(server)
    new_id = server.store.reverse_voucher(ctx.company_id, voucher_id, day)
    voucher = server.store.voucher(ctx.company_id, new_id)
    assert voucher is not None
    return 200, server.single(ctx, voucher, "voucher")


def _departments(server: Server, ctx: Context) -> tuple[int, Any]:
    items = server.store.departments(ctx.company_id)
    ids, name, number = ctx.q_ids("id"), ctx.q_str("name"), ctx.q_str("departmentNumber")
    if ids:
        items = [d for d in items if d["id"] in ids]
    if name:
        items = [d for d in items if name.lower() in d["name"].lower()]
    if number:
        items = [d for d in items if number in d["departmentNumber"]]
    inactive = ctx.q_bool("isInactive")
    if inactive is not None:
        items = [d for d in items if d["isInactive"] == inactive]
    return 200, server.listing(ctx, items, "department")


def _projects(server: Server, ctx: Context) -> tuple[int, Any]:
    items = server.store.projects(ctx.company_id)
    ids, name, number = ctx.q_ids("id"), ctx.q_str("name"), ctx.q_str("number")
    if ids:
        items = [p for p in items if p["id"] in ids]
    if name:
        items = [p for p in items if name.lower() in p["name"].lower()]
    if number:
        items = [p for p in items if p["number"] == number]
    for param in ("isClosed", "isOffer", "isFixedPrice"):
        flag = ctx.q_bool(param)
        if flag is not None:
            items = [p for p in items if p[param] == flag]
    department = ctx.q_ids("departmentId")
    if department:
        items = [p for p in items if p["department"].id in department]
    return 200, server.listing(ctx, items, "project")


def _budget_year(server: Server, ctx: Context) -> int:
    """The `year` of a /resultbudget call: 1900–2100, today's year when absent (README §8.5)."""
    year = ctx.q_int("year")
    if year is None:
        return server.store.today().year
    if not 1900 <= year <= 2100:
        raise validation_error([("year", "Må være mellom 1900 og 2100.")])
    return year


def _result_budget_company(server: Server, ctx: Context) -> tuple[int, Any]:
    year = _budget_year(server, ctx)
    items = server.store.result_budgets(ctx.company_id, year=year, level="COMPANY")
    return 200, server.listing(ctx, items, "resultBudget")


def _result_budget_of(level: str) -> Handler:
    """GET /resultbudget/{department|project|employee|product}/{id}: one object's budget (the
    sandbox keeps no employee or product budgets, so those lists are empty)."""

    def handler(server: Server, ctx: Context) -> tuple[int, Any]:
        year = _budget_year(server, ctx)
        items: list[dict[str, Any]] = []
        if level in ("DEPARTMENT", "PROJECT"):
            ids = frozenset({int(ctx.params["id"])})
            items = server.store.result_budgets(ctx.company_id, year=year, level=level, ids=ids)
        return 200, server.listing(ctx, items, "resultBudget")

    return handler


def _result_budgets(server: Server, ctx: Context) -> tuple[int, Any]:
    """GET /resultbudget: the budgets of the listed departments and projects, or of all of them
    with the includeAll… flags (products and employees have none in the sandbox)."""
    year = _budget_year(server, ctx)
    items: list[dict[str, Any]] = []
    for level, ids_param, all_param in (
        ("DEPARTMENT", "departmentIds", "includeAllDepartmentResultBudgets"),
        ("PROJECT", "projectIds", "includeAllProjectResultBudgets"),
    ):
        listed = ctx.q_ids(ids_param)
        if ctx.q_bool(all_param, False):
            items += server.store.result_budgets(ctx.company_id, year=year, level=level)
        elif listed:
            ids = frozenset(listed)
            items += server.store.result_budgets(ctx.company_id, year=year, level=level, ids=ids)
    for flag in ("includeAllProductResultBudgets", "includeAllEmployeeResultBudgets"):
        ctx.q_bool(flag)  # validated like the others; nothing to add
    return 200, server.listing(ctx, sorted(items, key=lambda b: b["id"]), "resultBudget")


# With user name 0 an accounting-office token reaches only these (README §0 rule 3).
OFFICE_ROOT_HANDLERS = (_who_am_i, _with_login_access, _session_delete)

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in (
        ("PUT", r"/token/session/:create", session_create),
        ("GET", r"/token/session/>whoAmI", _who_am_i),
        ("DELETE", r"/token/session/(?P<token>[^/>:]+)", _session_delete),
        ("GET", r"/company/>withLoginAccess", _with_login_access),
        ("GET", r"/ledger/account", _accounts),
        ("GET", r"/ledger/account/(?P<id>\d+)", _entity_get("account")),
        ("GET", r"/ledger/vatType", _vat_types),
        ("GET", r"/ledger/vatType/(?P<id>\d+)", _entity_get("vatType")),
        ("GET", r"/currency", _currencies),
        ("GET", r"/currency/(?P<id>\d+)", _entity_get("currency")),
        ("GET", r"/ledger/voucherType", _voucher_types),
        ("GET", r"/ledger/voucherType/(?P<id>\d+)", _entity_get("voucherType")),
        ("GET", r"/ledger/accountingPeriod", _periods),
        ("GET", r"/ledger/accountingPeriod/(?P<id>\d+)", _entity_get("accountingPeriod")),
        ("GET", r"/balanceSheet", _balance_sheet),
        ("GET", r"/ledger/posting", _postings),
        ("GET", r"/ledger/posting/(?P<id>\d+)", _entity_get("posting")),
        ("GET", r"/ledger/voucher", _voucher_search),
        ("POST", r"/ledger/voucher", _voucher_create),
        ("GET", r"/ledger/voucher/>externalVoucherNumber", _voucher_by_external),
        ("GET", r"/ledger/voucher/>nonPosted", _voucher_non_posted),
        ("PUT", r"/ledger/voucher/(?P<id>\d+)/:sendToLedger", _voucher_send_to_ledger),
        ("GET", r"/ledger/voucher/(?P<id>\d+)", _voucher_get),
        ("DELETE", r"/ledger/voucher/(?P<id>\d+)", _voucher_delete),
        ("PUT", r"/ledger/voucher/(?P<id>\d+)/:reverse", _voucher_reverse),
        ("POST", r"/ledger/voucher/(?P<voucherId>\d+)/attachment", voucher_attachment_upload),
        ("GET", r"/document/(?P<id>\d+)", document_get),
        ("GET", r"/department", _departments),
        ("GET", r"/department/(?P<id>\d+)", _entity_get("department")),
        ("GET", r"/project", _projects),
        ("GET", r"/project/(?P<id>\d+)", _entity_get("project")),
        ("GET", r"/resultbudget", _result_budgets),
        ("GET", r"/resultbudget/company", _result_budget_company),
        ("GET", r"/resultbudget/department/(?P<id>\d+)", _result_budget_of("DEPARTMENT")),
        ("GET", r"/resultbudget/project/(?P<id>\d+)", _result_budget_of("PROJECT")),
        ("GET", r"/resultbudget/employee/(?P<id>\d+)", _result_budget_of("EMPLOYEE")),
        ("GET", r"/resultbudget/product/(?P<id>\d+)", _result_budget_of("PRODUCT")),
    )
]


@functools.lru_cache(maxsize=4096)
def route(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    """The handler and path parameters for a request; raises 404/405 ApiError."""
    path_matched = False
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        path_matched = True
        if route_method == method:
            return handler, match.groupdict()
    if path_matched:
        raise ApiError(405, 4000, f"Metoden {method} støttes ikke for {path}.")
    raise ApiError(404, 6000, f"Fant ikke {path}.")

"""The real client against a running sandbox over HTTP on 127.0.0.1 (started and stopped per test)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tripletex.client import RetryPolicy, TripletexClient
from tripletex.errors import (
    TripletexForbidden,
    TripletexOutcomeUnknown,
    TripletexValidationError,
)
from tripletex.sandbox import demo
from tripletex.schemas import PostingPayload, VoucherPayload


def client_for(server, token: str = demo.HOLDING_TOKEN, **kwargs) -> TripletexClient:
    kwargs.setdefault(
        "retry", RetryPolicy(base_delay=0.01, max_delay=0.05, rate_limit_base_delay=0.2)
    )
    return TripletexClient(
        base_url=server.base_url, consumer_token=demo.CONSUMER_TOKEN, employee_token=token, **kwargs
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def open_day(server) -> date:
    """A date in an open accounting period (this month)."""
    return server.store.today().replace(day=1)


def voucher(
    client: TripletexClient, number: str, day: date, amount: str = "1250.50"
) -> VoucherPayload:
    accounts = {a.number: a.id for a in client.accounts()}
    return VoucherPayload(
        date=day,
        description="Integration test",
        external_voucher_number=number,
        postings=(
            PostingPayload(row=1, account_id=accounts[6800], amount_gross=Decimal(amount)),
            PostingPayload(row=2, account_id=accounts[1920], amount_gross=-Decimal(amount)),
        ),
    )


def test_who_am_i_names_the_keys_company(tripletex_sandbox):
    me = client_for(tripletex_sandbox).who_am_i()
    assert me.company_id == demo.HOLDING.company_id
    assert me.organization_number == demo.HOLDING.org_number


def test_office_key_reaches_its_clients_by_company_id(tripletex_sandbox):
    office = client_for(tripletex_sandbox, demo.OFFICE_TOKEN)
    clients = {c.organization_number: c for c in office.clients_with_login_access()}
    assert {demo.CLIENT_A.org_number, demo.CLIENT_B.org_number} <= set(clients)
    client_a = office.for_company(clients[demo.CLIENT_A.org_number].id)
    assert client_a.who_am_i().company_id == demo.CLIENT_A.company_id
    assert client_a.accounts()
    # With user name 0 an office key may only ask who it is and whom it reaches.
    with pytest.raises(TripletexForbidden):
        office.accounts()


def test_monthly_balance_sheet_ties_out(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    start = month_start(tripletex_sandbox.store.today()) - timedelta(days=40)
    rows = client.balance_sheet(date_from=month_start(start), date_to=next_month(start))
    assert rows
    assert sum(r.balance_change for r in rows) == 0
    assert all(r.balance_in + r.balance_change == r.balance_out for r in rows)
    assert all(isinstance(r.balance_out, Decimal) for r in rows)


def test_periods_are_closed_before_the_previous_month(tripletex_sandbox):
    today = tripletex_sandbox.store.today()
    periods = client_for(tripletex_sandbox).accounting_periods(
        start_from=date(today.year - 1, 1, 1), start_to=date(today.year + 1, 1, 1)
    )
    assert any(p.is_closed for p in periods)
    current = next(p for p in periods if p.start <= today < p.end)
    assert not current.is_closed


def test_voucher_round_trip_lookup_reverse_and_balances(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    day = open_day(tripletex_sandbox)
    before = {
        r.account_number: r.balance_change
        for r in client.balance_sheet(date_from=day, date_to=next_month(day))
    }
    created = client.voucher_create(voucher(client, "IT-ROUND-1", day))
    assert created.number
    assert created.year == day.year
    found = client.vouchers_by_external_number("IT-ROUND-1")
    assert [v.id for v in found] == [created.id]
    fetched = client.voucher_get(created.id)
    assert sum(p.amount_gross for p in fetched.postings) == 0
    after = {
        r.account_number: r.balance_change
        for r in client.balance_sheet(date_from=day, date_to=next_month(day))
    }
    assert after[6800] - before.get(6800, Decimal(0)) == Decimal("1250.50")
    reversal = client.voucher_reverse(created.id, date=day)
    assert reversal.id != created.id
    assert client.voucher_get(created.id).reverse_voucher_id == reversal.id


def test_unknown_account_is_a_validation_error_with_its_field(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    bad = VoucherPayload(
        date=open_day(tripletex_sandbox),
        description="Unknown account",
        external_voucher_number="IT-BAD-1",
        postings=(
            PostingPayload(row=1, account_id=999_999_999, amount_gross=Decimal("10")),
            PostingPayload(row=2, account_id=999_999_998, amount_gross=Decimal("-10")),
        ),
    )
    with pytest.raises(TripletexValidationError) as error:
        client.voucher_create(bad)
    assert error.value.status == 422
    assert any(m.field.startswith("postings.account") for m in error.value.validation_messages)
    assert error.value.request_id


def test_closed_period_is_rejected(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    day = date(tripletex_sandbox.store.today().year - 1, 3, 15)
    with pytest.raises(TripletexValidationError) as error:
        client.voucher_create(voucher(client, "IT-CLOSED-1", day))
    assert error.value.status == 422


def test_key_without_advanced_voucher_cannot_post(tripletex_sandbox):
    client = client_for(tripletex_sandbox, demo.READONLY_TOKEN)
    with pytest.raises(TripletexForbidden):
        client.voucher_create(voucher(client, "IT-RO-1", open_day(tripletex_sandbox)))


def test_without_advanced_voucher_a_voucher_can_wait_for_approval(tripletex_sandbox):
    client = client_for(tripletex_sandbox, demo.READONLY_TOKEN)
    day = open_day(tripletex_sandbox)
    created = client.voucher_create(voucher(client, "IT-RO-2", day), send_to_ledger=False)
    assert created.number is None
    assert created.temp_number
    waiting = client.vouchers_non_posted(date_from=day, date_to=day + timedelta(days=1))
    assert [v.id for v in waiting if v.external_voucher_number == "IT-RO-2"] == [created.id]
    # Someone at the firm approves it in Tripletex: it gets its number and leaves the list.
    tripletex_sandbox.store.send_to_ledger(demo.HOLDING.company_id, created.id)
    approved = client.voucher_get(created.id)
    assert approved.number
    waiting = client.vouchers_non_posted(date_from=day, date_to=day + timedelta(days=1))
    assert created.id not in [v.id for v in waiting]


def test_lost_reply_is_an_unknown_outcome_and_the_lookup_finds_one_voucher(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    payload = voucher(client, "IT-LOST-1", open_day(tripletex_sandbox))
    tripletex_sandbox.faults.update({"drop_reply_after_voucher_store": 1})
    with pytest.raises(TripletexOutcomeUnknown):
        client.voucher_create(payload)
    assert len(client.vouchers_by_external_number("IT-LOST-1")) == 1


def test_reads_are_retried_through_server_errors(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    client.who_am_i()
    tripletex_sandbox.faults.update({"fail_next": {"status": 503, "count": 2}})
    assert client.accounts()
    assert client.stats.retries >= 2


def test_rate_limit_without_reset_header_is_waited_out(tripletex_sandbox):
    tripletex_sandbox.faults.update(
        {"rate_limit": 3, "rate_window": 1.0, "omit_reset_on_429": True}
    )
    client = client_for(tripletex_sandbox)
    for _ in range(8):
        assert client.who_am_i().company_id == demo.HOLDING.company_id
    assert client.stats.rate_limit_waits > 0


def test_expired_session_is_renewed_once(tripletex_sandbox):
    client = client_for(tripletex_sandbox)
    client.who_am_i()
    session = client._shared.sessions.peek()
    tripletex_sandbox.store.set_session_expiration(session.token, tripletex_sandbox.store.today())
    assert client.who_am_i().company_id == demo.HOLDING.company_id
    assert client._shared.sessions.peek().token != session.token

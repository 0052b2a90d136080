"""A slow Tripletex: the settle deadline counts from the last moment a POST (or PUT :reverse)
could have left, whatever the rate limiter and the client's own resends did inside the call.

Issue 11's timeline, compressed: the first POST is refused with a 429, the client waits for the
reset and sends again; that send is held by Tripletex past our read timeout and stored later.
A second process that runs in between must wait, not post; once the deadline has passed it finds
the one voucher."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_set_own_key
from ledger.booking.protocol import (
    BookingRetry,
    BookingStateError,
    booking_queue,
    booking_run,
    settle_deadline,
)
from ledger.booking.reversal import booking_reverse
from ledger.models import BookingAttempt, Reversal, Transaction
from tests.ledger.support import record, reload, vouchers_with
from tests.tripletex.fakes import FakeTime, FakeTripletex, error_body, make_client
from tests.tripletex.test_client import _voucher_payload
from tripletex.client import TripletexClient
from tripletex.errors import TripletexOutcomeUnknown
from tripletex.ratelimit import MemoryRateLimiter
from tripletex.sandbox import demo

CONNECT, READ, SETTLE, HOLD = 0.5, 1.0, 1.0, 2.5


@pytest.fixture
def slow_acme(acme, tripletex_sandbox, settings, local_cache):
    """Acme on a sandbox, with short but real timeouts and settle margin (no test shortcut)."""
    settings.TRIPLETEX_CONNECT_TIMEOUT = CONNECT
    settings.TRIPLETEX_READ_TIMEOUT = READ
    settings.BOOKING_SETTLE_SECONDS = SETTLE
    settings.BOOKING_STUCK_SECONDS = 600
    connection_set_own_key(company=acme, token=demo.HOLDING_TOKEN, by=None)
    return acme


def _queue(company, txn) -> None:
    with scope(company=company):
        assert booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)["queued"]


def _book(company, txn) -> str:
    with scope(company=company):
        return booking_run(company=company, transaction_id=txn.pk)


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)


@pytest.mark.django_db(transaction=True)
def test_slow_post_after_a_429_gives_one_voucher_and_the_second_process_waits(
    slow_acme, tripletex_sandbox
):
    txn = record(slow_acme)
    _queue(slow_acme, txn)
    faults = tripletex_sandbox.faults
    faults.update(
        {
            "limit_voucher_writes": 1,  # the first POST: 429, reset in 1 s; the client resends
            "limit_voucher_writes_reset": 1,
            "hold_voucher_writes": 1,  # the resend: stored only after HOLD s
            "hold_voucher_writes_seconds": HOLD,
        }
    )
    started = datetime.now(UTC)
    with pytest.raises(BookingRetry) as first:
        _book(slow_acme, txn)  # 429 → wait → resend → read timeout → lookup finds nothing
    row = reload(txn)
    assert row.status == "queued"
    # The stamp is the resend's, after the client's wait for the reset, not the first send's.
    assert row.last_post_at >= started + timedelta(seconds=1)
    deadline = settle_deadline(row.last_post_at, timeout=(CONNECT, READ), settle=SETTLE)
    assert first.value.countdown == pytest.approx(
        (deadline - datetime.now(UTC)).total_seconds(), abs=0.5
    )

    # A second process right away (the old code posted here: the first send was > settle ago).
    with pytest.raises(BookingRetry) as second:
        _book(slow_acme, txn)
    assert second.value.countdown > 0
    assert vouchers_with(tripletex_sandbox, row.external_voucher_number) == []

    _sleep_until(deadline)  # the held POST has landed meanwhile
    assert _book(slow_acme, txn) == "already-booked"
    found = vouchers_with(tripletex_sandbox, row.external_voucher_number)
    assert len(found) == 1
    assert reload(txn).tripletex_voucher_id == found[0]["id"]
    with scopes_disabled():
        attempts = list(BookingAttempt.objects.filter(transaction=txn).order_by("pk"))
    assert [a.posted for a in attempts] == [True, False, False]


@pytest.mark.django_db(transaction=True)
def test_a_process_that_lost_its_claim_stops_before_the_resend(
    slow_acme, tripletex_sandbox, monkeypatch
):
    """The claim is checked at every send: a resend after a 429 does not go out once another
    process has taken the row over."""
    txn = record(slow_acme)
    _queue(slow_acme, txn)
    tripletex_sandbox.faults.update({"limit_voucher_writes": 1, "limit_voucher_writes_reset": 1})
    original_wait = TripletexClient._retry_sleep

    def taken_over_while_waiting(self, delay, error) -> None:
        with scopes_disabled():
            Transaction.objects.filter(pk=txn.pk).update(claim_token="someone-else")
        original_wait(self, delay, error)

    monkeypatch.setattr(TripletexClient, "_retry_sleep", taken_over_while_waiting)
    assert _book(slow_acme, txn) == "lost-claim"
    assert vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number) == []


@pytest.mark.django_db(transaction=True)
def test_slow_reversal_is_never_sent_twice(slow_acme, tripletex_sandbox):
    txn = record(slow_acme)
    _queue(slow_acme, txn)
    assert _book(slow_acme, txn) == "booked"
    booked = reload(txn)
    before = _voucher_count(tripletex_sandbox)
    tripletex_sandbox.faults.update({"hold_voucher_writes": 1, "hold_voucher_writes_seconds": HOLD})
    with scope(company=slow_acme), pytest.raises(BookingStateError, match="may still arrive"):
        booking_reverse(company=slow_acme, txn=booked, on=timezone.localdate(), by=None)
    sent = reload(txn).reverse_sent_at
    assert sent is not None
    # A second click while the PUT may be in flight: refused, nothing sent.
    with scope(company=slow_acme), pytest.raises(BookingStateError, match="may still arrive"):
        booking_reverse(company=slow_acme, txn=reload(txn), on=timezone.localdate(), by=None)
    assert reload(txn).reverse_sent_at == sent
    _sleep_until(settle_deadline(sent, timeout=(CONNECT, READ), settle=SETTLE))
    # After the deadline the original voucher is looked at first: the held reversal landed.
    with scope(company=slow_acme):
        booking_reverse(company=slow_acme, txn=reload(txn), on=timezone.localdate(), by=None)
    row = reload(txn)
    assert row.status == "reversed"
    assert row.reverse_sent_at is None
    with scopes_disabled():
        assert Reversal.objects.filter(transaction=txn).count() == 1
    assert _voucher_count(tripletex_sandbox) == before + 1  # exactly one reversing voucher
    with scopes_disabled():
        recorded = Reversal.objects.get(transaction=txn).reversal_voucher_id
    assert (
        tripletex_sandbox.store.voucher_state(demo.HOLDING.company_id, booked.tripletex_voucher_id)[
            1
        ]
        == recorded
    )


def _voucher_count(server) -> int:
    return server.store.vouchers(demo.HOLDING.company_id, external_number=None, offset=0, limit=1)[
        0
    ]


# ---- the computation, at the HTTP seam -------------------------------------------------------


class _SpentBudget(MemoryRateLimiter):
    """The key's budget is spent for 60 s before the first call (another worker used it)."""

    def __init__(self, fake_time: FakeTime) -> None:
        super().__init__(clock=fake_time.time, sleep=fake_time.sleep)
        self.fake_time, self.spent = fake_time, True

    def before_call(self, key, *, sleep=None) -> float:
        if self.spent:
            self.spent = False
            self.fake_time.sleep(60.0)
            return 60.0
        return super().before_call(key, sleep=sleep)


def test_settle_deadline_counts_from_the_resend_after_the_limiters_wait_and_a_429(
    tripletex_api: FakeTripletex,
):
    fake_time = FakeTime(now=0.0)
    tripletex_api.add(
        "POST",
        "/ledger/voucher",
        status=429,
        headers={"X-Rate-Limit-Reset": "22"},
        json_body=error_body(429, 0, "Too many requests."),
    )
    tripletex_api.add("POST", "/ledger/voucher", body=requests.ReadTimeout("Tripletex is slow"))
    client = make_client(fake_time, limiter=_SpentBudget(fake_time), timeout=(10.0, 30.0))
    sends: list[float] = []
    with pytest.raises(TripletexOutcomeUnknown):
        client.voucher_create(_voucher_payload(), on_send=lambda: sends.append(fake_time.now))
    # Stamped after the limiter's 60 s, and again after the 429's 22 s: the last send is at +82.
    assert sends == [60.0, 82.0]
    assert len(tripletex_api.api_calls("POST")) == 2
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    last_send = start + timedelta(seconds=sends[-1])
    deadline = settle_deadline(last_send, timeout=client.timeout, settle=120.0)
    assert deadline == start + timedelta(seconds=82 + 10 + 30 + 120)


def test_a_send_callback_that_raises_stops_the_send(tripletex_api: FakeTripletex):
    class Stop(Exception):
        pass

    def stop() -> None:
        raise Stop

    with pytest.raises(Stop):
        make_client().voucher_create(_voucher_payload(), on_send=stop)
    assert tripletex_api.api_calls("POST") == []

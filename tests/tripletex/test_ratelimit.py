"""Rate limits: 429 with and without X-Rate-Limit-Reset, pre-emptive waits, shared budgets."""

from __future__ import annotations

import pytest

from tests.tripletex.fakes import FakeTime, FakeTripletex, error_body, make_client
from tripletex.client import RetryPolicy
from tripletex.errors import TripletexRateLimited
from tripletex.ratelimit import FileRateLimiter, MemoryRateLimiter

VOUCHER = {"value": {"id": 5}}


def _limited(reset: str | None = None) -> dict:
    headers = {"X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "0"}
    if reset is not None:
        headers["X-Rate-Limit-Reset"] = reset
    return {"status": 429, "json_body": error_body(429, 0), "headers": headers}


def test_429_with_reset_waits_that_long(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher/5", **_limited(reset="7"))
    tripletex_api.add("GET", "/ledger/voucher/5", json_body=VOUCHER)
    fake = FakeTime()
    client = make_client(fake)
    assert client.voucher_get(5).id == 5
    assert fake.sleeps == [7.0]
    assert (client.stats.rate_limit_waits, client.stats.waited_seconds) == (1, 7.0)


def test_429_without_reset_uses_the_reset_seen_just_before(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/voucher/4",
        json_body={"value": {"id": 4}},
        headers={"X-Rate-Limit-Remaining": "50", "X-Rate-Limit-Reset": "12"},
    )
    tripletex_api.add("GET", "/ledger/voucher/5", **_limited(reset=None))
    tripletex_api.add("GET", "/ledger/voucher/5", json_body=VOUCHER)
    fake = FakeTime()
    client = make_client(fake)
    client.voucher_get(4)
    fake.now += 2  # two seconds later the window has 10 s left
    assert client.voucher_get(5).id == 5
    assert fake.sleeps == [10.0]


def test_429_without_any_reset_backs_off_2_4_8(tripletex_api: FakeTripletex):
    for _ in range(3):
        tripletex_api.add("GET", "/ledger/voucher/5", **_limited(reset=None))
    tripletex_api.add("GET", "/ledger/voucher/5", json_body=VOUCHER)
    fake = FakeTime()
    client = make_client(fake, retry=RetryPolicy(jitter=0.0))
    assert client.voucher_get(5).id == 5
    assert fake.sleeps == [2.0, 4.0, 8.0]
    assert client.stats.rate_limit_waits == 3


def test_429_backoff_is_capped_and_jittered(tripletex_api: FakeTripletex):
    policy = RetryPolicy(jitter=0.25)
    delays = [policy.backoff(n, base=2.0, cap=60.0) for n in range(8)]
    assert all(2.0 * 2**n <= d <= min(60.0, 2.0 * 2**n) * 1.25 for n, d in enumerate(delays[:5]))
    assert all(60.0 <= d <= 75.0 for d in delays[5:])


def test_429_longer_than_the_budget_raises_with_retry_after(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher/5", **_limited(reset="600"))
    fake = FakeTime()
    with pytest.raises(TripletexRateLimited) as info:
        make_client(fake, retry=RetryPolicy(total_budget=60.0, jitter=0)).voucher_get(5)
    assert info.value.retry_after == 600.0
    assert fake.sleeps == []


def test_429_on_a_write_waits_and_sends_again(tripletex_api: FakeTripletex):
    # A 429 is refused before anything happens, so resending after the wait is not "blind".
    from datetime import date
    from decimal import Decimal

    from tripletex.schemas import PostingPayload, VoucherPayload

    tripletex_api.add("POST", "/ledger/voucher", **_limited(reset="3"))
    tripletex_api.add("POST", "/ledger/voucher", status=201, json_body={"value": {"id": 9}})
    payload = VoucherPayload(
        date=date(2025, 1, 31),
        description="x",
        external_voucher_number="APP-9",
        postings=(
            PostingPayload(row=1, account_id=1, amount_gross=Decimal("1.00")),
            PostingPayload(row=2, account_id=2, amount_gross=Decimal("-1.00")),
        ),
    )
    fake = FakeTime()
    assert make_client(fake).voucher_create(payload).id == 9
    assert fake.sleeps == [3.0]


def test_low_remaining_makes_the_next_call_wait_for_the_reset(tripletex_api: FakeTripletex):
    tripletex_api.add(
        "GET",
        "/ledger/voucher/4",
        json_body={"value": {"id": 4}},
        headers={"X-Rate-Limit-Remaining": "2", "X-Rate-Limit-Reset": "5"},
    )
    tripletex_api.add("GET", "/ledger/voucher/5", json_body=VOUCHER)
    fake = FakeTime()
    client = make_client(fake)
    client.voucher_get(4)
    client.voucher_get(5)
    assert fake.sleeps == [5.0]
    assert client.stats.rate_limit_waits == 1


def test_limiter_counts_its_own_calls_down_to_the_floor():
    fake = FakeTime()
    limiter = MemoryRateLimiter(floor=2, clock=fake.time, sleep=fake.sleep)
    limiter.after_response("k", 200, {"X-Rate-Limit-Remaining": "4", "X-Rate-Limit-Reset": "9"})
    assert [limiter.before_call("k") for _ in range(3)] == [0.0, 0.0, 9.0]
    assert limiter.before_call("other") == 0.0  # another token has its own budget


def test_limiter_max_wait_caps_a_long_window():
    fake = FakeTime()
    limiter = MemoryRateLimiter(max_wait=30.0, clock=fake.time, sleep=fake.sleep)
    limiter.after_response("k", 429, {"X-Rate-Limit-Reset": "3600"})
    assert limiter.before_call("k") == 30.0


def test_file_limiter_is_shared_between_instances(tmp_path):
    fake = FakeTime()
    one = FileRateLimiter(tmp_path, clock=fake.time, sleep=fake.sleep)
    two = FileRateLimiter(tmp_path, clock=fake.time, sleep=fake.sleep)
    one.after_response("k", 200, {"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "4"})
    assert two.reset_in("k") == 4.0
    assert two.before_call("k") == 4.0  # the fake sleep moves the clock past the reset
    assert fake.sleeps == [4.0]
    assert one.reset_in("k") is None
    assert one.before_call("k") == 0.0


def test_file_limiter_reads_a_torn_state_file_as_unknown_and_recovers(tmp_path):
    """The state is rewritten in place (no fsync): a file torn by a crash must not block calls."""
    fake = FakeTime()
    limiter = FileRateLimiter(tmp_path, clock=fake.time, sleep=fake.sleep)
    limiter.after_response("k", 200, {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "9"})
    (tmp_path / "k.json").write_bytes(b'{"limit": 100, "remai')
    assert limiter.reset_in("k") is None
    assert limiter.before_call("k") == 0.0
    limiter.after_response("k", 200, {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "5"})
    assert limiter.before_call("k") == 5.0

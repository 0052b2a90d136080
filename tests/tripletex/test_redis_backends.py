"""Redis session cache and rate limiter against the real Redis at REDIS_URL."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
from cryptography.fernet import Fernet, MultiFernet

from tests.requirements import missing
from tests.tripletex.fakes import FakeTime, FakeTripletex, make_client
from tripletex.ratelimit import RedisRateLimiter
from tripletex.session import RedisSessionCache

pytestmark = pytest.mark.needs_redis
WHOAMI = {"value": {"employeeId": 1, "companyId": 2}}


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing(
            "redis", "REDIS_URL is not set: the Redis session cache/limiter tests need a real Redis"
        )
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing("redis", f"Redis at REDIS_URL does not answer ({type(exc).__name__})")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    value = f"test-tripletex:{uuid.uuid4().hex}:"
    yield value
    for key in redis_client.scan_iter(match=value + "*"):
        redis_client.delete(key)


@pytest.fixture
def fernet() -> MultiFernet:
    return MultiFernet([Fernet(Fernet.generate_key())])


def test_redis_session_cache_encrypts_and_expires(redis_client, prefix, fernet):
    cache = RedisSessionCache(redis_client, fernet, prefix=prefix)
    cache.set("k", "secretSESSIONvalue", ttl=30)
    raw = redis_client.get(prefix + "k")
    assert raw is not None
    assert b"secretSESSIONvalue" not in raw
    assert 0 < redis_client.ttl(prefix + "k") <= 30
    assert cache.get("k") == "secretSESSIONvalue"
    other_keys = RedisSessionCache(redis_client, MultiFernet([Fernet(Fernet.generate_key())]))
    other_keys._prefix = prefix
    assert other_keys.get("k") is None
    cache.delete("k")
    assert cache.get("k") is None


def test_redis_session_lock_is_exclusive(redis_client, prefix, fernet):
    one = RedisSessionCache(redis_client, fernet, prefix=prefix, lock_timeout=5)
    two = RedisSessionCache(redis_client, fernet, prefix=prefix, lock_timeout=5)
    order: list[str] = []
    started = threading.Event()

    def other():
        started.set()
        with two.lock("k"):
            order.append("two")

    with one.lock("k"):
        thread = threading.Thread(target=other)
        thread.start()
        started.wait(1)
        threading.Event().wait(0.2)
        order.append("one")
    thread.join(timeout=10)
    assert order == ["one", "two"]


def test_two_clients_share_session_and_budget_through_redis(
    tripletex_api: FakeTripletex, redis_client, prefix, fernet
):
    tripletex_api.add(
        "GET",
        "/token/session/>whoAmI",
        json_body=WHOAMI,
        headers={"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "6"},
    )
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    fake = FakeTime()

    def client():
        return make_client(
            fake,
            sessions=RedisSessionCache(redis_client, fernet, prefix=prefix + "s:"),
            limiter=RedisRateLimiter(
                redis_client, prefix=prefix + "r:", clock=fake.time, sleep=fake.sleep
            ),
        )

    first, second = client(), client()  # as if in two worker processes
    first.who_am_i()
    second.for_company(555).who_am_i()
    assert tripletex_api.sessions_created == 1
    assert fake.sleeps == [6.0]
    assert second.stats.rate_limit_waits == 1


def test_redis_limiter_counts_down_and_remembers_reset(redis_client, prefix):
    fake = FakeTime()
    limiter = RedisRateLimiter(redis_client, prefix=prefix, floor=1, clock=fake.time)
    limiter.after_response("k", 200, {"X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Reset": "8"})
    assert limiter.before_call("k", sleep=fake.sleep) == 0.0
    assert limiter.before_call("k", sleep=fake.sleep) == 0.0
    assert limiter.reset_in("k") == 8.0
    assert limiter.before_call("k", sleep=fake.sleep) == 8.0
    limiter.after_response("k", 429, {})
    assert limiter.reset_in("k") is None  # the window we knew of is over; no new reset was sent

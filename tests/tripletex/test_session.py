"""Sessions: creation, expiry renewal, 401 renewal under concurrency, and the caches."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from cryptography.fernet import Fernet, MultiFernet

from tests.tripletex import fakes
from tests.tripletex.fakes import (
    BASE,
    CONSUMER_TOKEN,
    CREATE_URL,
    EMPLOYEE_TOKEN,
    FakeTime,
    FakeTripletex,
    basic_password,
    error_body,
    make_client,
    query,
)
from tripletex.client import RetryPolicy
from tripletex.errors import (
    TripletexAuthError,
    TripletexRateLimited,
    TripletexUnavailable,
    TripletexValidationError,
)
from tripletex.ratelimit import MemoryRateLimiter
from tripletex.session import (
    OSLO,
    FileSessionCache,
    MemorySessionCache,
    Session,
    SessionManager,
    token_key,
)

WHOAMI = {"value": {"employeeId": 1, "companyId": 2}}


def _manager(cache, clock=None) -> SessionManager:
    kwargs = {"clock": clock} if clock else {}
    return SessionManager(
        base_url=BASE,
        consumer_token=CONSUMER_TOKEN,
        employee_token=EMPLOYEE_TOKEN,
        cache=cache,
        http=requests.Session(),
        timeout=(1.0, 1.0),
        **kwargs,
    )


def test_session_expires_24h_before_oslo_midnight_of_expiration_date():
    session = Session(token="t", expiration_date=date(2025, 6, 10))
    # Summer time: midnight in Oslo is 22:00 UTC the day before.
    assert session.expires_at == datetime(2025, 6, 9, 22, 0, tzinfo=UTC)
    assert session.renew_at == datetime(2025, 6, 8, 22, 0, tzinfo=UTC)
    assert session.is_fresh(datetime(2025, 6, 8, 21, 59, tzinfo=UTC))
    assert not session.is_fresh(datetime(2025, 6, 8, 22, 0, tzinfo=UTC))
    assert "t'" not in repr(session)


def test_create_asks_for_oslo_today_plus_7_days(tripletex_api: FakeTripletex):
    # 23:30 UTC on 31 Dec is already 1 Jan in Oslo.
    clock = lambda: datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # noqa: E731
    session = _manager(MemorySessionCache(), clock).current()
    (call,) = tripletex_api.mock.calls
    params = query(call)
    assert params["expirationDate"] == "2026-01-08"
    assert (params["consumerToken"], params["employeeToken"]) == (CONSUMER_TOKEN, EMPLOYEE_TOKEN)
    assert "Authorization" not in call.request.headers
    assert session.expiration_date == date(2026, 1, 8)


def test_cache_key_is_a_hash_not_the_token():
    key = token_key(BASE, EMPLOYEE_TOKEN)
    assert EMPLOYEE_TOKEN not in key
    assert len(key) == 64
    assert key != token_key("https://other.test/v2", EMPLOYEE_TOKEN)


def test_session_is_renewed_when_it_reaches_its_renewal_time(tripletex_api: FakeTripletex):
    cache = MemorySessionCache()
    now = datetime.now(OSLO)
    # Expires at the coming midnight: inside the 24 h margin, so it must not be used.
    stale = Session(token="staleSESSION", expiration_date=now.date() + timedelta(days=1))
    manager_key = token_key(BASE, EMPLOYEE_TOKEN)
    cache.set(manager_key, stale.dumps(), ttl=3600)
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    make_client(sessions=cache).who_am_i()
    assert tripletex_api.sessions_created == 1
    (call,) = tripletex_api.api_calls()
    assert basic_password(call) == tripletex_api.session_tokens[0]


def test_fresh_cached_session_is_reused(tripletex_api: FakeTripletex):
    cache = MemorySessionCache()
    fresh = Session(
        token="freshSESSION", expiration_date=datetime.now(OSLO).date() + timedelta(days=5)
    )
    cache.set(token_key(BASE, EMPLOYEE_TOKEN), fresh.dumps(), ttl=3600)
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    make_client(sessions=cache).who_am_i()
    assert tripletex_api.sessions_created == 0
    assert basic_password(tripletex_api.api_calls()[0]) == "freshSESSION"


def test_401_renews_once_and_retries(tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/ledger/voucher/5", status=401, json_body=error_body(401, 3000))
    tripletex_api.add("GET", "/ledger/voucher/5", json_body={"value": {"id": 5}})
    client = make_client()
    assert client.voucher_get(5).id == 5
    assert tripletex_api.sessions_created == 2
    first, second = tripletex_api.api_calls()
    assert (basic_password(first), basic_password(second)) == tuple(tripletex_api.session_tokens)


def test_concurrent_401s_renew_the_session_only_once(tripletex_api: FakeTripletex):
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    first_token = fakes.SESSION_PREFIX + "1"

    def answer(request):
        token = fakes.basic_password(type("Call", (), {"request": request})())
        if token == first_token:
            return 401, {}, '{"status": 401, "code": 3000}'
        return 200, {}, '{"value": {"employeeId": 1, "companyId": 2}}'

    tripletex_api.add_callback("GET", "/token/session/>whoAmI", answer)
    client = make_client()
    client._shared.sessions.current()  # everyone starts with session 1
    errors: list[BaseException] = []

    def worker():
        barrier.wait(timeout=5)
        try:
            client.for_company(0).who_am_i()
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert tripletex_api.sessions_created == 2  # the original plus exactly one renewal
    assert len(tripletex_api.api_calls()) >= threads_count


@pytest.mark.parametrize(
    ("field", "words"), [("arg:employeeToken", "API key"), ("arg:consumerToken", "consumer token")]
)
def test_refused_session_creation_is_auth_error(tripletex_api: FakeTripletex, field, words):
    tripletex_api.mock.replace(
        "PUT",
        CREATE_URL,
        status=422,
        json=error_body(422, 18000, validationMessages=[{"field": field, "message": "Ugyldig"}]),
    )
    with pytest.raises(TripletexAuthError) as info:
        make_client().who_am_i()
    assert words in info.value.message
    assert info.value.validation_messages[0].field == field
    assert EMPLOYEE_TOKEN not in str(info.value)
    assert CONSUMER_TOKEN not in str(info.value)


def test_session_creation_401_is_auth_error(tripletex_api: FakeTripletex):
    tripletex_api.mock.replace("PUT", CREATE_URL, status=401, json=error_body(401, 3000))
    with pytest.raises(TripletexAuthError):
        make_client().who_am_i()


def test_session_creation_network_error_hides_tokens(tripletex_api: FakeTripletex):
    exc = requests.ConnectionError(
        f"Max retries exceeded with url: /v2/token/session/:create?consumerToken={CONSUMER_TOKEN}"
        f"&employeeToken={EMPLOYEE_TOKEN}&expirationDate=2025-01-08"
    )
    tripletex_api.mock.replace("PUT", CREATE_URL, body=exc)
    with pytest.raises(TripletexUnavailable) as info:
        make_client().who_am_i()
    assert EMPLOYEE_TOKEN not in str(info.value)
    assert CONSUMER_TOKEN not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_file_cache_is_shared_between_instances_and_encrypted(tmp_path):
    fernet = MultiFernet([Fernet(Fernet.generate_key())])
    one = FileSessionCache(tmp_path, fernet)
    two = FileSessionCache(tmp_path, fernet)
    one.set("k", "secretSESSIONvalue", ttl=60)
    assert two.get("k") == "secretSESSIONvalue"
    for path in tmp_path.iterdir():
        assert b"secretSESSIONvalue" not in path.read_bytes()
    two.delete("k")
    assert one.get("k") is None


def test_file_cache_expires_and_ignores_foreign_keys(tmp_path):
    now = [1000.0]
    cache = FileSessionCache(tmp_path, MultiFernet([Fernet(Fernet.generate_key())]), lambda: now[0])
    cache.set("k", "v", ttl=10)
    now[0] += 11
    assert cache.get("k") is None
    other = FileSessionCache(tmp_path, MultiFernet([Fernet(Fernet.generate_key())]))
    cache.set("k", "v", ttl=10)
    assert other.get("k") is None  # written with a key it does not hold: a miss, not a crash


def test_file_cache_lock_excludes_other_instances(tmp_path):
    fernet = MultiFernet([Fernet(Fernet.generate_key())])
    one, two = FileSessionCache(tmp_path, fernet), FileSessionCache(tmp_path, fernet)
    order: list[str] = []
    entered = threading.Event()

    def other():
        with two.lock("k"):
            order.append("two")

    with one.lock("k"):
        thread = threading.Thread(target=other)
        thread.start()
        entered.wait(0.2)  # give the other thread time to block on the lock
        order.append("one")
    thread.join(timeout=5)
    assert order == ["one", "two"]


def test_two_clients_on_one_file_cache_share_the_session(tripletex_api: FakeTripletex, tmp_path):
    fernet = MultiFernet([Fernet(Fernet.generate_key())])
    for _ in range(2):
        tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    make_client(sessions=FileSessionCache(tmp_path, fernet)).who_am_i()
    make_client(sessions=FileSessionCache(tmp_path, fernet)).who_am_i()
    assert tripletex_api.sessions_created == 1


@pytest.mark.parametrize(
    ("base_url", "consumer", "employee"),
    [
        ("https://tripletex.no/v2", "prodconsumer", "test-employee"),
        ("https://tripletex.no/v2", "test-consumer", "prodemployee"),
        ("https://api-test.tripletex.tech/v2", "test-consumer", "prodemployee"),
        ("https://api.tripletex.io/v2", "prodconsumer", "test-employee"),
    ],
)
def test_tokens_from_the_other_environment_are_never_sent(base_url, consumer, employee):
    import responses

    manager = SessionManager(
        base_url=base_url,
        consumer_token=consumer,
        employee_token=employee,
        cache=MemorySessionCache(),
        http=requests.Session(),
        timeout=(1.0, 1.0),
    )
    with responses.RequestsMock() as mock, pytest.raises(TripletexAuthError, match="Refused"):
        manager.current()
    assert len(mock.calls) == 0


def test_matching_environment_tokens_are_accepted():
    import responses

    manager = SessionManager(
        base_url="https://api-test.tripletex.tech/v2",
        consumer_token="test-consumer",
        employee_token="test-employee",
        cache=MemorySessionCache(),
        http=requests.Session(),
        timeout=(1.0, 1.0),
    )
    with responses.RequestsMock() as mock:
        mock.put(
            "https://api-test.tripletex.tech/v2/token/session/:create",
            json={"value": {"token": "abc", "expirationDate": "2999-01-01"}},
        )
        assert manager.current().token == "abc"


# ---- session creation is retried like a read ----------------------------------------------------

KEY = token_key(BASE, EMPLOYEE_TOKEN)


def _who_am_i_after_creation(tripletex_api: FakeTripletex, fake: FakeTime, **kwargs) -> None:
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    make_client(fake, **kwargs).who_am_i()
    assert tripletex_api.sessions_created == 1
    (call,) = tripletex_api.api_calls()
    assert basic_password(call) == tripletex_api.session_tokens[0]


def test_session_creation_429_waits_for_its_reset_then_succeeds(tripletex_api: FakeTripletex):
    fake = FakeTime()
    tripletex_api.fail_session_creates((429, {"X-Rate-Limit-Reset": "7"}))
    _who_am_i_after_creation(tripletex_api, fake)
    assert len(tripletex_api.create_calls()) == 2
    assert fake.sleeps == [7.0]


def test_session_creation_429_without_reset_backs_off_then_succeeds(tripletex_api: FakeTripletex):
    fake = FakeTime()
    tripletex_api.fail_session_creates(429)
    _who_am_i_after_creation(tripletex_api, fake)
    assert len(tripletex_api.create_calls()) == 2
    assert fake.sleeps == [RetryPolicy().rate_limit_base_delay]


def test_session_creation_429_without_reset_waits_for_the_reset_the_limiter_knows(
    tripletex_api: FakeTripletex,
):
    fake = FakeTime()
    limiter = MemoryRateLimiter(clock=fake.time, sleep=fake.sleep)
    # An earlier answer to another caller of this key said the window ends in 12 s.
    limiter.after_response(KEY, 200, {"X-Rate-Limit-Remaining": "40", "X-Rate-Limit-Reset": "12"})
    tripletex_api.fail_session_creates(429)
    _who_am_i_after_creation(tripletex_api, fake, limiter=limiter)
    assert fake.sleeps == [12.0]


def test_session_creation_429_past_the_time_budget_gives_up_at_once_and_tells_the_limiter(
    tripletex_api: FakeTripletex,
):
    fake = FakeTime()
    limiter = MemoryRateLimiter(clock=fake.time, sleep=fake.sleep)
    tripletex_api.fail_session_creates((429, {"X-Rate-Limit-Reset": "600"}))
    with pytest.raises(TripletexRateLimited) as info:
        make_client(fake, limiter=limiter).who_am_i()
    assert info.value.attempts == 1
    assert "attempts" not in str(info.value)  # one try is not "several"
    assert fake.sleeps == []
    # Every other caller of this key now waits for the window instead of walking into it.
    assert limiter.reset_in(KEY) == 600.0
    assert limiter.before_call(KEY) == limiter.max_wait


def test_session_creation_500_is_retried_then_succeeds(tripletex_api: FakeTripletex):
    fake = FakeTime()
    tripletex_api.fail_session_creates(500)
    _who_am_i_after_creation(tripletex_api, fake)
    assert len(tripletex_api.create_calls()) == 2
    assert fake.sleeps == [RetryPolicy().base_delay]


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("Connection reset by peer"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
    ],
    ids=["connection-error", "connect-timeout", "read-timeout"],
)
def test_session_creation_network_error_is_retried_then_succeeds(
    tripletex_api: FakeTripletex, failure
):
    fake = FakeTime()
    tripletex_api.fail_session_creates(failure)
    _who_am_i_after_creation(tripletex_api, fake)
    assert len(tripletex_api.create_calls()) == 2
    assert fake.sleeps == [RetryPolicy().base_delay]


def test_persistent_5xx_on_session_creation_gives_up_after_the_policys_attempts(
    tripletex_api: FakeTripletex,
):
    fake = FakeTime()
    policy = RetryPolicy(jitter=0.0)
    tripletex_api.fail_session_creates(*[503] * 10)
    with pytest.raises(TripletexUnavailable) as info:
        make_client(fake, retry=policy).who_am_i()
    assert policy.max_attempts > 1
    assert info.value.attempts == policy.max_attempts
    assert len(tripletex_api.create_calls()) == policy.max_attempts
    assert f"failed after {policy.max_attempts} attempts" in str(info.value)
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert tripletex_api.api_calls() == []


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(401, TripletexAuthError), (403, TripletexAuthError), (400, TripletexValidationError)],
)
def test_refused_session_creation_is_not_retried(tripletex_api: FakeTripletex, status, error_class):
    fake = FakeTime()
    tripletex_api.fail_session_creates(status)  # a retry would succeed: the test would see it
    with pytest.raises(error_class):
        make_client(fake).who_am_i()
    assert len(tripletex_api.create_calls()) == 1
    assert fake.sleeps == []


def test_retry_waits_outside_the_lock_and_takes_a_session_made_meanwhile(
    tripletex_api: FakeTripletex,
):
    cache = MemorySessionCache()
    elsewhere = Session(
        token="elsewhereSESSION", expiration_date=datetime.now(OSLO).date() + timedelta(days=5)
    )

    class OtherProcessMeanwhile(FakeTime):
        def sleep(self, seconds: float) -> None:
            lock = cache.lock(KEY)
            assert lock.acquire(blocking=False), "the lock must be free while the retry waits"
            try:
                cache.set(KEY, elsewhere.dumps(), ttl=3600)
            finally:
                lock.release()
            super().sleep(seconds)

    tripletex_api.fail_session_creates(503)
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    make_client(OtherProcessMeanwhile(), sessions=cache).who_am_i()
    assert len(tripletex_api.create_calls()) == 1
    assert basic_password(tripletex_api.api_calls()[0]) == "elsewhereSESSION"


def test_renewal_after_a_401_retries_a_failed_session_creation(tripletex_api: FakeTripletex):
    fake = FakeTime()
    answers = iter(
        [
            (401, {}, json.dumps(error_body(401, 3000))),
            (200, {}, json.dumps({"value": {"id": 5}})),
        ]
    )

    def answer(request):
        status, headers, body = next(answers)
        if status == 401:
            tripletex_api.fail_session_creates(502)  # the renewal's first try fails
        return status, headers, body

    tripletex_api.add_callback("GET", "/ledger/voucher/5", answer)
    assert make_client(fake).voucher_get(5).id == 5
    assert tripletex_api.sessions_created == 2
    assert len(tripletex_api.create_calls()) == 3
    assert fake.sleeps == [RetryPolicy().base_delay]

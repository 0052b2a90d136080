"""make_client/drop_sessions build clients from settings (file backends when REDIS_URL is empty)."""

from __future__ import annotations

import pytest
import responses

from tests.tripletex import fakes
from tests.tripletex.fakes import BASE, EMPLOYEE_TOKEN, FakeTripletex, basic_user
from tripletex import factory
from tripletex.ratelimit import FileRateLimiter
from tripletex.session import FileSessionCache

WHOAMI = {"value": {"employeeId": 1, "companyId": 2}}


@pytest.fixture
def file_settings(settings, private_var_dir):
    settings.REDIS_URL = ""
    settings.TRIPLETEX_BASE_URL = BASE
    settings.TRIPLETEX_CONSUMER_TOKEN = fakes.CONSUMER_TOKEN
    settings.TRIPLETEX_CONNECT_TIMEOUT = 4
    settings.TRIPLETEX_READ_TIMEOUT = 40
    return settings


def test_make_client_uses_settings_and_file_backends(file_settings, tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    client = factory.make_client(employee_token=EMPLOYEE_TOKEN, company_id=555)
    shared = client._shared
    assert isinstance(shared.sessions.cache, FileSessionCache)
    assert isinstance(shared.limiter, FileRateLimiter)
    assert shared.timeout == (4.0, 40.0)
    client.who_am_i()
    assert basic_user(tripletex_api.api_calls()[0]) == "555"
    session_files = list((file_settings.VAR_DIR / "tripletex" / "sessions").glob("*.session"))
    assert len(session_files) == 1
    assert EMPLOYEE_TOKEN not in session_files[0].name
    assert fakes.SESSION_PREFIX.encode() not in session_files[0].read_bytes()


def test_clients_from_the_factory_share_sessions(file_settings, tripletex_api: FakeTripletex):
    for _ in range(2):
        tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    factory.make_client(employee_token=EMPLOYEE_TOKEN).who_am_i()
    factory.make_client(employee_token=EMPLOYEE_TOKEN, company_id=7).who_am_i()
    assert tripletex_api.sessions_created == 1


def test_drop_sessions_revokes_and_forgets(file_settings, tripletex_api: FakeTripletex):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    factory.make_client(employee_token=EMPLOYEE_TOKEN).who_am_i()
    token = tripletex_api.session_tokens[0]
    tripletex_api.mock.add(responses.DELETE, f"{BASE}/token/session/{token}", status=204)
    factory.drop_sessions(EMPLOYEE_TOKEN)
    assert len(tripletex_api.api_calls("DELETE")) == 1
    factory.make_client(employee_token=EMPLOYEE_TOKEN).who_am_i()
    assert tripletex_api.sessions_created == 2


def test_drop_sessions_is_best_effort(file_settings, tripletex_api: FakeTripletex, caplog):
    tripletex_api.add("GET", "/token/session/>whoAmI", json_body=WHOAMI)
    factory.make_client(employee_token=EMPLOYEE_TOKEN).who_am_i()
    token = tripletex_api.session_tokens[0]
    tripletex_api.mock.add(responses.DELETE, f"{BASE}/token/session/{token}", status=500, json={})
    factory.drop_sessions(EMPLOYEE_TOKEN)  # no exception
    assert "Could not revoke" in caplog.text
    assert token not in caplog.text

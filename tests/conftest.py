"""Fixtures for every test package; each package's own live in its conftest.py.

* A two-company world (Acme and Bergen) with a user in every role: alice is admin in Acme, fiona
  is finance in Acme, anders is accountant in Acme, bob is admin in Bergen.
* `tripletex_sandbox`: a fresh Tripletex sandbox on 127.0.0.1 (own SQLite file) with the app
  pointed at it, in this process (settings) and in worker processes a test starts (environment).
  tests/sandbox/conftest.py adds the session-wide read-only one.
* `tripletex_api`: a faked Tripletex (`responses`) for unit tests; helpers in tests/tripletex/fakes.py.
* `browser` and `page`: Debian's Chromium through Playwright on the live server (tests/browser.py).
* `client` (logins pass two-step login, tests/mfa.py), `local_cache`, `private_var_dir`,
  `openapi_spec`, `tripletex_waits_recorded`.

Fixtures are found by name, never imported: tests/test_fixture_names.py keeps every name defined
once and only in conftest.py files or the one test module that uses it.
"""

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from django.db import connections
from django.utils import translation

from companies.models import Company, Role, User
from companies.services import company_create, membership_set
from tests import openapi_contract
from tests.browser import CHROMIUM, CHROMIUM_ARGS, save_screenshot
from tests.mfa import MfaClient
from tests.requirements import missing
from tests.sandbox.support import point_app_at
from tests.tripletex.fakes import FakeTripletex
from tripletex import factory
from tripletex.client import TripletexClient
from tripletex.sandbox import SandboxServer, Store

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Code a test calls directly runs in English, so tests can check what messages say; pages
    still get bokmål through LocaleMiddleware (the default a user sees)."""
    with translation.override("en"):
        yield


@pytest.fixture
def client() -> MfaClient:
    """pytest-django's test client, whose force_login()/login() also pass two-step login for users
    who have or need it (tests/mfa.py); force_login(user, mfa=False) stops after the password."""
    return MfaClient()


def make_user(email: str, **extra: object) -> User:
    """A user with the shared test password."""
    return User.objects.create_user(email=email, password=PASSWORD, **extra)


@pytest.fixture
def acme(db) -> Company:
    return company_create(org_number="923609016", name="Acme Holding AS")


@pytest.fixture
def bergen(db) -> Company:
    return company_create(org_number="987533269", name="Bergen Invest AS")


@pytest.fixture
def alice(acme) -> User:
    user = make_user("alice@acme.no", first_name="Alice")
    membership_set(company=acme, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def fiona(acme) -> User:
    user = make_user("fiona@acme.no", first_name="Fiona")
    membership_set(company=acme, user=user, role=Role.FINANCE)
    return user


@pytest.fixture
def anders(acme) -> User:
    user = make_user("anders@acme.no", first_name="Anders")
    membership_set(company=acme, user=user, role=Role.ACCOUNTANT)
    return user


@pytest.fixture
def bob(bergen) -> User:
    user = make_user("bob@bergen.no", first_name="Bob")
    membership_set(company=bergen, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def staff(db) -> User:
    return make_user("staff@dynamik.no", is_staff=True, is_superuser=True)


@pytest.fixture
def members_by_role(acme, alice, fiona, anders) -> dict[str, User]:
    """One Acme member per role."""
    return {Role.ADMIN: alice, Role.FINANCE: fiona, Role.ACCOUNTANT: anders}


@pytest.fixture
def tripletex_waits_recorded(monkeypatch) -> list[float]:
    """Clients the app builds (tripletex.factory) record their retry waits instead of sleeping:
    for tests of a Tripletex that is down, where every retry would otherwise really wait."""
    waits: list[float] = []
    client = functools.partial(TripletexClient, sleep=waits.append)
    monkeypatch.setattr(factory, "TripletexClient", client)
    return waits


# ---- the Tripletex sandbox and the faked Tripletex ----------------------------------------------


@pytest.fixture(scope="session")
def _sandbox_template(tmp_path_factory) -> Path:
    """A seeded database file, copied for each fresh sandbox (seeding costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("sandbox-template") / "template.sqlite3"
    Store(path).close()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture
def tripletex_sandbox(
    tmp_path, _sandbox_template: Path, settings, monkeypatch
) -> Iterator[SandboxServer]:
    """A fresh sandbox on an ephemeral port with its own database, and the app pointed at it."""
    db = tmp_path / "sandbox.sqlite3"
    shutil.copyfile(_sandbox_template, db)
    server = SandboxServer(db, host="127.0.0.1", port=0).start()
    point_app_at(server, settings, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def tripletex_api() -> Iterator[FakeTripletex]:
    """A faked Tripletex at tests.tripletex.fakes.BASE with session creation answered."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeTripletex(mock)


@pytest.fixture(scope="session")
def openapi_spec() -> dict[str, Any]:
    """Tripletex's OpenAPI spec, parsed once; skips (fails with REQUIRE_SPEC=1) when it is absent."""
    return openapi_contract.load_spec()


# ---- this test's own settings ---------------------------------------------------------------------


@pytest.fixture
def local_cache(settings) -> None:
    """A private in-memory cache: cached pages, charts and drill-downs do not leak between tests
    (and nothing flushes the Redis database the run shares)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def private_var_dir(settings, tmp_path) -> Path:
    """settings.VAR_DIR is a fresh folder (tmp_path/var, beside a sandbox's database in tmp_path):
    the Tripletex session and rate-limit files the app keeps there (without Redis) are this test's.

    Not for tests that start a worker on the filesystem broker: its folder stays where settings
    put it at import."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    settings.VAR_DIR = var_dir
    return var_dir


# ---- a real browser -------------------------------------------------------------------------------


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test.

    From its first call until it stops, Playwright's sync API marks its event loop as running in
    this thread. Django then refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and keeps
    the thread's database connections apart from the ones it uses without a loop. Starting
    Playwright per test keeps all of that to the browser tests; a session-wide one would leave it
    on for every test after the first browser test.
    """
    if not CHROMIUM.exists():
        missing("browser", f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # Connections opened while the loop ran are invisible once it stops: close them now.
        connections.close_all()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context on the live server, Norwegian locale; a screenshot is kept on failure."""
    context = browser.new_context(
        base_url=live_server.url, locale="nb-NO", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()


# ---- hooks ----------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_sessionfinish(session, exitstatus):
    """With REQUIRE_NO_SKIPS=1 (CI) a run with any skipped test fails: nothing skips silently."""
    if os.environ.get("REQUIRE_NO_SKIPS") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"REQUIRE_NO_SKIPS=1: {skipped} test(s) skipped; failing the run.")
        session.exitstatus = 1

"""Shared fixtures: a two-company world (Acme and Bergen) with a user in every role.

alice is admin in Acme, fiona is finance in Acme, anders is accountant in Acme, bob is admin in Bergen.
The sandbox fixtures live in tests/sandbox_fixtures.py.
"""

import functools
import os

import pytest
from django.utils import translation

from companies.models import Company, Role, User
from companies.services import company_create, membership_set
from tripletex import factory
from tests.mfa import MfaClient
from tripletex.client import TripletexClient

pytest_plugins = ["tests.sandbox_fixtures", "tests.browser"]

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

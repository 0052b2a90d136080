"""Fixtures for the ledger tests (helpers they share are in tests/ledger/support.py).

* `holding`: Acme connected (own key, marked connected) to a fresh sandbox's holding company.
* `sandbox_acme`: Acme with the holding company's key for booking, with no settle wait.
* `pnl_company`: Acme with the hand-computed P&L months of tests/ledger/figures_data.py.
* `july_sandbox`: a sandbox seeded up to tests/ledger/test_fiscal_year_july.py's TODAY, whose
  July–June firm that module and the postings strategy's tests sync.
* `sync_sent`: what the sync task was sent with (its kwargs, queue and countdown), not sent.
"""

from collections.abc import Iterator

import pytest
from celery import current_app
from django_scopes import scope

from companies.credentials import connection_set_own_key
from companies.models import Company
from ledger import queue
from tests.ledger.figures_data import PNL_CHANGES, PNL_NAMES, seed_changes
from tests.ledger.support import connect
from tests.sandbox.support import point_app_at
from tripletex.client import TripletexClient
from tripletex.sandbox import SandboxServer, Store, demo


@pytest.fixture
def holding(acme, tripletex_sandbox) -> Company:
    """Acme, connected to the sandbox's holding company; worker subprocesses find the sandbox
    through the environment tripletex_sandbox sets."""
    return connect(acme)


@pytest.fixture
def sandbox_acme(acme, tripletex_sandbox, settings, local_cache, monkeypatch) -> Company:
    """Acme connected to a fresh sandbox's holding company; no settle wait unless a test sets one.

    The settle deadline is the last send + the client's connect and read timeouts + the settle
    margin. Here the margin is 0 and booking counts the in-flight time as 0 (the client's real
    HTTP timeouts are unchanged), so a retry may follow at once; tests/ledger/test_booking_slow.py
    runs the real deadline."""
    settings.TRIPLETEX_READ_TIMEOUT = 10
    settings.BOOKING_SETTLE_SECONDS = 0
    settings.BOOKING_STUCK_SECONDS = 600
    monkeypatch.setattr(TripletexClient, "timeout", property(lambda self: (0.0, 0.0)))
    connection_set_own_key(company=acme, token=demo.HOLDING_TOKEN, by=None)
    return acme


@pytest.fixture
def operating_acme(acme, tripletex_sandbox) -> Company:
    """Acme connected to the sandbox's operating company (budgets, departments, projects)."""
    return connect(acme, demo.OPERATING_TOKEN)


@pytest.fixture
def pnl_company(acme) -> Company:
    with scope(company=acme):
        seed_changes(acme, PNL_CHANGES, names=PNL_NAMES)
    return acme


@pytest.fixture
def july_sandbox(tmp_path, settings, monkeypatch) -> Iterator[SandboxServer]:
    """A sandbox seeded up to the July firm's TODAY, with the app pointed at it."""
    from tests.ledger.test_fiscal_year_july import TODAY

    db = tmp_path / "july.sqlite3"
    Store(db, today=TODAY).close()
    server = SandboxServer(db, host="127.0.0.1", port=0).start()
    server.store.today_override = TODAY
    point_app_at(server, settings, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def sync_sent(monkeypatch) -> list[dict]:
    """What the sync task was sent with, instead of sending it: {"kwargs": …, "queue": …, …}."""
    calls: list[dict] = []
    task = current_app.tasks[queue.SYNC_RUN]

    def apply_async(args=None, kwargs=None, **options):
        calls.append({"kwargs": kwargs, **options})

    monkeypatch.setattr(task, "apply_async", apply_async)
    monkeypatch.setattr(task, "delay", lambda **kwargs: apply_async(kwargs=kwargs))
    return calls

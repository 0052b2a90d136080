"""The firm keeps an administrator even when two of them step down at the same moment.

Two threads, each with its own PostgreSQL connection (Django gives every thread its own), act on
the company's two administrators at once. A barrier in the audit step (after the rule was checked,
before the transaction commits) holds each thread until the other has read too, which is the
interleaving that left a firm without an administrator in 11 of 15 rounds of the attack run. With
the admins' rows locked, the second thread waits for the first one's commit instead, the barrier
gives up after a moment, and the second thread sees one administrator left and is refused.
"""

import contextlib
import threading

import pytest
from django.db import connection, connections

from companies import services
from companies.models import Membership, Role
from companies.services import MemberError, member_remove, member_role_change, membership_set
from tests.conftest import make_user

pytestmark = [pytest.mark.needs_postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 3
BARRIER_SECONDS = 1.5


def _race(monkeypatch, actions) -> list[BaseException | None]:
    """Run the actions in two threads at once; each waits for the other at the audit step."""
    barrier = threading.Barrier(len(actions))
    audit = services.audit_record

    def audit_after_both_read(**kwargs):
        # Broken: the other thread is waiting for a row lock, so it has not read yet.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=BARRIER_SECONDS)
        return audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", audit_after_both_read)
    outcomes: list[BaseException | None] = [None] * len(actions)

    def run(index, action):
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def two_admins(acme, alice):
    if connection.vendor != "postgresql":
        pytest.skip("races real database connections: needs PostgreSQL")
    carl = make_user("carl@acme.no")
    membership_set(company=acme, user=carl, role=Role.ADMIN)
    return [Membership.objects.get(company=acme, user=u) for u in (alice, carl)]


def _admins(company) -> int:
    return Membership.objects.filter(company=company, role=Role.ADMIN).count()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_admins_demoting_each_other_leave_one(monkeypatch, acme, alice, two_admins, round_):
    first, second = two_admins
    outcomes = _race(
        monkeypatch,
        [
            lambda: member_role_change(company=acme, membership=first, role="finance", by=alice),
            lambda: member_role_change(company=acme, membership=second, role="finance", by=alice),
        ],
    )
    assert _admins(acme) == 1
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], MemberError), outcomes


def test_demoting_and_removing_at_once_leave_one(monkeypatch, acme, alice, two_admins):
    first, second = two_admins
    outcomes = _race(
        monkeypatch,
        [
            lambda: member_role_change(company=acme, membership=first, role="finance", by=None),
            lambda: member_remove(company=acme, membership=second, by=None),
        ],
    )
    assert _admins(acme) == 1
    assert sum(isinstance(o, MemberError) for o in outcomes) == 1, outcomes

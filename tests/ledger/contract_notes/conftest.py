"""Fixtures of the contract note tests (files they share are made in support.py).

* `cn_root` (autouse): CONTRACT_NOTES_ROOT is a fresh folder of this test's.
* `cn_sent`: what the upload task was sent with (company, transaction), instead of a broker.
* `cn_booked`: a purchase recorded for the sandbox's holding company and booked there (a voucher).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django_scopes import scope

from ledger import queue
from ledger.booking.protocol import booking_queue, booking_run
from ledger.models import Transaction
from tests.ledger.support import record, reload


@pytest.fixture(autouse=True)
def cn_root(settings, tmp_path) -> Path:
    root = tmp_path / "contract-notes"
    settings.CONTRACT_NOTES_ROOT = root
    return root


@pytest.fixture
def cn_sent(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    real = queue.enqueue

    def enqueue(name, **kwargs):
        if name == queue.UPLOAD_CONTRACT_NOTES:
            sent.append(kwargs)
            return None
        return real(name, **kwargs)

    monkeypatch.setattr(queue, "enqueue", enqueue)
    return sent


@pytest.fixture
def cn_booked(sandbox_acme, tripletex_sandbox) -> Transaction:
    txn = record(sandbox_acme)
    with scope(company=sandbox_acme):
        booking_queue(company=sandbox_acme, transaction_ids=[txn.pk], enqueue=False)
        assert booking_run(company=sandbox_acme, transaction_id=txn.pk) == "booked"
    return reload(txn)

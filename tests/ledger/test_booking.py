"""The booking protocol against the Tripletex sandbox and its fault knobs: every path ends with
exactly one voucher (or none, when Tripletex refused it), and the row says what happened."""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import responses
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_set_own_key
from ledger.booking import tasks as booking_tasks
from ledger.booking.protocol import BookingRetry, booking_queue, booking_resolve, booking_run
from ledger.booking.reversal import booking_reverse
from ledger.models import BookingAttempt, Transaction
from ledger.transactions.services import transaction_create, transaction_update
from tests.ledger.support import record, reload, vouchers_with
from tripletex.client import RetryPolicy
from tripletex.sandbox import demo

pytestmark = pytest.mark.django_db


def _queue(company, txn) -> None:
    with scope(company=company):
        counts = booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)
    assert counts["queued"] == 1


def _run(company, txn) -> str:
    with scope(company=company):
        return booking_run(company=company, transaction_id=txn.pk)


def _fail_voucher_posts(server, *statuses: int) -> None:
    """The next POST /ledger/voucher requests answer these statuses in turn (0: let it through)."""
    server.faults.update({"fail_path": "POST /ledger/voucher", "fail_path_statuses": statuses})


def _run_until_done(company, txn, rounds: int = 5) -> list[str]:
    """Run the task body like Celery would: again after each BookingRetry."""
    outcomes = []
    for _ in range(rounds):
        try:
            outcomes.append(_run(company, txn))
            return outcomes
        except BookingRetry:
            outcomes.append("retry")
    return outcomes


def test_happy_path_books_one_voucher_with_lookup_then_post(sandbox_acme, tripletex_sandbox):
    first, second = record(sandbox_acme), record(sandbox_acme)
    _queue(sandbox_acme, first)
    _queue(sandbox_acme, second)
    assert _run(sandbox_acme, first) == "booked"
    assert _run(sandbox_acme, second) == "booked"
    row = reload(second)
    assert row.status == "booked"
    assert row.voucher_number
    assert row.voucher_year == timezone.localdate().year
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1
    stored = vouchers_with(tripletex_sandbox, row.external_voucher_number)[0]
    assert stored["id"] == row.tripletex_voucher_id
    with scopes_disabled():
        attempt = BookingAttempt.objects.get(transaction=row)
    # With the chart and periods cached: one lookup and one POST.
    assert (attempt.outcome, attempt.posted, attempt.tripletex_calls) == ("booked", True, 2)


def test_running_a_booked_transaction_again_does_nothing(sandbox_acme, tripletex_sandbox):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    assert _run(sandbox_acme, txn) == "not-queued"
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1


def test_reply_lost_after_the_voucher_was_stored_gives_one_voucher(sandbox_acme, tripletex_sandbox):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    tripletex_sandbox.faults.drop_reply_after_voucher_store = 1
    assert _run_until_done(sandbox_acme, txn) == ["booked"]
    row = reload(txn)
    assert row.status == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1
    assert (
        row.tripletex_voucher_id
        == vouchers_with(tripletex_sandbox, row.external_voucher_number)[0]["id"]
    )


def test_reply_lost_and_the_external_number_lookup_blind_still_one_voucher(
    sandbox_acme, tripletex_sandbox
):
    """README §11a: >externalVoucherNumber may not find a fresh voucher; the date list does."""
    tripletex_sandbox.faults.blind_external_lookup = True
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    tripletex_sandbox.faults.drop_reply_after_voucher_store = 1
    assert _run_until_done(sandbox_acme, txn) == ["booked"]
    row = reload(txn)
    assert row.status == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_not_found_right_after_an_unclear_post_is_not_taken_as_not_booked(
    sandbox_acme, tripletex_sandbox, settings
):
    """Within the settle time nothing is posted again, however empty the lookups look."""
    settings.BOOKING_SETTLE_SECONDS = 3600
    tripletex_sandbox.faults.update({"blind_external_lookup": True, "blind_voucher_search": True})
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    tripletex_sandbox.faults.drop_reply_after_voucher_store = 1
    with pytest.raises(BookingRetry) as info:
        _run(sandbox_acme, txn)
    assert info.value.countdown > 3000
    for _ in range(3):
        with pytest.raises(BookingRetry):
            _run(sandbox_acme, txn)
    assert reload(txn).status == "queued"
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1
    with scopes_disabled():
        assert BookingAttempt.objects.filter(transaction=txn, posted=True).count() == 1


def test_double_click_books_once(
    sandbox_acme, tripletex_sandbox, fiona, client, monkeypatch, django_capture_on_commit_callbacks
):
    ran = []
    monkeypatch.setattr(
        booking_tasks.transaction_book_task,
        "delay",
        lambda **kw: ran.append(booking_tasks.transaction_book_task.apply(kwargs=kw).get()),
    )
    txn = record(sandbox_acme)
    client.force_login(fiona)
    url = reverse(
        "ledger:transaction_book", kwargs={"company_slug": sandbox_acme.slug, "pk": txn.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
        assert client.post(url).status_code == 302
    assert ran == ["booked"]
    assert reload(txn).status == "booked"
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1


def test_redelivered_task_and_second_queue_book_once(sandbox_acme, tripletex_sandbox):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    with scope(company=sandbox_acme):
        again = booking_queue(company=sandbox_acme, transaction_ids=[txn.pk], enqueue=False)
    assert again == {"queued": 0, "rejected": 0, "skipped": 1}
    outcomes = [
        booking_tasks.transaction_book_task.apply(
            kwargs={"company_id": sandbox_acme.pk, "transaction_id": txn.pk}
        ).get()
        for _ in range(2)
    ]
    assert outcomes == ["booked", "not-queued"]
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_book_once(sandbox_acme, tripletex_sandbox):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    tripletex_sandbox.faults.latency_ms = 200
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(_run(sandbox_acme, txn))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["booked", "not-queued"]
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1


def test_validation_error_rejects_with_plain_messages_and_can_be_booked_again(
    sandbox_acme, tripletex_sandbox, monkeypatch
):
    """A 422 from Tripletex (here: the closed-period check bypassed locally) → rejected."""
    monkeypatch.setattr("ledger.booking.protocol.period_is_closed", lambda **kw: False)
    closed_day = timezone.localdate().replace(day=1) - timedelta(days=70)
    txn = record(sandbox_acme, trade_date=closed_day)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "rejected"
    row = reload(txn)
    assert row.status == "rejected"
    assert any("closed" in m and "Tripletex:" in m for m in row.messages)
    assert vouchers_with(tripletex_sandbox, row.external_voucher_number) == []
    with scopes_disabled():
        attempt = BookingAttempt.objects.get(transaction=row)
    assert attempt.request_ids
    assert attempt.request_ids[0]
    # Corrected and booked again: same key, one voucher.
    with scope(company=sandbox_acme):
        transaction_update(company=sandbox_acme, txn=row, data={"trade_date": timezone.localdate()})
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_closed_period_is_rejected_before_tripletex(sandbox_acme, tripletex_sandbox):
    closed_day = timezone.localdate().replace(day=1) - timedelta(days=70)
    txn = record(sandbox_acme, trade_date=closed_day)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "rejected"
    row = reload(txn)
    assert "closed" in " ".join(row.messages)
    with scopes_disabled():
        assert not BookingAttempt.objects.get(transaction=row).posted


def test_injected_422_on_the_post_is_rejected(sandbox_acme, tripletex_sandbox):
    _fail_voucher_posts(tripletex_sandbox, 422)
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "rejected"
    assert reload(txn).messages


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_on_the_post_is_looked_up_and_retried_once(sandbox_acme, tripletex_sandbox, status):
    _fail_voucher_posts(tripletex_sandbox, status)
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    # Eager Celery runs the retry at once (the settle time is 0 in tests).
    outcome = booking_tasks.transaction_book_task.apply(
        kwargs={"company_id": sandbox_acme.pk, "transaction_id": txn.pk}
    ).get()
    assert outcome == "booked"
    # Two POSTs: the one answered 5xx, then the one after the lookup found nothing.
    assert tripletex_sandbox.faults.fail_path_statuses == ()
    with scopes_disabled():
        assert BookingAttempt.objects.filter(transaction=txn, posted=True).count() == 2
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1


def test_429_on_the_post_waits_and_books_once(sandbox_acme, tripletex_sandbox):
    _fail_voucher_posts(tripletex_sandbox, 429)
    # The 429 carries no reset header: the client waits for the window it last saw (1 s here).
    tripletex_sandbox.faults.rate_window = 1.0
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1
    # One run: the POST answered 429 and the client's own resend of it booked the voucher.
    assert tripletex_sandbox.faults.fail_path_statuses == ()
    with scopes_disabled():
        attempt = BookingAttempt.objects.get(transaction=txn)
    assert (attempt.outcome, attempt.posted) == ("booked", True)


def test_retries_used_up_mark_needs_attention(
    sandbox_acme, tripletex_sandbox, monkeypatch, tripletex_waits_recorded
):
    monkeypatch.setattr(booking_tasks.transaction_book_task, "max_retries", 1)
    monkeypatch.setattr(booking_tasks, "retry_countdown", lambda retries, at_least: 0)
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    # Every external-number lookup is answered 503 with Tripletex's error body; the rest of the
    # calls reach the sandbox. The client retries each lookup itself before giving up.
    lookup = tripletex_sandbox.base_url + "/ledger/voucher/%3EexternalVoucherNumber"
    with responses.RequestsMock() as mock:
        mock.add_passthru(tripletex_sandbox.base_url)
        mock.get(
            re.compile(re.escape(lookup) + r"\?"),
            status=503,
            json={"status": 503, "code": 1000, "message": "down", "requestId": "req-1"},
            headers={"x-tlx-request-id": "req-1"},
        )
        outcome = booking_tasks.transaction_book_task.apply(
            kwargs={"company_id": sandbox_acme.pk, "transaction_id": txn.pk}
        ).get()
        lookups = len(mock.calls)
    assert outcome == "failed"
    # Two task runs, each lookup tried as often as the client's retry policy allows.
    assert lookups == 2 * RetryPolicy().max_attempts
    assert len(tripletex_waits_recorded) == 2 * (RetryPolicy().max_attempts - 1)
    row = reload(txn)
    assert row.status == "failed"
    with scopes_disabled():
        attempts = list(BookingAttempt.objects.filter(transaction=row))
    assert ["req-1"] in [a.request_ids for a in attempts]


def test_missing_advanced_voucher_permission_is_rejected_with_the_fix(
    sandbox_acme, tripletex_sandbox
):
    connection_set_own_key(company=sandbox_acme, token=demo.READONLY_TOKEN, by=None)
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "rejected"
    text = " ".join(reload(txn).messages)
    assert "Advanced Voucher" in text
    assert "Alle tilganger" in text


def test_no_connection_means_needs_attention(acme, local_cache):
    txn = record(acme)
    _queue(acme, txn)
    assert _run(acme, txn) == "failed"
    assert reload(txn).messages


def test_resolver_finishes_a_row_whose_worker_died_after_posting(
    sandbox_acme, tripletex_sandbox, settings, monkeypatch
):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    tripletex_sandbox.faults.drop_reply_after_voucher_store = 1
    send = requests.adapters.HTTPAdapter.send

    class Killed(BaseException):
        """Stands in for SIGKILL: nothing after the POST runs."""

    def send_then_die(adapter, request, **kw):
        if request.method != "POST":
            return send(adapter, request, **kw)
        # The voucher POST reaches the sandbox (which stores it and drops the reply); the worker
        # dies before it hears anything.
        with contextlib.suppress(Exception):
            send(adapter, request, **kw)
        raise Killed

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send_then_die)
    with pytest.raises(Killed):
        _run(sandbox_acme, txn)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    assert reload(txn).status == "booking"
    with scope(company=sandbox_acme):
        # A fresh lease is left alone: its worker may still be posting.
        assert booking_resolve(company=sandbox_acme, transaction_id=txn.pk) == "not-stuck"
        settings.BOOKING_STUCK_SECONDS = 0
        assert booking_resolve(company=sandbox_acme, transaction_id=txn.pk) == "already-booked"
    row = reload(txn)
    assert row.status == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_stuck_resolver_task_requeues_lost_queued_rows(sandbox_acme, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", lambda **kw: sent.append(kw))
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    settings.BOOKING_STUCK_SECONDS = 0
    with scopes_disabled():
        Transaction.objects.filter(pk=txn.pk).update(
            queued_at=timezone.now() - timedelta(seconds=5)
        )
    assert booking_tasks.bookings_resolve_stuck_task() == ["requeued"]
    assert sent == [{"company_id": sandbox_acme.pk, "transaction_id": txn.pk}]


def test_reverse_then_edit_and_book_anew(sandbox_acme, tripletex_sandbox):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    first = reload(txn)
    with scope(company=sandbox_acme):
        reversal = booking_reverse(
            company=sandbox_acme, txn=first, on=timezone.localdate(), by=None
        )
    row = reload(txn)
    assert row.status == "reversed"
    assert reversal.original_voucher_id == first.tripletex_voucher_id
    assert (
        tripletex_sandbox.store.voucher_state(71001, first.tripletex_voucher_id)[1]
        == reversal.reversal_voucher_id
    )
    with scope(company=sandbox_acme):
        transaction_update(company=sandbox_acme, txn=row, data={"amount": Decimal("26000.00")})
    row = reload(txn)
    assert (row.status, row.booking_round) == ("ready", 2)
    assert row.external_voucher_number == f"{first.external_voucher_number}-2"
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    rebooked = reload(txn)
    assert rebooked.tripletex_voucher_id != first.tripletex_voucher_id
    assert len(vouchers_with(tripletex_sandbox, first.external_voucher_number)) == 1
    assert len(vouchers_with(tripletex_sandbox, rebooked.external_voucher_number)) == 1


def test_journal_with_vat_department_and_project_is_booked(sandbox_acme, tripletex_sandbox):
    with scope(company=sandbox_acme):
        txn = transaction_create(
            company=sandbox_acme,
            by=None,
            data={"kind": "journal", "trade_date": timezone.localdate(), "description": "Honorar"},
            lines=[
                {
                    "account_number": 6720,
                    "debit": Decimal("1250.00"),
                    "vat_code": "1",
                    "department_number": "1",
                    "project_number": "100",
                    "description": "Råd",
                },
                {"account_number": 2960, "credit": Decimal("1250.00")},
            ],
        )
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    stored = vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)
    assert len(stored) == 1
    voucher = tripletex_sandbox.store.voucher(71001, stored[0]["id"])
    assert voucher is not None


def test_unknown_department_is_rejected_before_posting(sandbox_acme, tripletex_sandbox):
    with scope(company=sandbox_acme):
        txn = transaction_create(
            company=sandbox_acme,
            by=None,
            data={"kind": "journal", "trade_date": timezone.localdate(), "description": "X"},
            lines=[
                {"account_number": 6720, "debit": Decimal("10.00"), "department_number": "99"},
                {"account_number": 2960, "credit": Decimal("10.00")},
            ],
        )
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "rejected"
    assert "99" in " ".join(reload(txn).messages)
    with scopes_disabled():
        assert not BookingAttempt.objects.get(transaction=txn).posted


def test_reverse_page_and_gl_check_against_the_live_chart(
    sandbox_acme, tripletex_sandbox, fiona, client
):
    txn = record(sandbox_acme)
    _queue(sandbox_acme, txn)
    assert _run(sandbox_acme, txn) == "booked"
    client.force_login(fiona)
    url = reverse(
        "ledger:transaction_reverse", kwargs={"company_slug": sandbox_acme.slug, "pk": txn.pk}
    )
    assert client.get(url).status_code == 200
    response = client.post(url, {"date": timezone.localdate().isoformat()})
    assert response.status_code == 302
    row = reload(txn)
    assert row.status == "reversed"
    detail = client.get(response["Location"]).content.decode()
    assert 'data-testid="reversal"' in detail
    assert 'data-testid="edit"' in detail
    # Reversing twice is refused with a message, not an error page.
    assert client.post(url, {"date": timezone.localdate().isoformat()}).status_code == 302
    gl_url = reverse("ledger:gl_settings", kwargs={"company_slug": sandbox_acme.slug})
    assert client.post(gl_url, {"check": "1"}).status_code == 302
    page = client.get(gl_url).content.decode()
    assert page.count('data-testid="gl-row"') == 14  # one per GL role (GLAccountSettings.ROLES)
    assert 'data-testid="gl-problem"' not in page
    assert "Bankinnskudd" in page


def test_book_all_batch_books_each_row_once_and_hands_waiting_rows_to_their_own_task(
    sandbox_acme, tripletex_sandbox, monkeypatch
):
    rows = [record(sandbox_acme) for _ in range(3)]
    with scope(company=sandbox_acme):
        booking_queue(company=sandbox_acme, transaction_ids=[t.pk for t in rows], enqueue=False)
    retried = []
    monkeypatch.setattr(
        booking_tasks.transaction_book_task, "apply_async", lambda **kw: retried.append(kw)
    )
    _fail_voucher_posts(tripletex_sandbox, 0, 503)
    ids = [t.pk for t in rows]
    result = booking_tasks.transactions_book_batch_task.apply(
        kwargs={"company_id": sandbox_acme.pk, "transaction_ids": ids}
    ).get()
    assert result == {"booked": 2, "retry": 1}
    assert [kw["kwargs"]["transaction_id"] for kw in retried] == [rows[1].pk]
    assert reload(rows[1]).status == "queued"
    # The retry (lookup first) finishes it: still one voucher; a redelivered batch does nothing.
    assert _run(sandbox_acme, rows[1]) == "booked"
    again = booking_tasks.transactions_book_batch_task.apply(
        kwargs={"company_id": sandbox_acme.pk, "transaction_ids": ids}
    ).get()
    assert again == {"not-queued": 3}
    for txn in rows:
        assert len(vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number)) == 1

"""Booking with sendToLedger=false: for a firm whose key lacks "Advanced Voucher", each voucher
waits in Tripletex until someone at the firm approves it (README §7.1, pitfall 21). Still exactly
one voucher per booking round, and the row learns its number once it is approved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_set_own_key, tripletex_client_for
from ledger.booking import tasks as booking_tasks
from ledger.booking.protocol import BookingRetry, BookingStateError, booking_queue, booking_run
from ledger.booking.reconcile import booking_check, bookings_reconcile
from ledger.booking.reversal import booking_reverse
from ledger.models import BookingAttempt, GLAccountSettings
from ledger.transactions.vouchers import gl_settings_get
from tests.ledger.support import HOLDING_ID, record, reload, vouchers_with
from tripletex.sandbox import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval_acme(sandbox_acme):
    """Acme with a key that lacks "Advanced Voucher", set to send vouchers for approval."""
    connection_set_own_key(company=sandbox_acme, token=demo.READONLY_TOKEN, by=None)
    with scope(company=sandbox_acme):
        gl = gl_settings_get(company=sandbox_acme)
        gl.posting_mode = GLAccountSettings.PostingMode.APPROVAL
        gl.save()
    return sandbox_acme


def _book(company, txn) -> str:
    with scope(company=company):
        booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)
        for _ in range(5):
            try:
                return booking_run(company=company, transaction_id=txn.pk)
            except BookingRetry:
                continue
    raise AssertionError("the booking never finished")


def _spy(client, name: str, asked: list[str]) -> None:
    """Record each call of client.<name> in `asked`, then make it."""
    method = getattr(client, name)

    def spy(*args, **kwargs):
        asked.append(name)
        return method(*args, **kwargs)

    setattr(client, name, spy)


def _refresh(company, txn) -> dict[str, int]:
    with scope(company=company):
        return bookings_reconcile(company=company, transaction_ids=[txn.pk])


def test_a_voucher_sent_for_approval_waits_in_tripletex_with_a_temporary_number(
    approval_acme, tripletex_sandbox
):
    txn = record(approval_acme)
    assert _book(approval_acme, txn) == "booked"
    row = reload(txn)
    (stored,) = vouchers_with(tripletex_sandbox, row.external_voucher_number)
    assert row.status == "booked"
    assert row.is_awaiting_approval
    assert row.voucher_number is None
    assert row.voucher_temp_number == stored["tempNumber"] > 0
    assert row.tripletex_voucher_id == stored["id"]
    assert tripletex_sandbox.store.voucher_state(HOLDING_ID, stored["id"]) == (False, None)
    with scopes_disabled():
        attempt = BookingAttempt.objects.get(transaction=row)
    assert (attempt.outcome, attempt.posted) == ("booked", True)


def test_without_the_permission_posting_to_the_ledger_is_refused_with_both_ways_out(
    sandbox_acme, tripletex_sandbox
):
    connection_set_own_key(company=sandbox_acme, token=demo.READONLY_TOKEN, by=None)
    txn = record(sandbox_acme)
    assert _book(sandbox_acme, txn) == "rejected"
    text = " ".join(reload(txn).messages)
    assert "Advanced Voucher" in text
    assert "Send vouchers for approval in Tripletex" in text
    assert vouchers_with(tripletex_sandbox, reload(txn).external_voucher_number) == []


def test_reply_lost_and_only_the_approval_list_shows_it_still_one_voucher(
    approval_acme, tripletex_sandbox
):
    """If Tripletex's searches leave out vouchers waiting for approval (README §7.2 [verify]),
    the thorough lookup still finds ours among them before anything is posted again."""
    tripletex_sandbox.faults.update({"blind_external_lookup": True, "blind_voucher_search": True})
    txn = record(approval_acme)
    tripletex_sandbox.faults.drop_reply_after_voucher_store = 1
    assert _book(approval_acme, txn) == "booked"
    row = reload(txn)
    (stored,) = vouchers_with(tripletex_sandbox, row.external_voucher_number)
    assert row.tripletex_voucher_id == stored["id"]
    assert row.voucher_temp_number == stored["tempNumber"]
    with scopes_disabled():
        assert BookingAttempt.objects.filter(transaction=row, posted=True).count() == 1


def test_the_number_is_recorded_once_the_firm_approves_the_voucher(
    approval_acme, tripletex_sandbox
):
    txn = record(approval_acme)
    _book(approval_acme, txn)
    assert _refresh(approval_acme, txn) == {"waiting": 1}
    assert reload(txn).is_awaiting_approval

    tripletex_sandbox.store.send_to_ledger(HOLDING_ID, reload(txn).tripletex_voucher_id)
    # The beat task finds every waiting row and asks Tripletex about it.
    totals = booking_tasks.bookings_refresh_approved_task.apply().get()
    assert totals == {"approved": 1}
    row = reload(txn)
    (stored,) = vouchers_with(tripletex_sandbox, row.external_voucher_number)
    assert row.voucher_number == stored["number"] > 0
    assert row.voucher_year == timezone.localdate().year
    assert not row.is_awaiting_approval
    assert booking_tasks.bookings_refresh_approved_task.apply().get() == {}


def test_checking_many_waiting_vouchers_takes_two_listings_whatever_their_number(
    approval_acme, tripletex_sandbox
):
    rows = [record(approval_acme) for _ in range(4)]
    for txn in rows:
        _book(approval_acme, txn)
    tripletex_sandbox.store.send_to_ledger(HOLDING_ID, reload(rows[0]).tripletex_voucher_id)
    tripletex_sandbox.store.delete_voucher(HOLDING_ID, reload(rows[1]).tripletex_voucher_id)
    client = tripletex_client_for(approval_acme)
    asked: list[str] = []
    for name in ("vouchers_between", "vouchers_non_posted", "voucher_get"):
        _spy(client, name, asked)
    with scope(company=approval_acme):
        counts = bookings_reconcile(
            company=approval_acme, transaction_ids=[t.pk for t in rows], client=client
        )
    assert counts == {"approved": 1, "deleted": 1, "waiting": 2}
    # Only the deleted one, missing from both lists, is asked for alone.
    assert asked == ["vouchers_between", "vouchers_non_posted", "voucher_get"]
    assert reload(rows[0]).voucher_number
    assert reload(rows[1]).status == "failed"


def test_a_voucher_deleted_in_tripletex_leaves_the_row_to_be_booked_again(
    approval_acme, tripletex_sandbox
):
    txn = record(approval_acme)
    _book(approval_acme, txn)
    tripletex_sandbox.store.delete_voucher(HOLDING_ID, reload(txn).tripletex_voucher_id)
    assert _refresh(approval_acme, txn) == {"deleted": 1}
    row = reload(txn)
    assert row.status == "failed"
    assert row.tripletex_voucher_id is None
    assert "deleted in Tripletex" in " ".join(row.messages)
    # Booked again: one new voucher under the same key, waiting for approval.
    assert _book(approval_acme, row) == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_a_voucher_waiting_for_approval_cannot_be_reversed(approval_acme, tripletex_sandbox):
    txn = record(approval_acme)
    _book(approval_acme, txn)
    with scope(company=approval_acme), pytest.raises(BookingStateError, match="approval"):
        booking_reverse(company=approval_acme, txn=reload(txn), on=timezone.localdate(), by=None)
    assert reload(txn).status == "booked"


def test_reversing_an_approved_voucher_without_the_permission_says_what_to_do(
    approval_acme, tripletex_sandbox
):
    txn = record(approval_acme)
    _book(approval_acme, txn)
    tripletex_sandbox.store.send_to_ledger(HOLDING_ID, reload(txn).tripletex_voucher_id)
    _refresh(approval_acme, txn)
    with scope(company=approval_acme), pytest.raises(BookingStateError) as info:
        booking_reverse(company=approval_acme, txn=reload(txn), on=timezone.localdate(), by=None)
    assert "permission to reverse" in str(info.value)
    assert "reverse the voucher in Tripletex yourself" in str(info.value)
    assert reload(txn).status == "booked"


def test_pages_say_the_voucher_waits_for_approval(client, fiona, approval_acme, tripletex_sandbox):
    """In Norwegian, as the pages are by default."""
    txn = record(approval_acme)
    _book(approval_acme, txn)
    row = reload(txn)
    client.force_login(fiona)
    slug = approval_acme.slug
    html = client.get(reverse("ledger:transaction_detail", args=[slug, txn.pk])).content.decode()
    assert "Venter på godkjenning i Tripletex" in html
    assert f"midl. nr. {row.voucher_temp_number}" in html
    assert 'data-testid="awaiting-approval"' in html
    assert 'data-testid="reverse"' not in html
    home = client.get(f"/c/{slug}/").content.decode()
    assert 'data-testid="awaiting-approval-count"><span class="badge warn">1<' in home
    listing = client.get(reverse("ledger:transactions", args=[slug])).content.decode()
    assert "Venter på godkjenning i Tripletex" in listing
    assert '<a href="?status=approval">Venter på godkjenning i Tripletex (1)</a>' in listing
    only = client.get(reverse("ledger:transactions", args=[slug]), {"status": "approval"})
    assert [row[0].pk for row in only.context["rows"]] == [txn.pk]
    status = client.get(
        reverse("ledger:transactions_status", args=[slug]), {"ids": str(txn.pk)}
    ).json()
    (shown,) = status["rows"]
    assert (shown["label"], shown["badge"]) == ("Venter på godkjenning i Tripletex", "warn")
    assert shown["voucher"] == f"midl. nr. {row.voucher_temp_number}"


def test_the_posting_mode_is_chosen_in_the_gl_settings(client, fiona, sandbox_acme):
    client.force_login(fiona)
    url = reverse("ledger:gl_settings", args=[sandbox_acme.slug])
    page = client.get(url).content.decode()
    assert 'value="approval"' in page
    with scope(company=sandbox_acme):
        data = {
            role: getattr(gl_settings_get(company=sandbox_acme), role)
            for role in GLAccountSettings.ROLES
        }
    response = client.post(url, {**data, "posting_mode": "approval"})
    assert response.status_code == 302
    with scope(company=sandbox_acme):
        assert not gl_settings_get(company=sandbox_acme).send_to_ledger
    # An unknown mode is refused and changes nothing.
    response = client.post(url, {**data, "posting_mode": "sometimes"})
    assert response.status_code == 200
    assert "Velg et gyldig valg" in response.content.decode()  # the page is Norwegian
    with scope(company=sandbox_acme):
        assert gl_settings_get(company=sandbox_acme).posting_mode == "approval"


# ---- changes made in Tripletex itself ------------------------------------------------------------


def _check(company, txn, user=None) -> str:
    with scope(company=company):
        return booking_check(company=company, txn=reload(txn), by=user)


def test_a_voucher_reversed_in_tripletex_is_recorded_and_the_row_can_be_booked_anew(
    sandbox_acme, tripletex_sandbox, fiona
):
    txn = record(sandbox_acme)
    _book(sandbox_acme, txn)
    booked = reload(txn)
    assert _check(sandbox_acme, txn) == "unchanged"
    # Someone reverses it in Tripletex's own screens.
    reversal_id = tripletex_sandbox.store.reverse_voucher(
        HOLDING_ID, booked.tripletex_voucher_id, timezone.localdate()
    )
    assert _check(sandbox_acme, txn, fiona) == "reversed"
    row = reload(txn)
    assert row.status == "reversed"
    with scopes_disabled():
        (reversal,) = row.reversals.all()
    assert (reversal.original_voucher_id, reversal.reversal_voucher_id) == (
        booked.tripletex_voucher_id,
        reversal_id,
    )
    assert reversal.reversed_by == fiona
    assert row.is_editable
    assert _check_refused(sandbox_acme, txn)


def _check_refused(company, txn) -> bool:
    try:
        _check(company, txn)
    except BookingStateError:
        return True
    return False


def test_a_posted_voucher_deleted_in_tripletex_leaves_the_row_to_be_booked_again(
    sandbox_acme, tripletex_sandbox
):
    txn = record(sandbox_acme)
    _book(sandbox_acme, txn)
    tripletex_sandbox.store.delete_voucher(HOLDING_ID, reload(txn).tripletex_voucher_id)
    assert _check(sandbox_acme, txn) == "deleted"
    row = reload(txn)
    assert (row.status, row.tripletex_voucher_id, row.voucher_number) == ("failed", None, None)
    assert _book(sandbox_acme, row) == "booked"
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_the_check_button_reports_waiting_then_the_approval(
    client, fiona, approval_acme, tripletex_sandbox
):
    txn = record(approval_acme)
    _book(approval_acme, txn)
    client.force_login(fiona)
    url = reverse("ledger:transaction_check", args=[approval_acme.slug, txn.pk])
    response = client.post(url, follow=True)
    assert "Bilaget venter fortsatt på godkjenning i Tripletex." in response.content.decode()
    tripletex_sandbox.store.send_to_ledger(HOLDING_ID, reload(txn).tripletex_voucher_id)
    response = client.post(url, follow=True)
    assert "Bilaget er godkjent i Tripletex og har fått bilagsnummer." in response.content.decode()
    assert reload(txn).voucher_number


def test_the_nightly_sweep_picks_up_reversals_and_deletions_made_in_tripletex(
    sandbox_acme, tripletex_sandbox
):
    reversed_, deleted, kept, old = (record(sandbox_acme) for _ in range(4))
    for txn in (reversed_, deleted, kept, old):
        _book(sandbox_acme, txn)
    with scopes_disabled():
        # Booked long ago: outside the sweep, even though it is deleted in Tripletex too.
        old_row = reload(old)
        old_row.booked_at = timezone.now() - timedelta(days=61)
        old_row.save(update_fields=["booked_at"])
    store = tripletex_sandbox.store
    store.reverse_voucher(HOLDING_ID, reload(reversed_).tripletex_voucher_id, timezone.localdate())
    store.delete_voucher(HOLDING_ID, reload(deleted).tripletex_voucher_id)
    store.delete_voucher(HOLDING_ID, old_row.tripletex_voucher_id)

    totals = booking_tasks.bookings_reconcile_task.apply().get()

    assert totals == {"reversed": 1, "deleted": 1, "unchanged": 1}
    assert [reload(t).status for t in (reversed_, deleted, kept, old)] == [
        "reversed",
        "failed",
        "booked",
        "booked",
    ]
    assert booking_tasks.bookings_reconcile_task.apply().get() == {"unchanged": 1}

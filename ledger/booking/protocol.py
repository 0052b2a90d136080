"""The booking protocol: one transaction becomes exactly one Tripletex voucher per booking round.

Tripletex has no idempotency header (tripletex-api2#76), so our key is the transaction's
`external_voucher_number` and the protocol is (README §7.2, STYLE P4–P6):

1. **Intent first.** `booking_queue` moves the row to "queued" in the transaction that answers the
   user, and enqueues the task on commit. A double click finds it queued already.
2. **Claim.** A conditional UPDATE (queued → booking, with a fresh claim token and lease) lets one
   worker in; a second worker, a redelivered task or a retry updates nothing and stops.
3. **Look up before creating** (`GET /ledger/voucher/>externalVoucherNumber`). After a POST that
   may have reached Tripletex (`last_post_at` set) the lookup is thorough: the booking date's
   vouchers are listed too (README §11a: the external-number lookup may not find a voucher right
   away), and no new POST happens before the **settle deadline**: the last send, plus the
   client's connect and read timeouts (a POST may be in flight that long), plus
   BOOKING_SETTLE_SECONDS. "Not found" before then is not "not booked".
4. **Renew the lease** (conditional on the claim token), then POST. The client calls back
   immediately before every HTTP send of the POST, its own resends after 401/429 included and
   after any wait for the rate budget; each call stamps `last_post_at` (conditional on the claim
   token: a worker that lost its claim stops before sending). A POST that may have been applied
   (timeout, dropped connection, 5xx) is looked up again; if it is still not visible the row
   goes back to "queued" until the settle deadline, and the task retries then, lookup first.
5. **Stuck rows.** A worker killed mid-post leaves the row in "booking" with an old lease;
   `bookings_resolve_stuck` (beat) reclaims such rows once the lease is older than
   BOOKING_STUCK_SECONDS and runs steps 3–4 for them.

Every run leaves a BookingAttempt row: outcome, Tripletex calls, request ids, messages.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company
from companies.tenancy import company_for_task
from ledger import queue
from ledger.booking.messages import forbidden_message, plain_messages
from ledger.contract_notes.services import contract_notes_voucher_ready
from ledger.holdings.exemption import inside_share_for
from ledger.holdings.services import (
    lots_lock,
    lots_release,
    lots_reserve,
    lots_waiting_for,
    waiting_message,
)
from ledger.models import (
    BookingAttempt,
    GLAccountSettings,
    Transaction,
)
from ledger.transactions.checks import Reference, reference_stored, row_problems
from ledger.transactions.fifo import FifoError
from ledger.transactions.vouchers import (
    VoucherBuildError,
    booking_references,
    build_lines,
    chart_for_booking,
    forget_reference_data,
    gl_booking_problems,
    gl_settings_get,
    period_is_closed,
    transaction_cost,
    voucher_payload,
)
from tripletex.client import StatsMark, TripletexClient
from tripletex.errors import (
    TripletexAuthError,
    TripletexError,
    TripletexForbidden,
    TripletexOutcomeUnknown,
    TripletexRateLimited,
    TripletexUnavailable,
    TripletexValidationError,
)
from tripletex.retry import backoff
from tripletex.schemas import Voucher, VoucherPayload

logger = logging.getLogger(__name__)

Status = Transaction.Status
Outcome = BookingAttempt.Outcome
# Rows per "book all" task: long enough to save task round trips, short enough to finish soon.
BATCH_SIZE = 500


def _setting(name: str) -> float:
    return float(getattr(settings, name))


def settle_seconds() -> float:
    """How long after a POST can no longer be in flight before "not found" may be trusted.

    Tripletex may still be storing a voucher whose request our client gave up on; this margin
    covers that work after the request's own time (see `settle_deadline`)."""
    return _setting("BOOKING_SETTLE_SECONDS")


def settle_deadline(
    last_send: datetime, *, timeout: tuple[float, float], settle: float
) -> datetime:
    """The first moment a lookup that finds nothing may be trusted and a new POST sent.

    `last_send` is stamped immediately before the last HTTP send of a POST (the client's own
    resends after a 401 or 429 included, and after any wait for the rate budget, which happens
    before the stamp). That request may stay in flight until `last_send + connect + read`;
    Tripletex gets `settle` seconds more to finish storing what arrived. Whatever the rate
    limiter or retries did inside the call, nothing is decided before this moment."""
    connect, read = timeout
    return last_send + timedelta(seconds=connect + read + settle)


def stuck_seconds() -> float:
    """How old a "booking" row's lease must be before the resolver takes it over."""
    return _setting("BOOKING_STUCK_SECONDS")


class BookingStateError(Exception):
    """The transaction is not in a state that allows this (message for the user)."""


class BookingRetry(Exception):
    """Transient: the row is queued again; run the booking again after `countdown` seconds."""

    def __init__(self, message: str, *, countdown: float) -> None:
        super().__init__(message)
        self.countdown = max(0.0, countdown)


@dataclass
class _Run:
    """One claimed run: the row, its claim token and the attempt being logged."""

    company: Company
    txn: Transaction
    token: str
    attempt: BookingAttempt
    client: TripletexClient | None = None
    # The client's counters when this run took it: a batch books many rows on one client, so the
    # attempt's Tripletex calls are those since this mark.
    client_mark: StatsMark = field(default_factory=StatsMark)
    request_ids: list[str] = field(default_factory=list)

    def use_client(self, client: TripletexClient) -> None:
        """Run on `client` from now on, counting its calls from here."""
        self.client = client
        self.client_mark = client.stats.mark()


# ---- queueing (the click) --------------------------------------------------------------------


def _freeze(*, company: Company, txn: Transaction, reference: Reference) -> list[str]:
    """Checks before queueing; returns plain-language problems, freezing the FIFO cost if fine."""
    txn.cost_basis = None  # recomputed: earlier rows may have changed since the last try
    # First what the person must correct, checked as at entry against the firm's synced periods
    # and chart: what was fine when saved may not be now (a period closed since, an account made
    # inactive), and a row stored before the column checks may hold a value too big for its column.
    gl = gl_settings_get(company=company)
    if held := row_problems(company=company, txn=txn, ref=reference, gl=gl):
        return held
    # A type whose GL roles lack a valid account in the firm's chart is held back, with the reason.
    if held := gl_booking_problems(company=company, txn=txn, gl=gl):
        return held
    try:
        # The lots it takes and opens are written here (a savepoint: a refusal writes nothing).
        with transaction.atomic():
            cost = lots_reserve(company=company, txn=txn)
            build_lines(
                txn=txn, gl=gl, cost=cost, inside_share=inside_share_for(company=company, txn=txn)
            )
    except (FifoError, VoucherBuildError) as exc:
        return [str(exc)]
    txn.cost_basis = cost
    return []


@transaction.atomic
def booking_queue(
    *,
    company: Company,
    transaction_ids: list[int],
    enqueue: bool = True,
    reference: Reference | None = None,
) -> dict[str, int]:
    """Record the intent to book (status queued) and enqueue on commit; counts per outcome.
    `reference`: the firm's chart and periods to check against, loaded (and refreshed from
    Tripletex when a day old) by the caller before its transaction; else the stored rows."""
    counts = {"queued": 0, "rejected": 0, "skipped": 0}
    queued: list[int] = []
    lots_lock(company=company)  # one queueing at a time per firm: lots are taken in order
    ref = reference if reference is not None else reference_stored(company=company)
    rows = (
        Transaction.objects.select_for_update()
        .filter(company=company, pk__in=transaction_ids)
        .order_by("trade_date", "pk")
    )
    for txn in rows:
        if txn.status not in Transaction.BOOKABLE:
            counts["skipped"] += 1
            continue
        problems = _freeze(company=company, txn=txn, reference=ref)
        if not txn.external_voucher_number:
            txn.external_voucher_number = txn.external_number_for_round(txn.booking_round)
        if problems:
            # A row that needed attention may still hold its lots: a refused row holds none.
            lots_release(company=company, txn=txn, never_booked=True)
            txn.status, txn.messages = Status.REJECTED, problems
            txn.save(update_fields=["status", "messages", "external_voucher_number", "updated_at"])
            counts["rejected"] += 1
            continue
        txn.status, txn.messages = Status.QUEUED, []
        txn.queued_at, txn.next_retry_at = timezone.now(), None
        txn.save(
            update_fields=[
                "status",
                "messages",
                "queued_at",
                "next_retry_at",
                "cost_basis",
                "external_voucher_number",
                "updated_at",
            ]
        )
        counts["queued"] += 1
        queued.append(txn.pk)
    if enqueue and len(queued) == 1:
        _enqueue_on_commit(
            counts,
            1,
            partial(
                queue.enqueue,
                queue.BOOK_TRANSACTION,
                company_id=company.pk,
                transaction_id=queued[0],
            ),
        )
    elif enqueue and queued:
        # "Book all": one task walks the rows in order (each row still claimed on its own), so a
        # thousand bookings do not pay a thousand task round trips; a row that must wait gets
        # its own retrying task.
        for start in range(0, len(queued), BATCH_SIZE):
            ids = queued[start : start + BATCH_SIZE]
            _enqueue_on_commit(
                counts,
                len(ids),
                partial(
                    queue.enqueue, queue.BOOK_BATCH, company_id=company.pk, transaction_ids=ids
                ),
            )
    return counts


def _enqueue_on_commit(counts: dict[str, int], rows: int, send: Callable[[], object]) -> None:
    """Send the task once the queued rows are committed; if the broker cannot take it, count the
    rows as `counts["unsent"]` instead of failing the request.

    The rows are safely queued either way: when a worker connects to the broker again it
    enqueues the resolver, which sends every due queued row (`bookings_stuck(prompt=True)`). The
    publish fails within seconds (CELERY_TASK_PUBLISH_RETRY_POLICY and the Redis socket timeouts
    in settings) with kombu's OperationalError, Celery's wrapper for every connection error. The
    count reaches the caller when booking_queue's own transaction is the outermost one (views,
    commands); inside an outer transaction the hook runs at its commit, still without raising."""

    def send_or_count() -> None:
        try:
            send()
        except OperationalError as exc:
            logger.warning("Broker unavailable; %s queued row(s) wait for a worker: %s", rows, exc)
            counts["unsent"] = counts.get("unsent", 0) + rows

    transaction.on_commit(send_or_count)


def ready_ids(*, company: Company) -> list[int]:
    """The ids of the company's ready transactions, oldest first (what "book all ready" takes)."""
    rows = Transaction.objects.filter(company=company, status=Status.READY)
    return list(rows.order_by("trade_date", "pk").values_list("pk", flat=True))


def booking_queue_all_ready(
    *, company: Company, reference: Reference | None = None
) -> dict[str, int]:
    """Queue every ready transaction of the company ("book all ready")."""
    ids = ready_ids(company=company)
    return booking_queue(company=company, transaction_ids=ids, reference=reference)


# ---- claiming --------------------------------------------------------------------------------


def _claim(*, company: Company, transaction_id: int, stale: bool) -> str | None:
    """Take the row (queued → booking, or a stale booking lease); the token, or None if taken."""
    now = timezone.now()
    token = uuid.uuid4().hex
    rows = Transaction.objects.filter(company=company, pk=transaction_id)
    if stale:
        rows = rows.filter(
            status=Status.BOOKING, lease_at__lt=now - timedelta(seconds=stuck_seconds())
        )
    else:
        rows = rows.filter(status=Status.QUEUED)
    claimed = rows.update(
        status=Status.BOOKING,
        claim_token=token,
        lease_at=now,
        attempts=F("attempts") + 1,
        next_retry_at=None,
    )
    return token if claimed == 1 else None


def _mine(run: _Run) -> Q:
    return Q(pk=run.txn.pk, status=Status.BOOKING, claim_token=run.token)


# ---- endings ---------------------------------------------------------------------------------


def _finish(
    run: _Run, outcome: str, *, messages: Sequence[str] = (), voucher_id: int | None = None
) -> str:
    attempt = run.attempt
    attempt.outcome = outcome
    attempt.finished_at = timezone.now()
    attempt.messages = list(messages)
    attempt.voucher_id = voucher_id
    attempt.request_ids = run.request_ids
    if run.client is not None:
        attempt.tripletex_calls = run.client.stats.since(run.client_mark).calls
    attempt.save()
    return outcome


@transaction.atomic
def _mark_booked(run: _Run, voucher: Voucher, outcome: str, *, extra: Sequence[str] = ()) -> str:
    # The voucher exists whoever holds the claim now: record it even if the lease moved on.
    booked = Transaction.objects.filter(pk=run.txn.pk, status=Status.BOOKING).update(
        status=Status.BOOKED,
        tripletex_voucher_id=voucher.id,
        voucher_number=voucher.number,  # None while it waits for approval in Tripletex
        voucher_temp_number=voucher.temp_number,
        voucher_year=voucher.year or (voucher.date.year if voucher.date else None),
        booked_at=timezone.now(),
        messages=list(extra),
        claim_token="",
        next_retry_at=None,
    )
    if booked:
        # Its contract notes go onto the voucher now that it exists (after this commit).
        contract_notes_voucher_ready(
            company=run.company, transaction_id=run.txn.pk, voucher_id=voucher.id
        )
    logger.info("Transaction %s booked as voucher %s (%s)", run.txn.pk, voucher.id, outcome)
    return _finish(run, outcome, messages=list(extra), voucher_id=voucher.id)


@transaction.atomic
def _mark_rejected(run: _Run, messages: list[str]) -> str:
    lots_lock(company=run.company)  # before the row, as queueing locks them
    if Transaction.objects.filter(_mine(run)).update(
        status=Status.REJECTED, messages=messages, claim_token="", cost_basis=None
    ):
        # Never booked: what it reserved is released, and rows that took from its lot with it.
        lots_release(company=run.company, txn=run.txn, never_booked=True)
    return _finish(run, Outcome.REJECTED, messages=messages)


@transaction.atomic
def _mark_failed(run: _Run, messages: list[str]) -> str:
    Transaction.objects.filter(_mine(run)).update(
        status=Status.FAILED, messages=messages, claim_token=""
    )
    return _finish(run, Outcome.FAILED, messages=messages)


def _release(run: _Run, outcome: str, message: str, *, countdown: float) -> BookingRetry:
    """Back to queued for a later run; returns the BookingRetry to raise."""
    retry_at = timezone.now() + timedelta(seconds=countdown)
    with transaction.atomic():
        Transaction.objects.filter(_mine(run)).update(
            status=Status.QUEUED, messages=[message], claim_token="", next_retry_at=retry_at
        )
        _finish(run, outcome, messages=[message])
    return BookingRetry(message, countdown=countdown)


# ---- looking up ------------------------------------------------------------------------------


def _lookup(run: _Run, *, thorough: bool) -> Voucher | None:
    """Our voucher if Tripletex has it: by external number; thorough = the date's lists too,
    the vouchers waiting for approval included (whatever the posting mode is now: it may have
    changed since the POST whose outcome is unclear)."""
    assert run.client is not None
    number = run.txn.external_voucher_number
    found = list(run.client.vouchers_by_external_number(number))
    if not found and thorough:
        day, next_day = run.txn.trade_date, run.txn.trade_date + timedelta(days=1)
        found = [
            v
            for v in run.client.vouchers_between(date_from=day, date_to=next_day)
            if v.external_voucher_number == number
        ]
        if not found:
            found = [
                v
                for v in run.client.vouchers_non_posted(date_from=day, date_to=next_day)
                if v.external_voucher_number == number
            ]
    found = [v for v in found if v.external_voucher_number == number]
    if len(found) > 1:
        # Should never happen through us; keep the oldest and say so loudly.
        logger.error("Duplicate Tripletex vouchers for %s: %s", number, [v.id for v in found])
    return min(found, key=lambda v: v.id) if found else None


# ---- the protocol ----------------------------------------------------------------------------


def _gl_settings(txn: Transaction) -> GLAccountSettings:
    # Loaded with the row (select_related) when the company has settings: one query less.
    try:
        return txn.company.gl_settings
    except GLAccountSettings.DoesNotExist:
        return gl_settings_get(company=txn.company)


def _preflight(run: _Run) -> tuple[VoucherPayload | None, list[str]]:
    """The payload, or a list of plain-language problems (rejected before Tripletex)."""
    txn, company = run.txn, run.company
    assert run.client is not None
    try:
        cost = transaction_cost(company=company, txn=txn)
        share = inside_share_for(company=company, txn=txn)
        lines = build_lines(txn=txn, gl=_gl_settings(txn), cost=cost, inside_share=share)
    except (FifoError, VoucherBuildError) as exc:
        return None, [str(exc)]
    if period_is_closed(company=company, client=run.client, day=txn.trade_date):
        return None, [
            _(
                "The accounting period of %(date)s is closed in Tripletex. Change the date to one "
                "in an open period (or ask the accountant to reopen it) and book again."
            )
            % {"date": txn.trade_date.isoformat()}
        ]
    chart = chart_for_booking(
        company=company, client=run.client, numbers={line.account_number for line in lines}
    )
    refs = booking_references(company=company, client=run.client, lines=lines)
    try:
        return voucher_payload(txn=txn, lines=lines, chart=chart, refs=refs), []
    except VoucherBuildError as exc:
        return None, [str(exc)]


def _wait_for_lots(run: _Run) -> None:
    """Release the row (BookingRetry) while a purchase it takes its lots from is not booked: a
    sale's voucher never credits the securities account with a cost that was never debited."""
    if waiting := lots_waiting_for(company=run.company, txn=run.txn):
        raise _release(run, Outcome.WAITING, waiting_message(waiting[0]), countdown=10)


def _wait_until_settled(run: _Run, posted_before: datetime) -> None:
    """Release the row (BookingRetry) while an earlier POST may still land in Tripletex."""
    wait = (_deadline(run, posted_before) - timezone.now()).total_seconds()
    if wait > 0:
        raise _release(
            run,
            Outcome.WAITING,
            _("Checking whether Tripletex stored the voucher; looking again shortly."),
            countdown=wait,
        )


def _protocol(run: _Run) -> str:
    txn = run.txn
    assert run.client is not None
    posted_before = txn.last_post_at
    found = _lookup(run, thorough=posted_before is not None)
    if found is not None:
        return _mark_booked(run, found, Outcome.ALREADY_BOOKED)
    if posted_before is not None:
        _wait_until_settled(run, posted_before)
    _wait_for_lots(run)
    payload, problems = _preflight(run)
    if payload is None:
        return _mark_rejected(run, problems)
    # Renew the lease right before posting: the resolver leaves a fresh lease alone, and a
    # worker that lost its claim must not post. Each HTTP send then stamps `last_post_at`.
    if not Transaction.objects.filter(_mine(run)).update(lease_at=timezone.now()):
        return _finish(run, Outcome.LOST_CLAIM)
    try:
        voucher = run.client.voucher_create(
            payload,
            send_to_ledger=_gl_settings(txn).send_to_ledger,
            on_send=lambda: _stamp_send(run),
        )
    except ClaimLost:
        # Stopped before a send; any earlier send of this call was refused (401/429).
        return _finish(run, Outcome.LOST_CLAIM)
    except TripletexValidationError as exc:
        run.request_ids.append(exc.request_id or "")
        forget_reference_data(company=run.company)
        _restore_last_post(run, posted_before)
        return _mark_rejected(run, plain_messages(exc, txn))
    except TripletexForbidden as exc:
        run.request_ids.append(exc.request_id or "")
        _restore_last_post(run, posted_before)
        return _mark_rejected(run, [forbidden_message()])
    except TripletexRateLimited as exc:
        # Refused before anything happened: the voucher cannot exist.
        run.request_ids.append(exc.request_id or "")
        _restore_last_post(run, posted_before)
        raise _release(
            run, Outcome.RETRY, _("Tripletex is busy (rate limit); will retry."), countdown=30
        ) from None
    except (TripletexOutcomeUnknown, TripletexUnavailable, TripletexError) as exc:
        if isinstance(exc, TripletexAuthError):
            raise
        run.request_ids.append(exc.request_id or "")
        if isinstance(exc, TripletexUnavailable) and not isinstance(exc, TripletexOutcomeUnknown):
            # The connection never opened (client's own verdict): nothing reached Tripletex.
            _restore_last_post(run, posted_before)
            raise _release(
                run, Outcome.RETRY, _("Tripletex could not be reached; will retry."), countdown=10
            ) from None
        return _after_unknown(run, exc)
    return _mark_booked(run, voucher, Outcome.BOOKED)


class ClaimLost(Exception):
    """Raised from the send callback: another process holds the row now, so this one must not
    send its POST."""


def _deadline(run: _Run, last_send: datetime) -> datetime:
    assert run.client is not None
    return settle_deadline(last_send, timeout=run.client.timeout, settle=settle_seconds())


def _stamp_send(run: _Run) -> None:
    """Called by the client immediately before each HTTP send of the POST: renew the lease and
    stamp `last_post_at` (committed at once), or stop the send if the claim is gone."""
    now = timezone.now()
    if not Transaction.objects.filter(_mine(run)).update(lease_at=now, last_post_at=now):
        raise ClaimLost
    run.attempt.posted = True


def _restore_last_post(run: _Run, value: datetime | None) -> None:
    Transaction.objects.filter(_mine(run)).update(last_post_at=value)


def _after_unknown(run: _Run, exc: TripletexError) -> str:
    """A POST that may have been applied: look again; never post again on a fresh "not found"."""
    logger.warning("Voucher %s: unclear outcome (%s)", run.txn.external_voucher_number, exc)
    try:
        found = _lookup(run, thorough=True)
    except TripletexUnavailable:
        found = None
    if found is not None:
        return _mark_booked(run, found, Outcome.BOOKED)
    last_send = Transaction.objects.filter(pk=run.txn.pk).values_list("last_post_at", flat=True)
    stamp = last_send.first() or timezone.now()
    raise _release(
        run,
        Outcome.UNKNOWN,
        _("Tripletex did not confirm the voucher; checking again before anything is resent."),
        countdown=(_deadline(run, stamp) - timezone.now()).total_seconds(),
    )


def _start(*, company: Company, transaction_id: int, stale: bool, action: str) -> _Run | None:
    """Claim the row and open its attempt log in one commit; None when someone else has it."""
    with transaction.atomic():
        token = _claim(company=company, transaction_id=transaction_id, stale=stale)
        if token is None:
            return None
        txn = Transaction.objects.select_related("company__gl_settings").get(
            company=company, pk=transaction_id
        )
        attempt = BookingAttempt.objects.create(
            company=company,
            transaction=txn,
            attempt=txn.attempts,
            action=action,
            external_voucher_number=txn.external_voucher_number,
        )
    return _Run(company=company, txn=txn, token=token, attempt=attempt)


def _run_claimed(run: _Run, client: TripletexClient | None = None) -> str:
    """Run the protocol for a claimed row, turning every error into an ending."""
    try:
        run.use_client(client or tripletex_client_for(run.company))
    except ConnectionUnavailable as exc:
        return _mark_failed(run, [str(exc)])
    try:
        return _protocol(run)
    except TripletexAuthError as exc:
        run.request_ids.append(exc.request_id or "")
        return _mark_failed(
            run,
            [_("Tripletex no longer accepts the company's API key. Ask staff to reconnect it.")],
        )
    except TripletexForbidden as exc:
        run.request_ids.append(exc.request_id or "")
        return _mark_rejected(run, [forbidden_message()])
    except TripletexUnavailable as exc:
        # A lookup or reference read failed even after the client's own retries.
        run.request_ids.append(exc.request_id or "")
        raise _release(
            run, Outcome.RETRY, _("Tripletex did not answer; will retry."), countdown=15
        ) from None
    except TripletexError as exc:
        run.request_ids.append(exc.request_id or "")
        raise _release(
            run, Outcome.RETRY, _("Unexpected answer from Tripletex; will retry."), countdown=60
        ) from None


def booking_run(
    *, company: Company, transaction_id: int, client: TripletexClient | None = None
) -> str:
    """Book one queued transaction; safe to run twice. Raises BookingRetry when transient.

    `client` lets a batch reuse one Tripletex client for many rows."""
    run = _start(company=company, transaction_id=transaction_id, stale=False, action="book")
    return "not-queued" if run is None else _run_claimed(run, client)


def booking_resolve(*, company: Company, transaction_id: int) -> str:
    """Take over a row stuck in "booking" (its worker died) and finish it; lookup first."""
    run = _start(company=company, transaction_id=transaction_id, stale=True, action="resolve")
    return "not-stuck" if run is None else _run_claimed(run)


def booking_mark_failed(*, company: Company, transaction_id: int, reason: str) -> None:
    """Retries are used up: the queued row needs attention (booking again looks up first)."""
    Transaction.objects.filter(company=company, pk=transaction_id, status=Status.QUEUED).update(
        status=Status.FAILED, messages=[reason], next_retry_at=None
    )


# Retries of a booking task: at most MAX_RETRIES, never more than MAX_COUNTDOWN seconds apart
# (longer countdowns with acks_late on Redis collide with its visibility timeout).
MAX_RETRIES = 8
MAX_COUNTDOWN = 600.0


def retry_countdown(retries: int, at_least: float) -> float:
    """Seconds before retry number `retries` of a booking task (at least `at_least`, ≤ 10 min)."""
    return backoff(retries, base=10.0, cap=MAX_COUNTDOWN, at_least=at_least)


def bookings_book_batch(*, company: Company, transaction_ids: list[int]) -> dict[str, int]:
    """Book many queued transactions in order with one Tripletex client ("book all ready");
    counts per outcome.

    Each row is claimed on its own, so a row another worker has is skipped; a row that must
    wait (transient trouble, unclear outcome) continues in its own retrying task."""
    outcomes: dict[str, int] = {}
    try:
        client: TripletexClient | None = tripletex_client_for(company)
    except ConnectionUnavailable:
        client = None  # each row then ends as "needs attention" with the reason
    for transaction_id in transaction_ids:
        try:
            outcome = booking_run(company=company, transaction_id=transaction_id, client=client)
        except BookingRetry as exc:
            queue.enqueue(
                queue.BOOK_TRANSACTION,
                countdown=retry_countdown(0, exc.countdown),
                company_id=company.pk,
                transaction_id=transaction_id,
            )
            outcome = "retry"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def bookings_resolve_all_stuck(*, prompt: bool = False) -> list[str]:
    """Finish rows stuck in "booking" (worker died) and re-enqueue queued rows whose task was
    lost (see `bookings_stuck`); lookup first, so this never makes a second voucher."""
    outcomes = []
    for company_id, transaction_id, status in bookings_stuck(prompt=prompt):
        if status == Status.QUEUED:
            # The task claims the row in its own scope: nothing to load here (after an emptied
            # Redis the prompt sweep sends every queued row).
            queue.enqueue(
                queue.BOOK_TRANSACTION, company_id=company_id, transaction_id=transaction_id
            )
            outcomes.append("requeued")
            continue
        company = company_for_task(company_id)
        with scope(company=company):
            try:
                outcomes.append(booking_resolve(company=company, transaction_id=transaction_id))
            except BookingRetry:
                queue.enqueue(
                    queue.BOOK_TRANSACTION,
                    countdown=30,
                    company_id=company_id,
                    transaction_id=transaction_id,
                )
                outcomes.append("retry")
    return outcomes


def bookings_stuck(*, prompt: bool = False) -> list[tuple[int, int, str]]:
    """(company id, transaction id, status) of rows stuck in booking, or queued with no task.

    A queued row counts as lost once it has waited BOOKING_STUCK_SECONDS past its queueing (or
    its retry time). `prompt` is the sweep run when a worker connects to the broker: a Redis that
    was down or restarted empty has no task for rows queued before, so every queued row whose
    retry is due counts at once (a row whose task does exist is claimed by one run only; the
    other finds it no longer queued). Rows stuck in booking always need an old lease: a live
    worker may be posting."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=stuck_seconds())
    lost_before = now if prompt else cutoff
    with scopes_disabled():
        stuck = Transaction.objects.filter(status=Status.BOOKING, lease_at__lt=cutoff)
        lost = (
            Transaction.objects.filter(status=Status.QUEUED, queued_at__lte=lost_before)
            .filter(Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=lost_before))
            .order_by("trade_date", "pk")
        )
        return [(t.company_id, t.pk, t.status) for t in [*stuck, *lost]]

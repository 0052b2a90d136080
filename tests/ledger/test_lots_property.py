"""A property of the holdings ledger: for random sequences of purchases, sales, repayments,
rejections and reversals, recorded and booked through the real services and booking protocol
(Tripletex replaced by a recorder that keeps what each voucher posted), the holdings' cost always
equals what the booked vouchers (less their reversals) posted on the securities account, and no
sale or repayment ever takes more than was bought."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.booking import reversal as reversal_module
from ledger.booking.protocol import BookingRetry, BookingStateError, booking_queue, booking_run
from ledger.booking.reversal import booking_reverse
from ledger.holdings.selectors import positions, securities_cost_total
from ledger.models import GLAccountSettings, Lot, LotUse, Transaction
from ledger.transactions.services import TransactionInvalid, transaction_create
from ledger.transactions.vouchers import gl_settings_get
from tests.ledger.support import purchase_data
from tripletex.client import ClientStats
from tripletex.errors import TripletexValidationError, ValidationMessage
from tripletex.schemas import Account, Voucher

pytestmark = pytest.mark.django_db
D = Decimal
ACCOUNT_ID = 500_000  # Tripletex's id of account n is ACCOUNT_ID + n here


class RecordingTripletex:
    """Just enough of TripletexClient for booking and reversing: every period open, a chart with
    every account the firm's GL settings name, no voucher found by lookups; a POST is stored (or
    refused with a 422 when `refuse_next`), a reversal stores the negated postings."""

    timeout = (0.0, 0.0)

    def __init__(self, numbers: set[int]) -> None:
        self.stats = ClientStats()
        self.numbers = numbers
        self.refuse_next = False
        self.vouchers: dict[int, Voucher] = {}
        self.posted: dict[int, dict[int, Decimal]] = {}  # voucher id → {account: amount}
        self.reversed_by: dict[int, int] = {}

    def accounts(self):
        return [
            Account(
                id=ACCOUNT_ID + n,
                number=n,
                name=f"Konto {n}",
                type="ASSETS" if n < 3000 else "OPERATING_REVENUES",
                is_inactive=False,
                vat_locked=False,
                vat_type_id=None,
                requires_department=False,
                requires_project=False,
                ledger_type="GENERAL",
                is_balance_account=n < 3000,
            )
            for n in sorted(self.numbers)
        ]

    def accounting_periods(self, *, start_from: date, start_to: date):
        return [SimpleNamespace(start=start_from, end=start_to, is_closed=False)]

    def vouchers_by_external_number(self, number: str):
        return []

    def vouchers_between(self, **kwargs):
        return []

    def vouchers_non_posted(self, **kwargs):
        return []

    def _store(self, day: date, number: str, lines: dict[int, Decimal]) -> Voucher:
        voucher_id = len(self.vouchers) + 1
        voucher = Voucher(
            id=voucher_id,
            number=voucher_id,
            year=day.year,
            date=day,
            description="",
            external_voucher_number=number,
            version=0,
            reverse_voucher_id=None,
            postings=(),
        )
        self.vouchers[voucher_id] = voucher
        self.posted[voucher_id] = lines
        return voucher

    def voucher_create(self, payload, *, send_to_ledger: bool, on_send):
        on_send()
        if self.refuse_next:
            self.refuse_next = False
            raise TripletexValidationError(
                "Validering feilet.",
                status=422,
                validation_messages=(ValidationMessage("postings", "Refused."),),
            )
        lines: dict[int, Decimal] = {}
        for posting in payload.postings:
            number = posting.account_id - ACCOUNT_ID
            lines[number] = lines.get(number, D(0)) + posting.amount_gross
        return self._store(payload.date, payload.external_voucher_number, lines)

    def voucher_reverse(self, voucher_id: int, *, date: date, on_send):
        on_send()
        original = self.posted[voucher_id]
        reversal = self._store(date, "", {n: -amount for n, amount in original.items()})
        self.reversed_by[voucher_id] = reversal.id
        return reversal

    def voucher_get(self, voucher_id: int) -> Voucher:
        return self.vouchers[voucher_id]

    def securities_total(self, account: int) -> Decimal:
        """What every voucher (reversals included) posted on `account`."""
        return sum((lines.get(account, D(0)) for lines in self.posted.values()), D(0))


OPERATION = st.tuples(
    st.sampled_from(["purchase", "purchase", "sale", "sale", "sale", "repayment", "reverse"]),
    st.integers(min_value=0, max_value=20),  # day
    st.integers(min_value=1, max_value=60),  # units
    st.integers(min_value=1, max_value=900_000),  # øre
    st.booleans(),  # Tripletex refuses the voucher
)
BASE = timezone.localdate() - timedelta(days=40)


def _record(company, kind: str, day: int, units: int, ore: int) -> Transaction | None:
    if kind == "sale":
        units = units % 15 + 1  # small sales, so that many of them are held
    data = purchase_data(
        kind=kind,
        trade_date=BASE + timedelta(days=day),
        quantity=D(units) if kind != "repayment" else None,
        amount=D(ore) / 100,
        fees=D("0.00"),
    )
    try:
        return transaction_create(company=company, data=data, by=None)
    except TransactionInvalid:
        return None  # not held on that date, or it would change a booked row's cost


def _book(company, fake: RecordingTripletex, txn: Transaction, refuse: bool) -> None:
    counts = booking_queue(company=company, transaction_ids=[txn.pk], enqueue=False)
    if not counts["queued"]:
        return
    fake.refuse_next = refuse
    try:
        booking_run(company=company, transaction_id=txn.pk, client=fake)  # type: ignore[arg-type]
    except BookingRetry:
        pytest.fail("a row waited although every earlier row was booked or rejected")
    fake.refuse_next = False
    event(f"{txn.kind} {Transaction.objects.get(pk=txn.pk).status}")


def _reverse(company, pick: int) -> None:
    booked = list(Transaction.objects.filter(company=company, status="booked").order_by("pk"))
    if not booked:
        return
    txn = booked[pick % len(booked)]
    try:
        booking_reverse(company=company, txn=txn, on=txn.trade_date, by=None)
        event(f"{txn.kind} reversed")
    except BookingStateError:
        event(f"{txn.kind} reversal refused")  # a later row took from it: reverse that first


def _check_invariants(company, fake: RecordingTripletex, gl: GLAccountSettings) -> None:
    # The ledger's cost is what the vouchers left on the securities account.
    assert securities_cost_total(company=company) == fake.securities_total(gl.securities)
    assert sum((p.cost for p in positions(company=company)), D("0.00")) == securities_cost_total(
        company=company
    )
    # Only booked rows hold lots here (every row ends booked or rejected before the next).
    held = Transaction.objects.filter(company=company, lots__isnull=False).values_list(
        "status", flat=True
    )
    assert set(held) <= {"booked"}
    for lot in Lot.objects.filter(company=company):
        used = lot.uses.aggregate(q=Sum("quantity"), c=Sum("cost"))
        assert (used["q"] or 0) <= lot.quantity
        assert (used["c"] or 0) <= lot.cost
    for sale in Transaction.objects.filter(company=company, kind="sale", status="booked"):
        uses = LotUse.objects.filter(transaction=sale).aggregate(q=Sum("quantity"), c=Sum("cost"))
        assert uses["q"] == sale.quantity
        assert uses["c"] == sale.cost_basis


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATION, min_size=1, max_size=12))
def test_holdings_cost_always_equals_the_booked_securities_postings(
    acme, local_cache, monkeypatch, operations
):
    with scope(company=acme):
        Transaction.objects.filter(company=acme).delete()
        gl = gl_settings_get(company=acme)
        numbers = {int(getattr(gl, role)) for role in GLAccountSettings.ROLES if getattr(gl, role)}
        fake = RecordingTripletex(numbers)
        monkeypatch.setattr(reversal_module, "tripletex_client_for", lambda company: fake)
        for kind, day, units, ore, refuse in operations:
            if kind == "reverse":
                _reverse(acme, units)
            elif (txn := _record(acme, kind, day, units, ore)) is not None:
                _book(acme, fake, txn, refuse)
            _check_invariants(acme, fake, gl)

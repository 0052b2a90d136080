"""Recording transactions (services) and reading them back for pages (selectors).

A transaction is editable while nothing of it is in Tripletex (draft, ready, rejected) and after
its voucher was reversed; saving a reversed one starts a new booking round with a new external
voucher number, so the reversed voucher can never be mistaken for the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Context, Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Field, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.accounts import ACCOUNT_NUMBERS
from ledger.models import (
    AWAITING_APPROVAL,
    BookingAttempt,
    GLAccountSettings,
    JournalLine,
    Transaction,
)
from ledger.templatetags.money import format_amount
from ledger.transactions.checks import (
    Reference,
    column_problems,
    entry_problems,
    reference_stored,
)
from ledger.transactions.fifo import FifoError, fifo_check

Status = Transaction.Status

SECURITIES_FIELDS = (
    "kind",
    "trade_date",
    "settlement_date",
    "description",
    "instrument_name",
    "isin",
    "quantity",
    "price",
    "amount",
    "fees",
    "currency",
    "amount_currency",
    # A currency exchange's bought side (Transaction.Kind.CURRENCY_EXCHANGE).
    "to_currency",
    "to_amount_currency",
    "to_instrument_name",
    "to_isin",
    "to_quantity",
    "settle_via",
    "note",
)
LINE_FIELDS = (
    "account_number",
    "debit",
    "credit",
    "description",
    "department_number",
    "project_number",
    "vat_code",
)


class TransactionInvalid(Exception):
    """The transaction cannot be saved; `messages` are for the user."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def _apply(txn: Transaction, data: dict[str, Any]) -> None:
    for name in SECURITIES_FIELDS:
        if name in data:
            value = data[name]
            if value is None and name in ("fees",):
                value = Decimal("0.00")
            if value is None and name in ("currency",):
                value = "NOK"
            setattr(txn, name, "" if value is None and _is_text(name) else value)


def transaction_unsaved(*, company: Company, data: dict[str, Any]) -> Transaction:
    """A transaction built from form or CSV values as transaction_create would build it, not
    saved (for checks that look at many rows before any is stored)."""
    txn = Transaction(company=company)
    _apply(txn, data)
    return txn


def _is_text(name: str) -> bool:
    field = Transaction._meta.get_field(name)
    # SECURITIES_FIELDS are the model's own columns, never a relation's reverse side.
    assert isinstance(field, Field)
    return field.get_internal_type() in ("CharField", "TextField")


def journal_lines_unsaved(company: Company, lines: list[dict[str, Any]]) -> list[JournalLine]:
    """A journal entry's lines as unsaved rows numbered from 1 (missing amounts 0, texts '')."""
    return [
        JournalLine(
            company=company,
            row=i,
            **{
                k: (line.get(k) if line.get(k) is not None else _line_default(k))
                for k in LINE_FIELDS
            },
        )
        for i, line in enumerate(lines, start=1)
    ]


def _save_lines(company: Company, txn: Transaction, lines: list[dict[str, Any]]) -> None:
    JournalLine.objects.filter(transaction=txn).delete()
    rows = journal_lines_unsaved(company, lines)
    for row in rows:
        row.transaction = txn
    JournalLine.objects.bulk_create(rows)


def _size_check(
    company: Company, txn: Transaction, data: dict[str, Any], lines: list[dict[str, Any]] | None
) -> None:
    """Raise TransactionInvalid when a value does not fit its column (checks.column_problems)."""
    problems = column_problems(txn, [name for name in SECURITIES_FIELDS if name in data])
    if txn.kind == Transaction.Kind.JOURNAL:
        for row in journal_lines_unsaved(company, lines or []):
            problems += [
                _("Journal line %(row)s: %(problem)s") % {"row": row.row, "problem": problem}
                for problem in column_problems(row, LINE_FIELDS)
            ]
    if problems:
        raise TransactionInvalid(problems)


def _line_default(name: str) -> Any:
    return Decimal("0.00") if name in ("debit", "credit") else ""


def _entry_check(
    company: Company,
    txn: Transaction,
    lines: list[dict[str, Any]] | None,
    reference: Reference | None,
    gl: GLAccountSettings | None = None,
) -> None:
    """Raise TransactionInvalid for what Tripletex would refuse: the date (absurd, or outside an
    open period) and the accounts (missing or inactive), against the firm's synced chart and
    periods (ledger/transactions/checks.py). `reference`: what the caller loaded (and refreshed
    from Tripletex); without it, the stored rows as they are."""
    ref = reference if reference is not None else reference_stored(company=company)
    accounts = [line.get("account_number") for line in lines or []]
    if problems := entry_problems(company=company, txn=txn, line_accounts=accounts, ref=ref, gl=gl):
        raise TransactionInvalid(problems)


def _check(
    company: Company, txn: Transaction, lines: list[dict[str, Any]] | None, *, fifo: bool = True
) -> None:
    if txn.kind == Transaction.Kind.JOURNAL:
        debit = sum((Decimal(line.get("debit") or 0) for line in lines or []), Decimal(0))
        credit = sum((Decimal(line.get("credit") or 0) for line in lines or []), Decimal(0))
        if len(lines or []) < 2:
            raise TransactionInvalid([_("A journal entry needs at least two lines.")])
        if debit != credit:
            raise TransactionInvalid(
                [
                    _("Debit and credit must be equal (they differ by %(diff)s).")
                    % {"diff": format_amount(abs(debit - credit))}
                ]
            )
        return
    if not fifo:
        return
    try:
        # Over the firm's history in date order; refuses a change to a booked sale's cost.
        fifo_check(company=company, txn=txn)
    except FifoError as exc:
        raise TransactionInvalid([str(exc)]) from exc


def transaction_check(
    *,
    company: Company,
    txn: Transaction,
    data: dict[str, Any],
    lines: list[dict[str, Any]] | None,
    reference: Reference | None,
    gl: GLAccountSettings | None = None,
    fifo: bool = True,
) -> None:
    """The checks transaction_create makes before it saves `txn` (built from `data`): what fits
    the columns, then what Tripletex would refuse, then a journal entry's balance and (`fifo`)
    FIFO over the firm's history. Raises TransactionInvalid with the first group's problems.
    `gl`: the firm's GL settings when the caller has them (many rows checked at once)."""
    _size_check(company, txn, data, lines)
    _entry_check(company, txn, lines, reference, gl)
    _check(company, txn, lines, fifo=fifo)


@transaction.atomic
def transaction_create(
    *,
    company: Company,
    data: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    by: User | None,
    source: str = Transaction.Source.FORM,
    reference: Reference | None = None,
    fifo_checked: bool = False,
) -> Transaction:
    """Record a transaction as ready to book. Raises TransactionInvalid (nothing saved).
    `reference`: the firm's chart and periods to check against (checks.reference_load).
    `fifo_checked`: the caller checked FIFO for a whole batch in one walk (the CSV import,
    fifo.fifo_verdict), so this row is not walked again on its own."""
    txn = Transaction(company=company, created_by=by if by and by.pk else None, source=source)
    _apply(txn, data)
    transaction_check(
        company=company, txn=txn, data=data, lines=lines, reference=reference, fifo=not fifo_checked
    )
    txn.status = Status.READY
    txn.save()
    txn.external_voucher_number = txn.external_number_for_round(1)
    txn.save(update_fields=["external_voucher_number"])
    if txn.kind == Transaction.Kind.JOURNAL:
        _save_lines(company, txn, lines or [])
    return txn


@transaction.atomic
def transaction_update(
    *,
    company: Company,
    txn: Transaction,
    data: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    reference: Reference | None = None,
) -> Transaction:
    """Change an unbooked (or reversed) transaction; it is ready to book again afterwards."""
    locked = Transaction.objects.select_for_update().get(company=company, pk=txn.pk)
    if not locked.is_editable:
        raise TransactionInvalid(
            [
                _("This transaction is %(status)s and cannot be changed.")
                % {"status": locked.get_status_display()}
            ]
        )
    _apply(locked, data)
    _size_check(company, locked, data, lines)
    _entry_check(company, locked, lines, reference)
    _check(company, locked, lines)
    if locked.status == Status.REVERSED:
        # A new booking round: a new key, and nothing of the reversed voucher carries over.
        locked.booking_round += 1
        locked.external_voucher_number = locked.external_number_for_round(locked.booking_round)
        locked.tripletex_voucher_id = locked.voucher_number = locked.voucher_year = None
        locked.booked_at = locked.last_post_at = None
    # Otherwise last_post_at stays: if an earlier POST's outcome was never settled, the next
    # booking still looks thoroughly before it posts.
    locked.status = Status.READY
    locked.messages, locked.cost_basis = [], None
    locked.save()
    if locked.kind == Transaction.Kind.JOURNAL:
        _save_lines(company, locked, lines or [])
    return locked


@transaction.atomic
def transaction_delete(*, company: Company, txn: Transaction) -> None:
    """Delete a transaction that never reached Tripletex. Raises TransactionInvalid otherwise."""
    locked = Transaction.objects.select_for_update().get(company=company, pk=txn.pk)
    # A row that ever started a POST (or was reversed) keeps its history: Tripletex may know it.
    never_sent = locked.last_post_at is None and not locked.reversals.exists()
    if locked.status not in (Status.DRAFT, Status.READY, Status.REJECTED) or not never_sent:
        raise TransactionInvalid([_("Only a transaction that was never booked can be deleted.")])
    locked.delete()


# ---- selectors -------------------------------------------------------------------------------


def transactions_list(*, company: Company, status: str = "") -> QuerySet[Transaction]:
    """The company's transactions, newest first, optionally of one status group."""
    rows = Transaction.objects.filter(company=company)
    groups = {
        "waiting": [Status.READY, Status.QUEUED, Status.BOOKING],
        "failed": [Status.REJECTED, Status.FAILED],
        "booked": [Status.BOOKED],
        "reversed": [Status.REVERSED],
    }
    if status in groups:
        rows = rows.filter(status__in=groups[status])
    elif status == "approval":
        rows = rows.filter(AWAITING_APPROVAL)
    return rows.order_by("-trade_date", "-pk")


def transactions_held_back(*, company: Company, ids: list[int]) -> list[Transaction]:
    """Of the transactions `ids`, those rejected before or by Tripletex (held back, each with
    its reasons in `messages`), oldest first; others' ids are silently left out."""
    rows = Transaction.objects.filter(company=company, pk__in=ids[:10_000], status=Status.REJECTED)
    return list(rows.order_by("trade_date", "pk"))


def transaction_get(*, company: Company, pk: int) -> Transaction:
    """One transaction of the company (Transaction.DoesNotExist otherwise)."""
    return Transaction.objects.get(company=company, pk=pk)


def transaction_counts(*, company: Company) -> dict[str, int]:
    """How many transactions wait to be booked, failed (rejected or needs attention), are booked,
    and of those wait for approval in Tripletex."""
    counts = Transaction.objects.filter(company=company).aggregate(
        waiting=Count("pk", filter=Q(status__in=Transaction.WAITING)),
        failed=Count("pk", filter=Q(status__in=[Status.REJECTED, Status.FAILED])),
        ready=Count("pk", filter=Q(status=Status.READY)),
        booked=Count("pk", filter=Q(status=Status.BOOKED)),
        awaiting_approval=Count("pk", filter=AWAITING_APPROVAL),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def booking_attempts(*, company: Company, txn: Transaction) -> QuerySet[BookingAttempt]:
    """The booking log of one transaction, newest first."""
    return BookingAttempt.objects.filter(company=company, transaction=txn).order_by("-pk")


def voucher_web_url(*, company: Company, voucher_id: int | None) -> str:
    """A link that opens the voucher in Tripletex's web UI ('' without a voucher)."""
    if not voucher_id:
        return ""
    query: dict[str, Any] = {"voucherId": voucher_id}
    connection = getattr(company, "tripletex", None)
    if connection is not None and connection.basic_auth_company_id:
        query["contextId"] = connection.basic_auth_company_id
    return f"{settings.TRIPLETEX_WEB_URL}/execute/voucher?{urlencode(query)}"


STATUS_BADGE: dict[str, str] = {
    Status.DRAFT: "",
    Status.READY: "",
    Status.QUEUED: "warn",
    Status.BOOKING: "warn",
    Status.BOOKED: "ok",
    Status.REJECTED: "bad",
    Status.FAILED: "bad",
    Status.REVERSED: "",
}


@dataclass(frozen=True)
class StatusRow:
    """What the live status poll needs about one transaction."""

    id: int
    status: str
    label: str
    badge: str
    voucher: str
    voucher_url: str
    messages: list[str]
    retrying: bool

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def status_label(txn: Transaction) -> str:
    """The badge text: queued rows waiting for a retry, and vouchers waiting for approval, say so."""
    if txn.status == Status.QUEUED and txn.next_retry_at:
        return _("Failed, will retry")
    if txn.is_awaiting_approval:
        return _("Awaiting approval in Tripletex")
    return str(txn.get_status_display())


def status_badge(txn: Transaction) -> str:
    """The badge colour: a voucher that waits for approval is not done yet."""
    return "warn" if txn.is_awaiting_approval else STATUS_BADGE.get(txn.status, "")


def voucher_text(txn: Transaction) -> str:
    """'12/2025' for a voucher in the ledger, 'temp. no. 3' for one waiting for approval."""
    if txn.voucher_number:
        return f"{txn.voucher_number}/{txn.voucher_year}"
    if txn.is_awaiting_approval and txn.voucher_temp_number:
        return _("temp. no. %(number)s") % {"number": txn.voucher_temp_number}
    return ""


def transactions_status(*, company: Company, ids: list[int]) -> list[StatusRow]:
    """Live status of the given transactions (others' ids are silently left out)."""
    rows = Transaction.objects.filter(company=company, pk__in=ids[:500])
    return [
        StatusRow(
            id=t.pk,
            status=t.status,
            label=status_label(t),
            badge=status_badge(t),
            voucher=voucher_text(t),
            voucher_url=voucher_web_url(company=company, voucher_id=t.tripletex_voucher_id)
            if t.status == Status.BOOKED
            else "",
            messages=list(t.messages or []),
            retrying=bool(t.status == Status.QUEUED and t.next_retry_at),
        )
        for t in rows
    ]


def booking_panel_data(*, company: Company) -> dict[str, Any]:
    """The firm page panel: counts and the latest rows that wait or failed."""
    counts = transaction_counts(company=company)
    attention = Transaction.objects.filter(
        company=company, status__in=[*Transaction.WAITING, Status.REJECTED, Status.FAILED]
    ).order_by("-updated_at")[:5]
    recent_cutoff = timezone.now() - timedelta(days=30)
    counts["booked_30d"] = Transaction.objects.filter(
        company=company, status=Status.BOOKED, booked_at__gte=recent_cutoff
    ).count()
    return {"counts": counts, "rows": list(attention)}


# ---- validation shared by the form and the CSV import -----------------------------------------

NEEDS_INSTRUMENT = {"purchase", "sale", "dividend", "repayment", "fund_switch"}
NEEDS_QUANTITY = {"purchase", "sale", "fund_switch"}


def securities_problems(data: dict[str, Any]) -> dict[str, str]:
    """Field → problem for a securities transaction; empty when fine."""
    kind = data.get("kind") or ""
    if kind not in Transaction.Kind.values or kind == Transaction.Kind.JOURNAL:
        return {"kind": _("Unknown transaction type.")}
    problems = _instrument_problems(kind, data)
    problems.update(_amount_problems(kind, data))
    settle = data.get("settlement_date")
    if settle and data.get("trade_date") and settle < data["trade_date"]:
        problems["settlement_date"] = _("The settlement date cannot be before the trade date.")
    return problems


def _instrument_problems(kind: str, data: dict[str, Any]) -> dict[str, str]:
    from stdnum import isin as stdnum_isin

    problems: dict[str, str] = {}
    for name in ("isin", "to_isin"):
        value = (data.get(name) or "").strip().upper()
        if value and not stdnum_isin.is_valid(value):
            problems[name] = _("%(isin)s is not a valid ISIN.") % {"isin": value}
    if kind in NEEDS_INSTRUMENT and not (data.get("instrument_name") or data.get("isin")):
        problems["instrument_name"] = _("Name the instrument (or give its ISIN).")
    if kind in NEEDS_QUANTITY and not (data.get("quantity") and data["quantity"] > 0):
        problems["quantity"] = _("The quantity must be above zero.")
    if kind == "fund_switch":
        if not (data.get("to_instrument_name") or data.get("to_isin")):
            problems["to_instrument_name"] = _("Name the fund switched into.")
        if not (data.get("to_quantity") and data["to_quantity"] > 0):
            problems["to_quantity"] = _("The quantity switched into must be above zero.")
    return problems


def _amount_problems(kind: str, data: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    two_decimals = _("Amounts can have at most two decimals (øre).")
    amount = data.get("amount")
    if amount is None or amount <= 0:
        problems["amount"] = _("The amount (NOK) must be above zero.")
    elif not _whole_ore(amount):
        problems["amount"] = two_decimals
    fees = data.get("fees") or Decimal(0)
    if fees < 0:
        problems["fees"] = _("Fees cannot be negative.")
    elif not _whole_ore(fees):
        problems["fees"] = two_decimals
    elif kind == "sale" and amount and fees > amount:
        problems["fees"] = _("Fees cannot exceed the sale amount.")
    currency = (data.get("currency") or "NOK").upper()
    if len(currency) != 3 or not currency.isalpha():
        problems["currency"] = _("Use a three-letter currency code such as NOK, USD or EUR.")
    elif currency != "NOK" and not data.get("amount_currency"):
        problems["amount_currency"] = _(
            "For a foreign currency, state the amount in that currency as well as in NOK."
        )
    return problems


def _whole_ore(value: Decimal) -> bool:
    """Whether `value` has no more than two decimals (1,10 and 1,100 alike). Compared in a context
    wide enough for any number typed: the default 28 digits would raise InvalidOperation (a 500)
    on a 30-digit amount, which the column check then refuses with a message."""
    context = Context(prec=max(28, value.adjusted() + 4))
    return value == value.quantize(Decimal("0.01"), context=context)


def journal_line_problems(line: dict[str, Any]) -> list[str]:
    """Problems of one journal line (account, one of debit/credit, two decimals)."""
    problems = []
    number = line.get("account_number")
    if not number or int(number) not in ACCOUNT_NUMBERS:
        problems.append(_("Give an account number (e.g. 1920)."))
    debit, credit = line.get("debit") or Decimal(0), line.get("credit") or Decimal(0)
    if debit < 0 or credit < 0:
        problems.append(_("Debit and credit cannot be negative."))
    if bool(debit) == bool(credit):
        problems.append(_("Give either a debit or a credit amount on each line."))
    for value in (debit, credit):
        if not _whole_ore(value):
            problems.append(_("Amounts can have at most two decimals (øre)."))
            break
    return problems

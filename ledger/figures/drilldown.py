"""Drill-down: the postings behind one account-month, read from the postings the sync stored.

The page calls Tripletex only when asked to: it shows the postings as of the moment they were
pulled (PostingMonth), and "Refresh" pulls that month's postings again
(`ledger.sync.postings.postings_month_refresh`), which is also how a month of a firm synced by
monthly balances gets its postings. Vouchers that our product booked are marked as ours by their
Tripletex voucher id. Tripletex failures of a refresh become a plain-language message; no
traceback reaches the page.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from companies.credentials import ConnectionUnavailable
from companies.models import Company
from ledger.figures.layout import (
    BALANCE_ASSETS,
    BALANCE_EQUITY_LIABILITIES,
    COST,
    PNL_GROUPS,
    display_sign,
    group_of,
)
from ledger.figures.selectors import Dimensions, money
from ledger.models import AccountBalance, LedgerAccount, Posting, PostingMonth, Transaction
from ledger.periods import month_next
from ledger.sync.postings import postings_month_refresh
from tripletex.errors import (
    TripletexAuthError,
    TripletexError,
    TripletexForbidden,
    TripletexUnavailable,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


@dataclass(frozen=True)
class PostingRow:
    """One posting as the drill-down shows it."""

    date: datetime.date | None
    voucher_id: int | None
    voucher_number: int | None
    voucher_year: int | None
    description: str
    amount: Decimal
    voucher_url: str
    is_ours: bool

    @property
    def voucher_label(self) -> str:
        if self.voucher_number is None:
            return ""
        return (
            f"{self.voucher_number}-{self.voucher_year}"
            if self.voucher_year
            else str(self.voucher_number)
        )


@dataclass
class PostingsPage:
    """A page of the stored postings of one account-month, or the reason there is none.

    `as_of` is when the month's postings were pulled; None when they are not stored (yet)."""

    account_number: int
    account_name: str
    month: datetime.date
    page: int
    rows: list[PostingRow] = field(default_factory=list)
    has_next: bool = False
    error: str = ""
    synced_change: Decimal | None = None
    as_of: datetime.datetime | None = None
    is_raw: bool = True
    dimensions: Dimensions | None = None

    @property
    def page_total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def is_stored(self) -> bool:
        return self.as_of is not None


def voucher_url(*, company: Company, voucher_id: int) -> str:
    """A link that opens the voucher in Tripletex's web UI (office clients need their context id)."""
    query = {"voucherId": voucher_id}
    connection = getattr(company, "tripletex", None)
    if connection is not None and connection.basic_auth_company_id:
        query["contextId"] = connection.basic_auth_company_id
    return f"{settings.TRIPLETEX_WEB_URL}/execute/voucher?{urlencode(query)}"


def drill_sign(account_number: int, *, is_raw: bool) -> int:
    """The factor that shows an account's postings in the signs of the figures cell they came
    from: the sign of the account's P&L or balance-sheet group (`display_sign`)."""
    spec = group_of(account_number, (*PNL_GROUPS, *BALANCE_ASSETS, *BALANCE_EQUITY_LIABILITIES))
    return display_sign(spec.nature if spec else COST, is_raw)


def postings_for_account_month(
    *,
    company: Company,
    account_number: int,
    month: datetime.date,
    page: int = 1,
    is_raw: bool = True,
    dimensions: Dimensions | None = None,
) -> PostingsPage:
    """A page of the account's stored postings in [month, next month), marked ours or not, in
    Tripletex's signs (`is_raw`) or in the figures pages' display signs (the cell's sign); with
    `dimensions` only that department's or project's, as on the filtered P&L the link came from."""
    page = max(1, page)
    sign = drill_sign(account_number, is_raw=is_raw)
    account = LedgerAccount.objects.filter(company=company, number=account_number).first()
    synced = AccountBalance.objects.filter(
        company=company, account_number=account_number, month=month
    ).aggregate(change=Sum("balance_change"))["change"]
    stored = PostingMonth.objects.filter(company=company, month=month).first()
    result = PostingsPage(
        account_number=account_number,
        account_name=account.name if account else "",
        month=month,
        page=page,
        # The synced balances are the whole company's: no control figure for a filter.
        synced_change=None if synced is None or dimensions else money(synced) * sign,
        dimensions=dimensions,
        is_raw=is_raw,
        as_of=stored.synced_at if stored else None,
    )
    if account is None:
        result.error = _(
            "Account %(number)s is not in the synced chart of accounts. Sync the figures and try "
            "again."
        ) % {"number": account_number}
        return result
    start = (page - 1) * PAGE_SIZE
    # One row more than a page tells whether a next page exists, so the last page is never empty.
    postings = list(
        Posting.objects.filter(
            company=company,
            account_number=account_number,
            date__gte=month,
            date__lt=month_next(month),
            **(dimensions.lookups() if dimensions else {}),
        ).order_by("date", "tripletex_id")[start : start + PAGE_SIZE + 1]
    )
    ours = _our_voucher_ids(company, {p.voucher_id for p in postings if p.voucher_id})
    result.rows = [
        PostingRow(
            date=p.date,
            voucher_id=p.voucher_id,
            voucher_number=p.voucher_number,
            voucher_year=p.date.year,
            description=p.description,
            amount=p.amount * sign,
            voucher_url=voucher_url(company=company, voucher_id=p.voucher_id)
            if p.voucher_id
            else "",
            is_ours=p.voucher_id in ours,
        )
        for p in postings[:PAGE_SIZE]
    ]
    result.has_next = len(postings) > PAGE_SIZE
    return result


def postings_refresh(*, company: Company, month: datetime.date) -> str:
    """Pull the month's postings from Tripletex again; returns "" or the reason it failed."""
    try:
        postings_month_refresh(company=company, month=month)
    except ConnectionUnavailable as exc:
        return str(exc)
    except TripletexError as exc:
        logger.warning(
            "drill-down refresh failed for company %s month %s: %s (request id %s)",
            company.pk,
            f"{month:%Y-%m}",
            type(exc).__name__,
            exc.request_id,
        )
        return _error_message(exc)
    return ""


def _error_message(exc: TripletexError) -> str:
    if isinstance(exc, TripletexUnavailable):
        message = _("Tripletex did not answer in time. Try again in a minute.")
    elif isinstance(exc, TripletexAuthError | TripletexForbidden):
        message = _(
            "Tripletex refused our key for this company, or the key may not read postings. "
            "Ask an administrator to check the Tripletex connection."
        )
    else:
        message = _("Tripletex could not list the postings.")
    if exc.request_id:
        message += " " + _("Tripletex request id: %(id)s.") % {"id": exc.request_id}
    return message


def _our_voucher_ids(company: Company, voucher_ids: set[int]) -> set[int]:
    """The voucher ids among these that our product booked."""
    if not voucher_ids:
        return set()
    rows = Transaction.objects.filter(company=company, tripletex_voucher_id__in=voucher_ids)
    return {
        voucher_id
        for voucher_id in rows.values_list("tripletex_voucher_id", flat=True)
        if voucher_id
    }

"""Staff admin for transactions and bookings: read-only views of the booking state and log.

Booking state is changed only by the booking protocol; staff look, they do not edit (an edited
status could post a voucher twice)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from companies.admin_mixins import ReadOnlyAdminMixin
from companies.tenancy import UnscopedModelAdmin
from ledger.models import BookingAttempt, GLAccountSettings, Reversal, Transaction
from ledger.transactions.checks import (
    STORED_COLUMNS,
    column_problems,
    reference_stored,
    row_problems,
)


class _ReadOnly(ReadOnlyAdminMixin, UnscopedModelAdmin):
    """The booking records: written by the booking protocol only."""


class BookingAttemptInline(admin.TabularInline):
    model = BookingAttempt
    extra = 0
    can_delete = False
    fields = (
        "started_at",
        "attempt",
        "action_label",
        "outcome",
        "tripletex_calls",
        "request_ids",
        "messages",
    )
    readonly_fields = fields

    @admin.display(description=_("Action"))
    def action_label(self, obj: BookingAttempt) -> str:
        """In words, as on the transaction's page (not the stored "book")."""
        return obj.action_label

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(_ReadOnly):
    list_display = (
        "trade_date",
        "company",
        "kind",
        "instrument_name",
        "amount",
        "status",
        "external_voucher_number",
        "voucher_number",
        "voucher_year",
        "voucher_temp_number",
        "needs_correction",
    )
    list_filter = ("status", "kind")
    search_fields = ("external_voucher_number", "instrument_name", "isin", "description")
    readonly_fields = ("correction",)
    inlines = [BookingAttemptInline]

    @admin.display(boolean=True, description=_("needs correction"))
    def needs_correction(self, obj: Transaction) -> bool:
        """A value its column cannot hold (stored before the checks at entry): the list only
        looks at the row itself, the change page at the firm's chart and periods too."""
        return bool(column_problems(obj, STORED_COLUMNS))

    @admin.display(description=_("needs correction"))
    def correction(self, obj: Transaction) -> str:
        """Everything the firm would have to correct before booking (checks.row_problems)."""
        ref = reference_stored(company=obj.company)
        return " ".join(row_problems(company=obj.company, txn=obj, ref=ref)) or "—"


@admin.register(BookingAttempt)
class BookingAttemptAdmin(_ReadOnly):
    list_display = ("started_at", "company", "transaction", "attempt", "action", "outcome")
    list_filter = ("outcome", "action")
    search_fields = ("external_voucher_number",)


@admin.register(Reversal)
class ReversalAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "company",
        "transaction",
        "original_voucher_id",
        "reversal_voucher_id",
    )


@admin.register(GLAccountSettings)
class GLAccountSettingsAdmin(UnscopedModelAdmin):
    list_display = ("company", "bank", "securities", "profit", "loss", "dividend")

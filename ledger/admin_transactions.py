"""Staff admin for transactions and bookings: read-only views of the booking state and log.

Booking state is changed only by the booking protocol; staff look, they do not edit (an edited
status could post a voucher twice)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django_scopes import scopes_disabled

from ledger.models import BookingAttempt, GLAccountSettings, Reversal, Transaction


class _Unscoped(admin.ModelAdmin):
    """Staff see every company: admin views run (and render) without django-scopes."""

    def _unscoped(self, view: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        with scopes_disabled():
            response = view(*args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return self._unscoped(super().changelist_view, request, extra_context)

    def changeform_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().changeform_view, *args, **kwargs)

    def delete_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().delete_view, *args, **kwargs)

    def history_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._unscoped(super().history_view, *args, **kwargs)


class _ReadOnly(_Unscoped):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BookingAttemptInline(admin.TabularInline):
    model = BookingAttempt
    extra = 0
    can_delete = False
    fields = (
        "started_at",
        "attempt",
        "action",
        "outcome",
        "tripletex_calls",
        "request_ids",
        "messages",
    )
    readonly_fields = fields

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
    )
    list_filter = ("status", "kind")
    search_fields = ("external_voucher_number", "instrument_name", "isin", "description")
    inlines = [BookingAttemptInline]


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
class GLAccountSettingsAdmin(_Unscoped):
    list_display = ("company", "bank", "securities", "profit", "loss", "dividend")

"""Staff admin for sync schedules (editable) and the log of sync runs (read-only)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from companies.admin_mixins import ReadOnlyAdminMixin
from companies.tenancy import UnscopedModelAdmin
from ledger.models import SyncRun, SyncSchedule
from ledger.sync.schedules import sync_schedule_reschedule


@admin.register(SyncSchedule)
class SyncScheduleAdmin(UnscopedModelAdmin):
    list_display = [
        "company",
        "is_enabled",
        "nightly_at",
        "refresh_every_minutes",
        "next_nightly_at",
        "next_refresh_at",
        "recheck_due",
        "alerted_at",
    ]
    list_filter = ["is_enabled", "recheck_due"]
    search_fields = ["company__name", "company__org_number"]
    list_select_related = ["company"]
    fields = [
        "company",
        "is_enabled",
        "nightly_at",
        "refresh_every_minutes",
        "refresh_from_hour",
        "refresh_to_hour",
        "recheck_due",
        "next_nightly_at",
        "next_refresh_at",
        "last_recheck_at",
        "alerted_at",
        "alert_reason",
    ]
    readonly_fields = [
        "next_nightly_at",
        "next_refresh_at",
        "last_recheck_at",
        "alerted_at",
        "alert_reason",
    ]
    autocomplete_fields = ["company"]

    def save_model(self, request: HttpRequest, obj: SyncSchedule, form: Any, change: bool) -> None:
        # The due times follow the edited schedule.
        sync_schedule_reschedule(schedule=obj)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, UnscopedModelAdmin):
    list_display = [
        "company",
        "created_at",
        "trigger",
        "kind",
        "status",
        "months_done",
        "months_total",
        "rows_written",
        "tripletex_calls",
        "rate_limit_waits",
    ]
    list_filter = ["status", "trigger", "kind"]
    search_fields = ["company__name", "company__org_number", "error"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"

"""Staff admin for sync schedules (editable), the log of sync runs (read-only) and the night's
plan (a page of the sync runs admin: when each Tripletex key's firms sync tonight)."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.admin_mixins import ReadOnlyAdminMixin
from companies.tenancy import UnscopedModelAdmin
from ledger.models import SyncRun, SyncSchedule
from ledger.sync.night import night_plan_get, night_plan_previous
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
    change_list_template = "admin/ledger/syncrun/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        plan = self.admin_site.admin_view(self.night_plan_view)
        return [
            path("night-plan/", plan, name="ledger_syncrun_night_plan"),
            *super().get_urls(),
        ]

    def night_plan_view(self, request: HttpRequest) -> HttpResponse:
        """Tonight's plan per Tripletex key (or how it would look now), and last night's outcome."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Tonight's sync plan"),
            "plan": night_plan_get(now=now),
            "previous": night_plan_previous(now=now),
        }
        return TemplateResponse(request, "admin/ledger/syncrun/night_plan.html", context)

"""Staff admin: onboarding, companies and their keys, office keys, users, memberships,
invitations, connection requests from the public page, audit log.

Keys are write-only here: forms have password inputs that never render a value, and pages show
only "•••• last 4, set on DATE by USER". The admin history (LogEntry) records field names only.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.defaultfilters import date as date_filter
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from companies import admin_views
from companies.admin_mixins import ReadOnlyAdminMixin
from companies.audit import audit_record
from companies.audit_actions import AUDIT_ACTIONS
from companies.credentials import connection_remove, office_key_set
from companies.forms import CompanyAdminForm, OfficeKeyAdminForm
from companies.invitations import InvitationError, invitation_resend, invitation_revoke
from companies.mfa import mfa_enrolled, mfa_reset
from companies.models import (
    AuditEvent,
    Company,
    EncryptedKeyMixin,
    Invitation,
    KeyRequest,
    Membership,
    OfficeKey,
    Role,
    TripletexConnection,
    User,
)
from companies.onboarding.saving import connection_key_store, office_key_verified
from companies.services import MemberError, member_invite, member_remove, member_role_change


def key_summary(holder: EncryptedKeyMixin | None) -> str:
    """'•••• 1234, set on 26.11.2026 by staff@dynamik.no' (never the key), or 'No key stored'."""
    if holder is None or not holder.has_token:
        return gettext("No key stored")
    text = f"•••• {holder.token_last4 or '····'}"
    if holder.token_set_at:
        text += ", " + gettext("set on %(date)s") % {
            "date": date_filter(timezone.localtime(holder.token_set_at), "DATE_FORMAT")
        }
    if holder.token_set_by:
        text += " " + gettext("by %(user)s") % {"user": holder.token_set_by.email}
    return text


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _keeps_an_admin(company_id: int, membership: Membership, role: str | None) -> bool:
    """False when giving `membership` this role (None: removing it) leaves no administrator."""
    if membership.pk is None or role == Role.ADMIN:
        return True
    before = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    others = Membership.objects.filter(company_id=company_id, role=Role.ADMIN)
    return before != Role.ADMIN or others.exclude(pk=membership.pk).exists()


class MembershipInlineFormSet(BaseInlineFormSet):
    """The company's members: roles change and members go, and the company keeps an administrator."""

    def clean(self) -> None:
        super().clean()
        rows = [f for f in self.forms if f.instance.pk and getattr(f, "cleaned_data", None)]
        had_admin = any(f.initial.get("role") == Role.ADMIN for f in rows)
        keeps = any(
            f.cleaned_data.get("role") == Role.ADMIN and not f.cleaned_data.get("DELETE")
            for f in rows
        )
        if had_admin and not keeps:
            raise ValidationError(gettext("The company must keep at least one administrator."))


class MembershipInline(admin.TabularInline):
    """People join a firm only by accepting an invitation (Invitations), never added here."""

    model = Membership
    formset = MembershipInlineFormSet
    extra = 0
    fields = ["user", "role"]
    readonly_fields = ["user"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _member_changes(request: HttpRequest, changes: list[Any]) -> None:
    """Run member_role_change / member_remove calls; a refusal (a race the form could not see)
    becomes an error message."""
    for change in changes:
        try:
            change()
        except MemberError as exc:
            messages.error(request, str(exc))


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = ["name", "org_number", "connection_status", "accounting_system", "created_at"]
    search_fields = ["name", "org_number"]
    readonly_fields = ["org_number", "connection_summary", "created_at"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("name", "org_number", "slug", "accounting_system", "created_at")}),
        (
            _("Tripletex connection"),
            {
                "fields": (
                    "connection_summary",
                    "key_type",
                    "replace_key",
                    "office_key",
                    "client_company_id",
                    "remove_connection",
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return super().get_queryset(request).select_related("tripletex")

    def get_urls(self) -> list[URLPattern]:
        onboard = self.admin_site.admin_view(self.onboard_view)
        return [
            path("onboard/", onboard, name="companies_company_onboard"),
            *super().get_urls(),
        ]

    def onboard_view(self, request: HttpRequest) -> HttpResponse:
        return admin_views.company_onboard(request, self)

    def add_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A firm is only ever created through onboarding, which verifies its key first.
        return redirect("admin:companies_company_onboard")

    @method_decorator(sensitive_post_parameters("replace_key"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    @admin.display(description=_("Tripletex"))
    def connection_status(self, company: Company) -> str:
        connection = getattr(company, "tripletex", None)
        if connection is None:
            return format_html('<span class="muted">{}</span>', gettext("Not connected"))
        return format_html(
            '<span class="conn-status conn-{}">{}</span>',
            connection.status,
            connection.get_status_display(),
        )

    @admin.display(description=_("Current key"))
    def connection_summary(self, company: Company) -> str:
        connection = TripletexConnection.objects.filter(company=company).first()
        if connection is None:
            return gettext("Not connected to Tripletex.")
        if connection.key_type == TripletexConnection.KeyType.OFFICE and connection.office_key:
            key = gettext("Office key of %(office)s (%(key)s), Tripletex client id %(id)s") % {
                "office": connection.office_key.name,
                "key": key_summary(connection.office_key),
                "id": connection.tripletex_company_id,
            }
        else:
            key = gettext("Own key: %(key)s") % {"key": key_summary(connection)}
        changed_at = connection.status_changed_at
        when = date_filter(timezone.localtime(changed_at), "DATETIME_FORMAT") if changed_at else ""
        status = f"{connection.get_status_display()}" + (f" ({when})" if when else "")
        reason = connection.status_reason
        problems = "; ".join(connection.coverage_problems or [])
        return format_html(
            '<span data-testid="key-summary">{}</span><br>{}{}{}',
            key,
            status,
            format_html("<br>{}", reason) if reason else "",
            format_html("<br>{}", problems) if problems else "",
        )

    def save_model(self, request: HttpRequest, obj: Company, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        data = form.cleaned_data
        if data.get("remove_connection"):
            connection_remove(company=obj, by=_actor(request))
        elif isinstance(form, CompanyAdminForm) and form.verified is not None:
            connection_key_store(
                company=obj,
                verified=form.verified,
                key_type=data["key_type"],
                token=data.get("replace_key") or "",
                office_key=data.get("office_key"),
                by=_actor(request),
            )

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: Any, change: bool
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Through the services: the admin rows are locked and every change is audited.
        company, by = form.instance, _actor(request)
        formset.save(commit=False)
        changes = [
            partial(member_remove, company=company, membership=m, by=by)
            for m in formset.deleted_objects
        ] + [
            partial(member_role_change, company=company, membership=m, role=m.role, by=by)
            for m, _fields in formset.changed_objects
        ]
        _member_changes(request, changes)


@admin.register(OfficeKey)
class OfficeKeyAdmin(admin.ModelAdmin):
    form = OfficeKeyAdminForm
    list_display = ["name", "org_number", "key", "client_count", "verified_at"]
    search_fields = ["name", "org_number"]
    readonly_fields = ["key_set", "org_number", "tripletex_company_id", "verified_at"]
    fields = ["name", "key_set", "key", "org_number", "tripletex_company_id", "verified_at"]
    actions = ["add_clients_action"]
    change_form_template = "admin/companies/officekey/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        clients = self.admin_site.admin_view(self.clients_view)
        return [
            path("<path:object_id>/clients/", clients, name="companies_officekey_clients"),
            *super().get_urls(),
        ]

    def clients_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_views.office_key_clients(request, self, object_id)

    @method_decorator(sensitive_post_parameters("key"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    @admin.display(description=_("Key"))
    def key(self, office_key: OfficeKey) -> str:
        return key_summary(office_key)

    @admin.display(description=_("Stored key"))
    def key_set(self, office_key: OfficeKey) -> str:
        return key_summary(office_key) if office_key.pk else "–"

    @admin.display(description=_("Client firms"))
    def client_count(self, office_key: OfficeKey) -> int:
        return office_key.connections.count()

    @admin.action(description=_("Add clients from office key"))
    def add_clients_action(
        self, request: HttpRequest, queryset: QuerySet[OfficeKey]
    ) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choose exactly one office key."), level=messages.WARNING
            )
            return None
        office_key = queryset.get()
        return HttpResponseRedirect(
            reverse("admin:companies_officekey_clients", args=[office_key.pk])
        )

    def save_model(
        self, request: HttpRequest, obj: OfficeKey, form: ModelForm, change: bool
    ) -> None:
        token = form.cleaned_data.get("key")
        verified = getattr(form, "verified", None)
        if not token or verified is None:
            super().save_model(request, obj, form, change)
            return
        office_key_set(office_key=obj, name=obj.name, token=token, by=_actor(request))
        office_key_verified(office_key=obj, verified=verified)


@admin.register(TripletexConnection)
class TripletexConnectionAdmin(admin.ModelAdmin):
    """Read-only view of every firm's connection; keys are changed on the company page."""

    list_display = ["company", "key_type", "status", "status_changed_at", "verified_at"]
    list_filter = ["status", "key_type"]
    search_fields = ["company__name", "company__org_number"]
    fields: ClassVar[tuple[str, ...]] = (
        "company",
        "key_type",
        "office_key",
        "tripletex_company_id",
        "key",
        "status",
        "status_reason",
        "status_changed_at",
        "verified_at",
        "coverage_problems",
    )
    readonly_fields = fields
    actions = ["remove_connections"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("Key"))
    def key(self, connection: TripletexConnection) -> str:
        if connection.key_type == TripletexConnection.KeyType.OFFICE:
            return key_summary(connection.office_key)
        return key_summary(connection)

    @admin.action(description=_("Remove connection (deletes the key and its sessions)"))
    def remove_connections(
        self, request: HttpRequest, queryset: QuerySet[TripletexConnection]
    ) -> None:
        companies = [c.company for c in queryset.select_related("company")]
        for company in companies:
            connection_remove(company=company, by=_actor(request))
        self.message_user(request, gettext("%(n)s connection(s) removed.") % {"n": len(companies)})


class AuditActionFilter(admin.SimpleListFilter):
    """Filter the audit log by what happened, named in words (never the raw code)."""

    title = _("event")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return sorted(
            ((code, str(label)) for code, label in AUDIT_ACTIONS.items()), key=lambda c: c[1]
        )

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> QuerySet[AuditEvent]:
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log, read-only for staff: each event by its label, not its code."""

    list_display = ["at", "event", "company_label", "actor", "detail"]
    list_filter = [AuditActionFilter]
    search_fields = ["company_label", "detail", "actor__email"]
    date_hierarchy = "at"
    fields: ClassVar[tuple[str, ...]] = (
        "at",
        "event",
        "company",
        "company_label",
        "actor",
        "detail",
    )
    readonly_fields = fields

    @admin.display(description=_("event"), ordering="action")
    def event(self, audit_event: AuditEvent) -> str:
        return audit_event.action_label


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "two_step"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["reset_two_step"]

    @admin.display(description=_("Two-step login"), boolean=True)
    def two_step(self, user: User) -> bool:
        return mfa_enrolled(user=user)

    @admin.action(description=_("Reset two-step login (lost phone): they set it up again"))
    def reset_two_step(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        for user in users:
            mfa_reset(user=user, by=_actor(request))
        self.message_user(
            request,
            gettext("Two-step login reset for %(n)s user(s); each sets it up at the next login.")
            % {"n": len(users)},
        )

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if "password" not in name]
        audit_record(
            company=None,
            actor=_actor(request),
            action="user.changed" if change else "user.added",
            detail=f"{obj.email}: {', '.join(changed)}" if changed else obj.email,
        )


class MembershipAdminForm(ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role and not _keeps_an_admin(self.instance.company_id, self.instance, role):
            raise ValidationError(gettext("The company must keep at least one administrator."))
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Roles change and members go through the services (locked, audited, an administrator kept);
    nobody is added here: people join by accepting an invitation."""

    form = MembershipAdminForm
    list_display = ["user", "company", "role"]
    list_filter = ["role"]
    search_fields = ["user__email", "company__name", "company__org_number"]
    readonly_fields = ["user", "company"]
    fields = ["user", "company", "role"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and not _keeps_an_admin(obj.company_id, obj, None):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Membership, form: ModelForm, change: bool
    ) -> None:
        change_role = partial(
            member_role_change,
            company=obj.company,
            membership=obj,
            role=obj.role,
            by=_actor(request),
        )
        _member_changes(request, [change_role])

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        remove = partial(member_remove, company=obj.company, membership=obj, by=_actor(request))
        _member_changes(request, [remove])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("company", "user"):
            self.delete_model(request, membership)


class InvitationAdminForm(ModelForm):
    """Staff invite someone to a firm; the same refusals as on the firm's Users page."""

    class Meta:
        model = Invitation
        fields = ["company", "email", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        company, email = data.get("company"), (data.get("email") or "").strip().lower()
        if company is not None and email:
            if Membership.objects.filter(company=company, user__email__iexact=email).exists():
                raise ValidationError(
                    gettext("%(email)s is already a user of this company.") % {"email": email}
                )
            if Invitation.objects.filter(
                company=company, email=email, status=Invitation.Status.PENDING
            ).exists():
                raise ValidationError(
                    gettext("%(email)s is invited already; send the invitation again.")
                    % {"email": email}
                )
        return data


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations to firms: staff invite, send again or withdraw; the link is never shown."""

    form = InvitationAdminForm
    list_display = ["email", "company", "role", "status", "sent_at", "expired"]
    list_filter = ["status", "role"]
    search_fields = ["email", "company__name", "company__org_number"]
    autocomplete_fields = ["company"]
    actions = ["resend_invitations", "revoke_invitations"]

    def get_fields(self, request: HttpRequest, obj: Invitation | None = None) -> Any:
        if obj is None:
            return ["company", "email", "role"]
        return [
            "company",
            "email",
            "role",
            "status",
            "invited_by",
            "sent_at",
            "expired",
            "answered_at",
            "accepted_by",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Invitation | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False

    @admin.display(description=_("Link expired"), boolean=True)
    def expired(self, invitation: Invitation) -> bool:
        return invitation.is_expired

    def save_model(
        self, request: HttpRequest, obj: Invitation, form: ModelForm, change: bool
    ) -> None:
        if change:
            return
        created = member_invite(
            company=obj.company, email=obj.email, role=obj.role, by=_actor(request)
        )
        obj.pk, obj.status, obj.sent_at = created.pk, created.status, created.sent_at

    def _each_pending(
        self, request: HttpRequest, queryset: QuerySet[Invitation], change: Any
    ) -> int:
        done = 0
        for invitation in queryset.select_related("company"):
            try:
                change(company=invitation.company, invitation=invitation, by=_actor(request))
            except InvitationError:
                continue  # answered or withdrawn already
            done += 1
        return done

    @admin.action(description=_("Send again (a new link; the old one stops working)"))
    def resend_invitations(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        n = self._each_pending(request, queryset, invitation_resend)
        self.message_user(request, gettext("%(n)s invitation(s) sent.") % {"n": n})

    @admin.action(description=_("Withdraw (the link stops working)"))
    def revoke_invitations(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        n = self._each_pending(request, queryset, invitation_revoke)
        self.message_user(request, gettext("%(n)s invitation(s) withdrawn.") % {"n": n})


@admin.register(KeyRequest)
class KeyRequestAdmin(admin.ModelAdmin):
    """The queue of connection requests from the public page: staff read them and approve or
    reject (companies/admin_views.key_request_decide). Read-only otherwise; the key is never
    shown, only whether one is still stored."""

    list_display = ["created_at", "org_numbers", "contact_email", "key_type", "status"]
    list_filter = ["status", "key_type"]
    search_fields = ["contact_email", "contact_name", "office_name", "firms"]
    date_hierarchy = "created_at"
    fields: ClassVar[tuple[str, ...]] = (
        "status",
        "created_at",
        "contact_name",
        "contact_email",
        "key_type",
        "office_name",
        "accounting_system",
        "firm_table",
        "member_list",
        "note",
        "key_state",
        "reason",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    change_form_template = "admin/companies/keyrequest/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        approve = self.admin_site.admin_view(self.approve_view)
        reject = self.admin_site.admin_view(self.reject_view)
        return [
            path("<path:object_id>/approve/", approve, name="companies_keyrequest_approve"),
            path("<path:object_id>/reject/", reject, name="companies_keyrequest_reject"),
            *super().get_urls(),
        ]

    def approve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_views.key_request_decide(request, self, object_id, "approve")

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_views.key_request_decide(request, self, object_id, "reject")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided with the buttons on the page, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Organisation numbers"))
    def org_numbers(self, key_request: KeyRequest) -> str:
        return key_request.org_numbers_display

    @admin.display(description=_("Firms (as Tripletex confirmed them)"))
    def firm_table(self, key_request: KeyRequest) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    firm.get("org_number", ""),
                    firm.get("name", ""),
                    firm.get("client_company_id") or "–",
                    gettext("Already here: gets the new key") if firm.get("existing") else "",
                    "; ".join(firm.get("warnings") or []),
                )
                for firm in key_request.firms
            ),
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            gettext("Organisation number"),
            gettext("Name"),
            gettext("Tripletex client id"),
            gettext("In Dynamik"),
            gettext("Warnings"),
        )
        return format_html('<table data-testid="key-request-firms">{}{}</table>', head, rows)

    @admin.display(description=_("Users to invite"))
    def member_list(self, key_request: KeyRequest) -> str:
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 - a constant
            "{} ({})",
            ((m.get("email", ""), Role(m.get("role")).label) for m in key_request.members),
        )

    @admin.display(description=_("Key"))
    def key_state(self, key_request: KeyRequest) -> str:
        if key_request.token_encrypted:
            return gettext("Verified with Tripletex and stored encrypted (never shown).")
        return gettext("Deleted (the request is decided).")

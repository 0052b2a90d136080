"""The tenant (Company), the people (User) and who may do what in which company (Membership)."""

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from companies.audit_actions import audit_action_label


class UserManager(BaseUserManager["User"]):
    """Users are identified by e-mail; there is no user name."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with e-mail and password. Staff (is_staff) use the admin."""

    # A field inherited from an abstract model "may be removed with None" (Django's model docs,
    # "Abstract base classes"); the stubs can only see a CharField being replaced.
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Without a username, Django's docs ("Writing a manager for a custom user model") call for a
    # manager built on BaseUserManager; django-stubs types AbstractUser.objects as auth's
    # UserManager, whose create_user takes a username first.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


class Company(models.Model):
    """The tenant: one firm whose books are kept in an accounting system."""

    class AccountingSystem(models.TextChoices):
        TRIPLETEX = "tripletex", "Tripletex"

    org_number = models.CharField(_("organisation number"), max_length=9, unique=True)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("URL name"), max_length=60, unique=True)
    accounting_system = models.CharField(
        _("accounting system"),
        max_length=20,
        choices=AccountingSystem.choices,
        default=AccountingSystem.TRIPLETEX,
    )
    # Everyone in the company must use a second factor, accountants too (finance, admins and staff
    # always must); set by the company's administrators.
    # db_default too: rows written by code that predates the column (old migrations) get False.
    require_mfa = models.BooleanField(
        _("require two-step login for everyone"), default=False, db_default=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.org_number})"

    @staticmethod
    def slug_for(name: str, org_number: str) -> str:
        """A readable, unique URL name: the name's slug plus the organisation number."""
        return f"{slugify(name)[:40] or 'company'}-{org_number}"


class Role(models.TextChoices):
    """Roles are cumulative: finance may do what accountants do, admins what finance does."""

    ACCOUNTANT = "accountant", _("Accountant")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")


ROLE_RANK = {Role.ACCOUNTANT: 1, Role.FINANCE: 2, Role.ADMIN: 3}


class Membership(models.Model):
    """Ties a user to a company with a role."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("company")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="companies_one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.company.name} ({self.get_role_display()})"

    def has_role(self, role: str) -> bool:
        """True when this membership's role is at least `role`."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Heartbeat(models.Model):
    """The last time a background process (the Celery worker, via beat) proved it was alive."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {timezone.localtime(self.seen_at):%Y-%m-%d %H:%M:%S}"


class EncryptedKeyMixin(models.Model):
    """An encrypted Tripletex employee token with who set it and when; the key itself is never shown."""

    token_encrypted = models.TextField(_("encrypted key"), blank=True, editable=False)
    token_last4 = models.CharField(_("last 4 characters"), max_length=4, blank=True, editable=False)
    token_set_at = models.DateTimeField(_("key set at"), null=True, blank=True, editable=False)
    token_set_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("key set by"),
    )

    class Meta:
        abstract = True

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)


class OfficeKey(EncryptedKeyMixin):
    """An accounting office's Tripletex key, stored once and used for all its client companies."""

    name = models.CharField(_("accounting office"), max_length=200)
    org_number = models.CharField(_("organisation number"), max_length=9, blank=True)
    tripletex_company_id = models.BigIntegerField(
        _("Tripletex company id of the office"), null=True, blank=True
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("accounting office key")
        verbose_name_plural = _("accounting office keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TripletexConnection(EncryptedKeyMixin):
    """How a company reaches Tripletex: its own key, or an accounting office's key plus its client id."""

    class KeyType(models.TextChoices):
        OWN = "own", _("The company's own key")
        OFFICE = "office", _("An accounting office's key")

    class Status(models.TextChoices):
        NOT_VERIFIED = "not_verified", _("Not verified")
        CONNECTED = "connected", _("Connected")
        BROKEN = "broken", _("Broken")

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="tripletex", verbose_name=_("company")
    )
    key_type = models.CharField(_("key type"), max_length=10, choices=KeyType.choices)
    office_key = models.ForeignKey(
        OfficeKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="connections",
        verbose_name=_("accounting office key"),
    )
    # The Basic-auth user name: the client's company id for office keys, 0 for the company's own key.
    tripletex_company_id = models.BigIntegerField(_("Tripletex company id"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NOT_VERIFIED
    )
    status_reason = models.TextField(_("reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # What the onboarding probe found the key could not do (plain-language lines for staff).
    coverage_problems = models.JSONField(_("missing access"), default=list, blank=True)

    class Meta:
        verbose_name = _("Tripletex connection")
        verbose_name_plural = _("Tripletex connections")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key_type="own") | models.Q(office_key__isnull=False),
                name="companies_office_connection_has_office_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company.name}: {self.get_status_display()}"

    @property
    def badge(self) -> str:
        """The status badge's colour class: ok (connected), warn (not verified), bad (broken)."""
        badges: dict[str, str] = {self.Status.CONNECTED: "ok", self.Status.BROKEN: "bad"}
        return badges.get(self.status, "warn")

    @property
    def basic_auth_company_id(self) -> int:
        """0 for the company's own key; the client's company id for an office key."""
        if self.key_type == self.KeyType.OFFICE:
            return int(self.tripletex_company_id or 0)
        return 0


class AuditEvent(models.Model):
    """Who did what to a company's setup and when (never a key)."""

    company = models.ForeignKey(
        Company,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("company"),
    )
    # The company's name as it was: kept when the company itself is deleted.
    company_label = models.CharField(_("company (as it was named)"), max_length=220, blank=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    # A stable code (`membership.removed`); people see its label (companies/audit.py).
    action = models.CharField(_("event"), max_length=60)
    detail = models.TextField(_("detail"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.action} {self.company_label}"

    @property
    def action_label(self) -> str:
        """What happened, in words (the code's label, companies/audit.py)."""
        return audit_action_label(self.action)


class Invitation(models.Model):
    """An invitation to join a company with a role. Access starts only when the person accepts it
    from the link in the e-mail: a new person chooses a password there, someone who already has an
    account logs in and accepts. The link carries a random token; only its SHA-256 is stored, and
    sending the invitation again replaces it (the old link stops working)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Withdrawn")

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("company")
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    # The last time the link was sent; it expires PASSWORD_RESET_TIMEOUT seconds later.
    sent_at = models.DateTimeField(_("sent at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=models.Q(status="pending"),
                name="companies_one_pending_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} – {self.company.name} ({self.get_status_display()})"

    @property
    def expires_at(self) -> datetime:
        """When the link sent last stops working (PASSWORD_RESET_TIMEOUT after sending)."""
        return self.sent_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


class KeyRequest(models.Model):
    """A firm's (or its accounting office's) request to be connected, sent from the public page
    instead of e-mailing a key (companies/intake/). The key was verified against Tripletex before
    the request was stored; it is kept only encrypted (companies/crypto.py), shown to nobody, and
    deleted once staff approve (it then lives in the firm's connection) or reject the request."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for staff")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    office_name = models.CharField(_("accounting office"), max_length=200, blank=True)
    accounting_system = models.CharField(
        _("accounting system"),
        max_length=20,
        choices=Company.AccountingSystem.choices,
        default=Company.AccountingSystem.TRIPLETEX,
    )
    key_type = models.CharField(
        _("key type"), max_length=10, choices=TripletexConnection.KeyType.choices
    )
    token_encrypted = models.TextField(_("encrypted key"), blank=True, editable=False)
    # What the verification found, per organisation number: {"org_number", "name",
    # "client_company_id", "existing" (already a firm here: the key replaces its key), "warnings"}.
    firms = models.JSONField(_("firms"), default=list)
    # The people to invite to every firm of the request: {"email", "role"}.
    members = models.JSONField(_("users"), default=list)
    note = models.TextField(_("message"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason for rejection"), blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("connection request")
        verbose_name_plural = _("connection requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.org_numbers_display} ({self.get_status_display()})"

    @property
    def org_numbers_display(self) -> str:
        return ", ".join(str(firm.get("org_number", "")) for firm in self.firms)

"""The tenant (Company), the people (User) and who may do what in which company (Membership)."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


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

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

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
    created_at = models.DateTimeField(auto_now_add=True)

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

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

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
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"

from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    """The second factor's devices, whose secrets never reach the database in plaintext."""

    name = "companies.twofactor"
    label = "twofactor"
    verbose_name = "Two-step login"
    default_auto_field = "django.db.models.BigAutoField"

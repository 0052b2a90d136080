from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CompaniesConfig(AppConfig):
    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "companies"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as `admin.site` (Django's admin docs, "Overriding the
    default admin site"): the staff admin logs in through the site login and needs a second factor."""

    default = False
    default_site = "companies.admin_site.StaffAdminSite"

"""URL map: account pages, the company pages under /c/<company_slug>/, and the staff admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("companies.urls")),
]

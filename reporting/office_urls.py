"""Report pages that span firms (mounted at /rapportpakker/): a batch of report packs for an
office's firms, seen only by the person who started it."""

from django.urls import path

from reporting.packs import views as pack_views

app_name = "reporting_office"

urlpatterns = [
    path("", pack_views.batch_new, name="batch_new"),
    path("<int:batch_id>/", pack_views.batch_page, name="batch"),
    path("<int:batch_id>/status/", pack_views.batch_status, name="batch_status"),
]

"""Report pages under /c/<company_slug>/ (mounted by dynamik/urls.py): the report pack and the
group view."""

from django.urls import path

from reporting.groups import views as group_views
from reporting.packs import views as pack_views

app_name = "reporting"

urlpatterns = [
    path("rapportpakke/", pack_views.pack_page, name="pack"),
    path("rapportpakke/status/", pack_views.pack_status, name="pack_status"),
    path("rapportpakke/<int:pack_id>/pdf/", pack_views.pack_pdf, name="pack_pdf"),
    path("konsern/", group_views.group_page, name="group"),
    path("konsern/selskaper/", group_views.group_members, name="group_members"),
    path("konsern/elimineringer/", group_views.group_mapping, name="group_mapping"),
]

"""Group view pages (mounted by ledger/urls.py under /c/<company_slug>/): the consolidated
figures, the subsidiaries and the elimination mapping of a holding company."""

from django.urls import path

from ledger.groups import views as group_views

urlpatterns = [
    path("konsern/", group_views.group_page, name="group"),
    path("konsern/selskaper/", group_views.group_members, name="group_members"),
    path("konsern/elimineringer/", group_views.group_mapping, name="group_mapping"),
]

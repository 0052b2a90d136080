"""Sync pages (mounted by ledger/urls.py) under /c/<company_slug>/synk/."""

from django.urls import path

from ledger.sync import views as views_sync

urlpatterns = [
    path("synk/", views_sync.sync, name="sync"),
    path("synk/start/", views_sync.sync_start, name="sync_start"),
    path("synk/status/", views_sync.sync_status, name="sync_status"),
]

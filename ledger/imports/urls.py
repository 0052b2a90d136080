"""Broker account pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import URLPattern, path

from ledger.imports import views

urlpatterns: list[URLPattern] = [
    path("meglerkontoer/", views.broker_accounts, name="broker_accounts"),
    path(
        "meglerkontoer/<int:pk>/slett/",
        views.broker_account_delete,
        name="broker_account_delete",
    ),
]

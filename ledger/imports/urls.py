"""Broker account and inbox pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import URLPattern, path

from ledger.imports import inbox_views, views

urlpatterns: list[URLPattern] = [
    path("meglerkontoer/", views.broker_accounts, name="broker_accounts"),
    path(
        "meglerkontoer/<int:pk>/slett/",
        views.broker_account_delete,
        name="broker_account_delete",
    ),
    path("innboks/", inbox_views.inbox, name="inbox"),
    path("innboks/<int:batch_id>/", inbox_views.inbox_batch, name="inbox_batch"),
    path("innboks/<int:batch_id>/godta/", inbox_views.inbox_accept, name="inbox_accept"),
    path("innboks/<int:batch_id>/isin/", inbox_views.inbox_isin, name="inbox_isin"),
    path("innboks/<int:batch_id>/forkast/", inbox_views.inbox_discard, name="inbox_discard"),
    path("innboks/rad/<int:row_id>/", inbox_views.inbox_row, name="inbox_row"),
    path("innboks/rad/<int:row_id>/konto/", views.inbox_row_account, name="inbox_row_account"),
    path(
        "innboks/rad/<int:row_id>/utelat/",
        inbox_views.inbox_row_exclude,
        name="inbox_row_exclude",
    ),
]

"""Transactions pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import URLPattern, path

from ledger.imports.views import file_import_view
from ledger.transactions import views

urlpatterns: list[URLPattern] = [
    path("transaksjoner/", views.transactions, name="transactions"),
    path("transaksjoner/ny/", views.transaction_new, name="transaction_new"),
    path("transaksjoner/ny-postering/", views.journal_new, name="journal_new"),
    path("transaksjoner/import/", file_import_view, name="transactions_import"),
    path("transaksjoner/kontoinnstillinger/", views.gl_settings, name="gl_settings"),
    path(
        "transaksjoner/oppdater-fra-tripletex/",
        views.transactions_refresh,
        name="transactions_refresh",
    ),
    path("transaksjoner/<int:pk>/", views.transaction_detail, name="transaction_detail"),
    path("transaksjoner/<int:pk>/endre/", views.transaction_edit, name="transaction_edit"),
    path("transaksjoner/<int:pk>/slett/", views.transaction_delete, name="transaction_delete"),
]

"""Transactions pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import path

from ledger.transactions import views

urlpatterns: list = [
    path("transaksjoner/", views.transactions, name="transactions"),
    path("transaksjoner/ny/", views.transaction_new, name="transaction_new"),
    path("transaksjoner/ny-postering/", views.journal_new, name="journal_new"),
    path("transaksjoner/import/", views.transactions_import_view, name="transactions_import"),
    path("transaksjoner/status/", views.transactions_status, name="transactions_status"),
    path("transaksjoner/bokfor-alle/", views.transactions_book_all, name="transactions_book_all"),
    path("transaksjoner/kontoinnstillinger/", views.gl_settings, name="gl_settings"),
    path("transaksjoner/<int:pk>/", views.transaction_detail, name="transaction_detail"),
    path("transaksjoner/<int:pk>/endre/", views.transaction_edit, name="transaction_edit"),
    path("transaksjoner/<int:pk>/bokfor/", views.transaction_book, name="transaction_book"),
    path(
        "transaksjoner/<int:pk>/tilbakefor/", views.transaction_reverse, name="transaction_reverse"
    ),
    path("transaksjoner/<int:pk>/slett/", views.transaction_delete, name="transaction_delete"),
    path("transaksjoner/<int:pk>/sjekk/", views.transaction_check, name="transaction_check"),
]

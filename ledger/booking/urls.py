"""Booking pages (mounted by ledger/urls.py under /c/<company_slug>/, beside the transactions)."""

from django.urls import URLPattern, path

from ledger.booking import views

urlpatterns: list[URLPattern] = [
    path("transaksjoner/status/", views.transactions_status, name="transactions_status"),
    path("transaksjoner/bokfor-alle/", views.transactions_book_all, name="transactions_book_all"),
    path("transaksjoner/holdt-tilbake/", views.transactions_held, name="transactions_held"),
    path("transaksjoner/<int:pk>/bokfor/", views.transaction_book, name="transaction_book"),
    path(
        "transaksjoner/<int:pk>/tilbakefor/", views.transaction_reverse, name="transaction_reverse"
    ),
    path("transaksjoner/<int:pk>/sjekk/", views.transaction_check, name="transaction_check"),
]

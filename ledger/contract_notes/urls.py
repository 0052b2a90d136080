"""Contract note pages (mounted by ledger/urls.py under /c/<company_slug>/, beside the
transactions they belong to)."""

from django.urls import URLPattern, path

from ledger.contract_notes import views

urlpatterns: list[URLPattern] = [
    path("transaksjoner/sluttsedler/", views.contract_notes, name="contract_notes"),
    path(
        "transaksjoner/sluttsedler/<int:note_id>/",
        views.contract_note_file,
        name="contract_note_file",
    ),
    path(
        "transaksjoner/sluttsedler/<int:note_id>/tilordne/",
        views.contract_note_assign,
        name="contract_note_assign",
    ),
    path(
        "transaksjoner/sluttsedler/<int:note_id>/fjern/",
        views.contract_note_remove,
        name="contract_note_remove",
    ),
    path(
        "transaksjoner/sluttsedler/<int:note_id>/prov-igjen/",
        views.contract_note_retry,
        name="contract_note_retry",
    ),
    path(
        "transaksjoner/<int:pk>/sluttseddel/",
        views.transaction_contract_note,
        name="transaction_contract_note",
    ),
]

"""Holdings pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import URLPattern, path

from ledger.holdings import views

urlpatterns: list[URLPattern] = [
    path("transaksjoner/beholdning/", views.holdings, name="holdings"),
    path("transaksjoner/beholdning/xlsx/", views.holdings_export, name="holdings_xlsx"),
    path("transaksjoner/verdipapirer/", views.instruments, name="instruments"),
    path("transaksjoner/verdipapirer/endre/", views.instrument_edit, name="instrument_edit"),
]

"""Report pack pages (mounted by ledger/urls.py under /c/<company_slug>/): the firm's pack, its
comments, the state of the packs being made and the PDF download."""

from django.urls import path

from ledger.packs import views as pack_views

urlpatterns = [
    path("rapportpakke/", pack_views.pack_page, name="pack"),
    path("rapportpakke/status/", pack_views.pack_status, name="pack_status"),
    path("rapportpakke/<int:pack_id>/pdf/", pack_views.pack_pdf, name="pack_pdf"),
]

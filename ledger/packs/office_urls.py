"""Report pack pages that span firms (mounted at /rapportpakker/ by dynamik/urls.py): a batch of
report packs for an office's firms, seen only by the person who started it."""

from django.urls import path

from ledger.packs import views as pack_views

app_name = "office_packs"

urlpatterns = [
    path("", pack_views.batch_new, name="batch_new"),
    path("<int:batch_id>/", pack_views.batch_page, name="batch"),
    path("<int:batch_id>/status/", pack_views.batch_status, name="batch_status"),
]

"""Figures pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import path

from ledger.figures import views as views_figures

urlpatterns = [
    path("resultat/", views_figures.pnl, name="pnl"),
    path("resultat/excel/", views_figures.pnl_xlsx, name="pnl_xlsx"),
    path("resultat/csv/", views_figures.pnl_csv, name="pnl_csv"),
    path("balanse/", views_figures.balance, name="balance"),
    path("balanse/excel/", views_figures.balance_xlsx, name="balance_xlsx"),
    path("balanse/csv/", views_figures.balance_csv, name="balance_csv"),
    path("nokkeltall/", views_figures.key_figures_page, name="key_figures"),
    path(
        "posteringer/<int:account>/<int:year>/<int:month>/",
        views_figures.postings,
        name="postings",
    ),
    path(
        "posteringer/<int:account>/<int:year>/<int:month>/oppdater/",
        views_figures.postings_refresh,
        name="postings_refresh",
    ),
]

"""Budget pages (mounted by ledger/urls.py under /c/<company_slug>/)."""

from django.urls import path

from ledger.budgets import views as views_budgets

urlpatterns = [
    path("budsjett/", views_budgets.budget, name="budget"),
    path("budsjett/mal/", views_budgets.budget_template, name="budget_template"),
    path("budsjett/last-opp/", views_budgets.budget_upload_view, name="budget_upload"),
]

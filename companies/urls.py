"""Pages outside any company: the overview of my companies and the company switcher."""

from django.urls import path

from companies import account_views, views
from ledger.views_figures import overview

urlpatterns = [
    path("", overview, name="home"),
    path("bytt-selskap/", views.company_switch, name="company_switch"),
    path(
        "konto/invitasjon/<uidb64>/<token>/",
        account_views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
]

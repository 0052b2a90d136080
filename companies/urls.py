"""Pages outside any company: the company switcher and accepting an invitation."""

from django.urls import path

from companies import account_views, views

urlpatterns = [
    path("bytt-selskap/", views.company_switch, name="company_switch"),
    path(
        "konto/invitasjon/<uidb64>/<token>/",
        account_views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
]

"""Pages outside any company: the company switcher, the public key-request page, answering an
invitation, two-step login."""

from django.urls import path

from companies import account_views, mfa_views, views
from companies.intake import views as intake_views

urlpatterns = [
    path("bytt-selskap/", views.company_switch, name="company_switch"),
    # The public key-request page (no login): the key never travels by e-mail.
    path("koble-til/", intake_views.key_request, name="key_request"),
    path("koble-til/mottatt/", intake_views.key_request_received, name="key_request_received"),
    path("konto/invitasjon/", account_views.invitation_respond, name="invitation_accept"),
    path("konto/invitasjon/<str:token>/", account_views.invitation_open, name="invitation_open"),
    path("konto/tofaktor/", mfa_views.mfa_settings_view, name="mfa_settings"),
    path("konto/tofaktor/kode/", mfa_views.mfa_verify_view, name="mfa_verify"),
    path("konto/tofaktor/ny/", mfa_views.mfa_enrol_view, name="mfa_enrol"),
    path(
        "konto/tofaktor/gjenopprettingskoder/",
        mfa_views.mfa_recovery_codes_view,
        name="mfa_recovery_codes",
    ),
    path("konto/tofaktor/av/", mfa_views.mfa_disable_view, name="mfa_disable"),
]

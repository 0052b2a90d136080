"""Company pages (mounted under /c/<company_slug>/ by dynamik.urls)."""

from django.urls import path

from companies import views

app_name = "companies"

urlpatterns = [
    path("", views.company_home, name="company_home"),
    path("brukere/", views.members, name="members"),
    path("brukere/<int:pk>/", views.member_change, name="member_change"),
    path("invitasjoner/<int:pk>/", views.invitation_change, name="invitation_change"),
    path("brukere/tofaktor/", views.company_mfa_policy, name="mfa_policy"),
    path("brukere/logg/", views.audit_log, name="audit_log"),
]

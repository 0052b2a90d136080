"""URL map: account pages, company pages under /c/<company_slug>/, and the staff admin.

Every page that shows or changes a company's data must live in `company_urlpatterns`: the tenancy
middleware resolves the membership for that prefix, and the tenant-isolation test walks it.
"""

from django.contrib import admin
from django.urls import include, path

from companies import account_views
from dynamik.health import healthz
from ledger.dashboard.views import dashboard
from ledger.figures.views import overview

company_urlpatterns = [
    path("", include("companies.company_urls")),
    path("", include("ledger.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("konto/logg-inn/", account_views.LoginView.as_view(), name="login"),
    path("konto/logg-ut/", account_views.LogoutView.as_view(), name="logout"),
    # The start page: every company the user belongs to, with its figures and sync state.
    path("", overview, name="home"),
    # The office dashboard: result, budget, liquidity, transactions, sync and packs of every firm.
    path("kontor/", dashboard, name="office_dashboard"),
    path("", include("companies.urls")),
    path("rapportpakker/", include("ledger.packs.office_urls")),
    path("c/<slug:company_slug>/", include(company_urlpatterns)),
]

handler404 = "dynamik.views.page_not_found"
handler500 = "dynamik.views.server_error"
handler403 = "dynamik.views.permission_denied"

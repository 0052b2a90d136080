"""Ledger pages under /c/<company_slug>/: transactions and booking, sync, figures."""

from ledger.urls_figures import urlpatterns as figures_urls
from ledger.urls_sync import urlpatterns as sync_urls
from ledger.urls_transactions import urlpatterns as transaction_urls

app_name = "ledger"

urlpatterns = [*transaction_urls, *sync_urls, *figures_urls]

"""Ledger pages under /c/<company_slug>/: transactions and booking, sync, figures, budgets, report
packs and the group view."""

from ledger.booking.urls import urlpatterns as booking_urls
from ledger.budgets.urls import urlpatterns as budget_urls
from ledger.contract_notes.urls import urlpatterns as contract_note_urls
from ledger.figures.urls import urlpatterns as figures_urls
from ledger.groups.urls import urlpatterns as group_urls
from ledger.holdings.urls import urlpatterns as holdings_urls
from ledger.imports.urls import urlpatterns as import_urls
from ledger.packs.urls import urlpatterns as pack_urls
from ledger.sync.urls import urlpatterns as sync_urls
from ledger.transactions.urls import urlpatterns as transaction_urls

app_name = "ledger"

urlpatterns = [
    *transaction_urls,
    *contract_note_urls,
    *import_urls,
    *holdings_urls,
    *booking_urls,
    *sync_urls,
    *figures_urls,
    *budget_urls,
    *pack_urls,
    *group_urls,
]

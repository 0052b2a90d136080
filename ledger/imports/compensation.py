"""A compensation paid into a broker account (Nordnet's ERSTATNING): the account it is income on
is chosen by a person in the inbox.

The fact sheet lists ERSTATNING among the types Norwegian parsers map, without saying what it is
paid for; the word means compensation. The cash leg is known from the file (Dr the broker
account's GL cash account with `Beløp`, in NOK); the other side depends on why the broker paid
(a finance income such as 8090 "Annen finansinntekt", another operating income such as 3900
"Annen driftsrelatert inntekt", or a cost it refunds), which the file does not say. So nothing
is proposed: no GL role fits (GLAccountSettings has none for this), and a guess posted as fact
would be wrong as often as right. The row waits in the inbox with a "choose the account" problem
until a person chooses one from the firm's chart (an active account kept in NOK: the entry is a
journal entry, posted in NOK). The direct import refuses such a file's rows, pointing here.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.imports.base import COMPENSATION
from ledger.imports.inbox import batch_check
from ledger.models import ImportBatch, InboxRow
from ledger.transactions.vouchers import ChartAccount


class CompensationRefused(Exception):
    """The account cannot be set: the batch is closed, or the row is no compensation."""


def compensation_accounts(*, chart: dict[int, ChartAccount]) -> list[ChartAccount]:
    """The accounts a compensation can be posted against: active, kept in NOK, by number."""
    return sorted(
        (a for a in chart.values() if not a.is_inactive and not a.is_foreign),
        key=lambda a: a.number,
    )


@transaction.atomic
def compensation_account_set(*, company: Company, row: InboxRow, account_number: int) -> InboxRow:
    """Give a compensation row the account it is income on, then check the batch again; raises
    CompensationRefused when the batch is no longer open or the row is not a compensation."""
    batch = ImportBatch.objects.select_for_update().get(company=company, pk=row.batch_id)
    if not batch.is_open:
        raise CompensationRefused(
            _("This file was %(status)s already.") % {"status": batch.get_status_display()}
        )
    if row.kind != COMPENSATION:
        raise CompensationRefused(_("This row is not a compensation."))
    row.data = {**row.data, "counter_account": account_number}
    row.edited = True
    row.save(update_fields=["data", "edited"])
    batch_check(company=company, batch=batch)
    return row

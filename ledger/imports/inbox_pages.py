"""What the inbox pages show (selectors): a batch's rows a page at a time, grouped per broker
account, each with the voucher it would become (ledger/transactions/vouchers.py's preview), and
the batch's summary: counts, types, the Saldo gaps with the rows around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from companies.models import Company
from ledger.imports.base import COMPENSATION, FEE_REFUND, IMPORT_KIND_LABELS
from ledger.imports.inbox import (
    batch_counts,
    candidate,
    check_note_for_reader,
    counts_message,
    problems_for_reader,
)
from ledger.models import ImportBatch, InboxRow, Transaction
from ledger.transactions.vouchers import (
    DEFAULT_ACCOUNT_NAMES,
    VoucherLine,
    VoucherPreview,
    chart_known,
    voucher_description,
    voucher_preview,
)

PAGE_SIZE = 100
# Rows the securities form cannot hold: a refund of fees (a journal entry), a compensation (its
# account is chosen on its own page, inbox_row_account) and a currency exchange (two accounts).
NOT_ON_THE_FORM = (FEE_REFUND, COMPENSATION, Transaction.Kind.CURRENCY_EXCHANGE)


@dataclass
class ShownRow:
    """One row as the batch page shows it."""

    row: InboxRow
    kind_label: str
    values: dict[str, Any]
    preview: VoucherPreview

    @property
    def correctable(self) -> bool:
        """The row can be corrected on the securities form (the batch page's "Correct")."""
        return self.row.kind not in NOT_ON_THE_FORM

    @property
    def quantity_decimals(self) -> int:
        """As many decimals as the quantity has (fund units have some, shares none)."""
        quantity = self.values.get("quantity")
        if not isinstance(quantity, Decimal):
            return 0
        exponent = quantity.normalize().as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@dataclass
class MissingIsin:
    """An instrument of the batch known only by the broker's ticker and MIC, with no ISIN yet."""

    instrument_ref: str
    name: str
    rows: int


def instruments_without_isin(*, company: Company, batch: ImportBatch) -> list[MissingIsin]:
    """The batch's instruments (DNB: TICKER.MIC) whose rows have no ISIN, to be given once."""
    found: dict[str, MissingIsin] = {}
    stored = (
        InboxRow.objects.filter(company=company, batch=batch, transaction__isnull=True)
        .exclude(instrument_ref="")
        .order_by("position")
        .values_list("instrument_ref", "data")
    )
    for ref, data in stored:
        if data.get("isin"):
            continue
        item = found.setdefault(ref, MissingIsin(ref, str(data.get("instrument_name") or ""), 0))
        item.rows += 1
    return sorted(found.values(), key=lambda m: (m.name.lower(), m.instrument_ref))


@dataclass
class Group:
    """The rows of one broker account on this page."""

    label: str
    rows: list[ShownRow] = field(default_factory=list)


def _kind_label(kind: str) -> str:
    if kind in IMPORT_KIND_LABELS:
        return str(IMPORT_KIND_LABELS[kind])
    return str(dict(Transaction.Kind.choices).get(kind, kind))


def _preview(company: Company, row: InboxRow) -> VoucherPreview:
    """The voucher the row would become: the preview builder with the batch's FIFO cost (the
    rows before it in the batch are not saved, so the walk of the batch check knows the cost)."""
    item = candidate(company, row)
    txn = item.txn
    if item.lines is None:
        txn.cost_basis = row.cost
        return voucher_preview(company=company, txn=txn)
    # A refund of fees is a journal entry whose lines are not saved yet: its lines as stored.
    chart = chart_known(company=company)
    preview = VoucherPreview(
        date=txn.trade_date, description=voucher_description(txn), external_voucher_number=""
    )
    for number, line in enumerate(item.lines, start=1):
        amount = Decimal(line.get("debit") or 0) - Decimal(line.get("credit") or 0)
        account = chart.get(line["account_number"])
        name = account.name if account else DEFAULT_ACCOUNT_NAMES.get(line["account_number"], "")
        preview.lines.append(
            VoucherLine(
                row=number,
                account_number=line["account_number"],
                amount=amount,
                description=line.get("description", ""),
                account_name=name,
            )
        )
    return preview


def _rows(company: Company, batch: ImportBatch, only_problems: bool) -> QuerySet[InboxRow]:
    rows = InboxRow.objects.filter(company=company, batch=batch).select_related("broker_account")
    if only_problems:
        rows = rows.filter(excluded=False).exclude(problems=[])
    return rows.order_by("broker_account__broker", "broker_account__number", "position")


def batch_page(
    *, company: Company, batch: ImportBatch, page: str, only_problems: bool = False
) -> dict[str, Any]:
    """The context of the batch page."""
    paginator = Paginator(_rows(company, batch, only_problems), PAGE_SIZE)
    current = paginator.get_page(page)
    groups: list[Group] = []
    in_reader_language = problems_for_reader(company=company, batch=batch)
    for row in current.object_list:
        if in_reader_language is not None:
            row.problems = in_reader_language.get(row.pk, [])
        label = row.broker_account.label if row.broker_account else _("No broker account")
        if not groups or groups[-1].label != label:
            groups.append(Group(label))
        groups[-1].rows.append(
            ShownRow(row, _kind_label(row.kind), row.values, _preview(company, row))
        )
    counts = batch_counts(company=company, batch=batch)
    new = sum(t[3] for t in batch.types)
    return {
        "batch": batch,
        "groups": groups,
        "page_obj": current,
        "only_problems": only_problems,
        "counts": counts,
        "summary": counts_message(new=new, already=batch.already),
        "check_note": check_note_for_reader(company=company, batch=batch),
        "saldo_gaps": [_gap(gap) for gap in batch.saldo_gaps],
        "missing_isins": instruments_without_isin(company=company, batch=batch)
        if batch.is_open
        else [],
    }


def _gap(gap: dict[str, Any]) -> dict[str, Any]:
    """A Saldo gap with its rows' amounts as Decimals (the template formats them)."""
    rows = [
        {
            **r,
            "amount": Decimal(r["amount"]),
            "saldo": Decimal(r["saldo"]),
            "is_gap": str(r["line"]) == str(gap["line"]),
        }
        for r in gap["rows"]
    ]
    saldo = next((r["saldo"] for r in rows if r["is_gap"]), None)
    return {**gap, "expected": Decimal(gap["expected"]), "saldo": saldo, "rows": rows}


def row_problems(*, company: Company, row: InboxRow) -> list[str]:
    """The row's problems in the reader's language (inbox.problems_for_reader)."""
    in_reader_language = problems_for_reader(company=company, batch=row.batch)
    if in_reader_language is None:
        return list(row.problems)
    return in_reader_language.get(row.pk, [])


def row_form_initial(row: InboxRow) -> dict[str, Any]:
    """The transaction form's initial values from the stored row."""
    values = row.values
    initial = {name: values.get(name) for name in values}
    initial["currency"] = values.get("currency") or "NOK"
    initial["settle_via"] = values.get("settle_via") or Transaction.SettleVia.BANK
    return initial

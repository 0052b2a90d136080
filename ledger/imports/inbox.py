"""The import inbox: a broker file's rows checked by a person before they become transactions.

As in Dynamik Insight (its help pages: contract notes reach an inbox, are checked and controlled in
an overview, then booked), an uploaded Nordnet or DNB file does not import anything as ready:

* **Upload** (`inbox_upload`): the format is detected and parsed as the direct import does
  (ledger/imports/registry.py, the format modules), the rows get their broker account
  (ledger/imports/service.py), and each *new* row is stored as an InboxRow of an ImportBatch. A
  row is not new when the firm already has it — a transaction or a row waiting in another open
  batch with the same broker id (Nordnet's `Id`, stored as `broker_ref`), or the same
  contract-note number (`Sluttseddelnummer`) for a row of the same type and trade date (the same
  trade exported in the older layout, whose id lacks the portfolio) — so re-importing an
  overlapping file says "12 new, 40 already imported" and adds only the 12. The Saldo check's
  gaps are kept with the file's rows around each, to show as warnings.
* **Check** (`batch_check`, after the upload and every change): every row not left out is checked
  as the transaction form checks it (securities_problems, journal_line_problems), against what
  Tripletex would refuse (ledger/transactions/checks.py: the date's period, every account posted
  to, what fits the columns; the broker account's own cash account too), and FIFO over the firm's
  history and the batch's rows in one walk (ledger/holdings/services.py `fifo_verdict`, which
  also gives each sale's cost for its voucher preview). The walk covers the rows in the order
  they will be saved: trade date, deposits and purchases before sales of the same day, then the
  file's order. Each check is linear in the rows: one query for the history, one walk.
* **Fix or leave out** (`row_update`, `row_exclude`): a row's fields are changed through the
  transaction form's validation (ledger/transactions/forms.py SecuritiesForm), then the batch is
  checked again (a changed purchase changes the sales after it).
* **Accept** (`batch_accept`): all or nothing. The chart and periods are read again when a day
  old (checks.reference_load), the whole batch is checked once more, and if any row not left out
  has a problem nothing is saved and the page says how many rows to fix. Otherwise every row
  becomes a ready transaction exactly as transaction_create would save it (status ready, its
  external voucher number, source "broker file", the broker account, FX rate, tax withheld,
  broker ids and contract-note number) — written in bulk, since every check transaction_create
  makes per row has just been made for the whole batch (ledger/transactions/bulk.py, the write the
  direct import shares).
* **Read** (`problems_for_reader`): a row's problems are stored as the check wrote them, in the
  language of whoever made it (`ImportBatch.checked_language`); a person reading in another
  language (or a batch checked before the language was kept) gets the same check made again in
  memory, in theirs. The counts and the "with problems" filter do not depend on the language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.imports.base import IMPORT_KIND_LABELS, ParsedFile, ParsedRow
from ledger.imports.registry import format_detect
from ledger.imports.service import (
    DAY_ORDER,
    FileImport,
    TypeCount,
    account_for,
    file_accounts_resolve,
    imported_refs,
    imported_rows_remember,
    isin_remember,
    isins_remember,
    remembered_isins_apply,
    row_prepare,
)
from ledger.models import BrokerAccount, ImportBatch, InboxRow, Transaction
from ledger.models.inbox import data_to_json
from ledger.transactions.bulk import BULK, NewTransaction, transactions_save_ready
from ledger.transactions.checks import (
    Reference,
    column_problems,
    entry_problems,
    reference_load,
    reference_note,
    reference_stored,
)
from ledger.transactions.fifo import fifo_verdict
from ledger.transactions.services import SECURITIES_FIELDS, transaction_unsaved
from ledger.transactions.vouchers import (
    exchange_is_nothing,
    gl_settings_get,
)

Kind = Transaction.Kind


@dataclass
class Upload:
    """What an upload did: the batch it stored (None when the file was refused) and why not."""

    batch: ImportBatch | None = None
    format_label: str = ""
    new: int = 0
    already: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.batch is not None and not self.errors


@dataclass
class Accepted:
    """What accepting a batch did: how many transactions it saved, or why it saved none."""

    created: int = 0
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.refused


def counts_message(*, new: int, already: int) -> str:
    """'12 new, 40 already imported' (in the page's language)."""
    return _("%(new)s new, %(already)s already imported") % {"new": new, "already": already}


# ---- upload ------------------------------------------------------------------------------------


def _known(company: Company, key: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The broker ids the firm has (transactions and rows waiting in open batches) and its
    (contract-note number, type, trade date) triples, for the dedupe."""
    refs: set[str] = set(imported_refs(company, key))
    notes: set[tuple[str, str, str]] = set()
    prefix = f"{key}:"
    stored = Transaction.objects.filter(company=company, broker_ref__startswith=prefix)
    for ref, other, number, kind, day in stored.values_list(
        "broker_ref", "broker_ref_other", "contract_note_number", "kind", "trade_date"
    ):
        refs.update(r for r in (ref, other) if r)
        if number:
            notes.add((number, kind, day.isoformat()))
    waiting = InboxRow.objects.filter(
        company=company, batch__status=ImportBatch.Status.OPEN, broker_ref__startswith=prefix
    )
    for ref, other, number, kind, data in waiting.values_list(
        "broker_ref", "broker_ref_other", "contract_note_number", "kind", "data"
    ):
        refs.update(r for r in (ref, other) if r)
        if number:
            notes.add((number, kind, str(data.get("trade_date") or "")))
    return refs, notes


def _new_rows(
    company: Company, key: str, parsed: ParsedFile, result: FileImport
) -> list[ParsedRow]:
    """The file's rows the firm does not have yet, counted per type (see the module docstring)."""
    refs, notes = _known(company, key)
    labels = dict(Kind.choices) | IMPORT_KIND_LABELS
    types: dict[tuple[str, str], TypeCount] = {}
    new: list[ParsedRow] = []
    for row in parsed.rows:
        count = types.setdefault(
            (row.source_type, row.kind),
            TypeCount(row.source_type, str(labels.get(row.kind, row.kind))),
        )
        count.rows += 1
        day = row.data.get("trade_date")
        note = (row.contract_note_number, row.kind, day.isoformat() if day else "")
        if (row.broker_ref and row.broker_ref in refs) or (
            row.contract_note_number and note in notes
        ):
            result.already += 1
            continue
        if not row.broker_ref:
            result.warnings.append(
                (row.line, _("The row has no transaction id: a re-import would add it again."))
            )
        refs.update(r for r in (row.broker_ref, row.broker_ref_other) if r)
        if row.contract_note_number:
            notes.add(note)
        count.new += 1
        new.append(row)
    result.types = list(types.values())
    result.new = len(new)
    return new


def _save_order(row: ParsedRow) -> tuple[Any, int, int]:
    """The order rows are checked and saved in: date, deposits and purchases first, file order."""
    return (row.data.get("trade_date"), DAY_ORDER.get(row.data["kind"], 3), row.line)


@transaction.atomic
def inbox_upload(
    *,
    company: Company,
    content: bytes,
    file_name: str,
    by: User | None,
    account: BrokerAccount | None = None,
) -> Upload:
    """Store a broker file's new rows in the inbox as a batch to check; nothing is saved as a
    transaction. A file that cannot be read, or names an account the firm does not have, is
    refused with its problems (nothing stored)."""
    fmt = format_detect(content)
    if fmt is None or fmt.key == "csv":
        text = (
            _(
                "The file's format is not recognised: import a Nordnet or DNB export, or our own "
                "CSV layout."
            )
            if fmt is None
            else _(
                "This is our own CSV layout, which is imported directly: use Transactions → "
                "Import. The inbox takes Nordnet and DNB exports."
            )
        )
        return Upload(errors=[(1, text)])
    parsed = fmt.parse(content)
    result = FileImport(format_label=parsed.format_label, errors=list(parsed.errors))
    upload = Upload(format_label=parsed.format_label)
    if not result.ok:
        upload.errors = sorted(result.errors)
        return upload
    accounts = file_accounts_resolve(company, fmt.key, parsed, account, result)
    if not result.ok:
        upload.errors = sorted(result.errors)
        return upload
    gap_warnings = {(gap.line, gap.warning) for gap in parsed.saldo_gaps}
    result.warnings = [w for w in parsed.warnings if w not in gap_warnings]
    new_rows = _new_rows(company, fmt.key, parsed, result)
    if fmt.key == "dnb":
        # The ISIN of each ticker + MIC when remembered; the instruments still without one are
        # asked on the batch page (instruments_without_isin), not listed as warnings.
        remembered_isins_apply(company, new_rows, FileImport())
    batch = ImportBatch.objects.create(
        company=company,
        format_key=fmt.key,
        format_label=parsed.format_label,
        file_name=file_name[:255],
        already=result.already,
        cancelled=parsed.cancelled,
        types=[[t.source_type, t.kind_label, t.rows, t.new] for t in result.types],
        unknown_types=dict(parsed.unknown_types),
        manual_types=dict(parsed.manual_types),
        warnings=[[line, text] for line, text in sorted(result.warnings)],
        saldo_gaps=[
            {"line": g.line, "warning": g.warning, "expected": g.expected, "rows": g.rows}
            for g in parsed.saldo_gaps
        ],
        created_by=by if by is not None and by.pk else None,
    )
    rows = [
        InboxRow(
            company=company,
            batch=batch,
            line=row.line,
            position=position,
            source_type=row.source_type[:80],
            kind=row.kind,
            data=data_to_json(row.data),
            account_number=row.account_number,
            broker_account=account_for(accounts, row),
            broker_ref=row.broker_ref,
            broker_ref_other=row.broker_ref_other,
            contract_note_number=row.contract_note_number,
            instrument_ref=row.instrument_ref[:80],
            fx_rate=row.fx_rate,
            tax_withheld=row.tax_withheld,
        )
        for position, row in enumerate(sorted(new_rows, key=_save_order))
    ]
    # Checked before they are written, so each row is written once, with its verdict.
    ref = _reference(company, [row.data.get("trade_date") for row in new_rows])
    _check_rows(company, rows, ref)
    InboxRow.objects.bulk_create(rows, batch_size=BULK)
    batch.checked_at, batch.check_note = timezone.now(), reference_note(ref)
    batch.checked_language = _language()
    batch.save(update_fields=["checked_at", "check_note", "checked_language"])
    upload.batch, upload.new, upload.already = batch, result.new, result.already
    return upload


# ---- the check -----------------------------------------------------------------------------------


def as_parsed(row: InboxRow) -> ParsedRow:
    """The stored row as the format made it (what ledger/imports/service.py prepares)."""
    return ParsedRow(
        line=row.line,
        source_type=row.source_type,
        kind=row.kind,
        data=row.values,
        broker_ref=row.broker_ref,
        account_number=row.account_number,
        fx_rate=row.fx_rate,
        tax_withheld=row.tax_withheld,
        broker_ref_other=row.broker_ref_other,
        contract_note_number=row.contract_note_number,
        instrument_ref=row.instrument_ref,
    )


@dataclass
class Candidate:
    """A row of the batch as the transaction it would be saved as."""

    row: InboxRow
    txn: Transaction
    data: dict[str, Any]
    lines: list[dict[str, Any]] | None
    problems: list[str] = field(default_factory=list)
    cost: Decimal | None = None


def candidate(company: Company, row: InboxRow) -> Candidate:
    """The row as an unsaved transaction (with its broker account and FX fields), its problems
    from the form's own validation and what fits the columns."""
    scratch = FileImport()
    account = row.broker_account
    accounts = {row.account_number: account} if account is not None else {}
    prepared = row_prepare(company, as_parsed(row), accounts, scratch)
    txn = transaction_unsaved(company=company, data=prepared.data)
    txn.broker_account = account
    txn.to_broker_account = prepared.to_account
    txn.fx_rate = row.fx_rate if txn.kind != Kind.JOURNAL else None
    txn.tax_withheld = row.tax_withheld if txn.kind == Kind.DIVIDEND else Decimal("0.00")
    txn.broker_ref, txn.broker_ref_other = row.broker_ref, row.broker_ref_other
    txn.contract_note_number = row.contract_note_number
    txn.source = Transaction.Source.BROKER
    found = Candidate(row, txn, prepared.data, prepared.lines)
    found.problems = [message for _line, message in scratch.errors]
    if account is None:
        found.problems.append(
            _("The broker account of this row was removed: add it under Broker accounts.")
        )
    names = [name for name in SECURITIES_FIELDS if name in prepared.data]
    found.problems += column_problems(txn, names)
    return found


def _reference(company: Company, days: Iterable[date | None]) -> Reference:
    """The chart and periods for the checks, read again when a day old or when a trade date's
    fiscal year has none stored yet (checks.reference_load)."""
    return reference_load(company=company, days=sorted({d for d in days if d is not None}))


def _batch_days(company: Company, batch: ImportBatch) -> list[date | None]:
    stored = InboxRow.objects.filter(company=company, batch=batch).values_list("data", flat=True)
    return [date.fromisoformat(d["trade_date"]) if d.get("trade_date") else None for d in stored]


def batch_check(
    *, company: Company, batch: ImportBatch, reference: Reference | None = None
) -> list[Candidate]:
    """Check every row not left out (module docstring) and store each row's problems and cost;
    the candidates, in saving order, for whoever saves them."""
    ref = reference if reference is not None else reference_stored(company=company)
    rows = _batch_rows(company, batch)
    included, changed = _check_rows(company, rows, ref)
    InboxRow.objects.bulk_update(changed, ["problems", "cost"], batch_size=BULK)
    batch.checked_at = timezone.now()
    batch.check_note = reference_note(ref)
    batch.checked_language = _language()
    batch.save(update_fields=["checked_at", "check_note", "checked_language"])
    return included


def _language() -> str:
    """The language the check's messages are being written in."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _batch_rows(company: Company, batch: ImportBatch) -> list[InboxRow]:
    """The batch's rows in saving order, with their broker accounts (each loaded once, not one
    instance per row as select_related would make them)."""
    rows = list(InboxRow.objects.filter(company=company, batch=batch).order_by("position"))
    ids = {row.broker_account_id for row in rows if row.broker_account_id is not None}
    accounts = BrokerAccount.objects.filter(company=company).in_bulk(ids)
    for row in rows:
        if row.broker_account_id is not None:
            row.broker_account = accounts.get(row.broker_account_id)
    return rows


def check_note_for_reader(*, company: Company, batch: ImportBatch) -> str:
    """What the last check could not check, in the reader's language: said again from the stored
    chart and periods when the check was made in another language (a refresh that failed is not
    stored, so its note stays as written)."""
    if not batch.check_note or batch.checked_language == _language():
        return batch.check_note
    return reference_note(reference_stored(company=company)) or batch.check_note


def problems_for_reader(*, company: Company, batch: ImportBatch) -> dict[int, list[str]] | None:
    """The rows' problems in the reader's language: None when the stored ones are in it (or no
    row has any), else {row id: problems} from the same check made again in memory (nothing is
    stored), so each person reads them in their own language whoever checked the batch last."""
    if batch.checked_language == _language():
        return None
    with_problems = InboxRow.objects.filter(company=company, batch=batch, excluded=False).exclude(
        problems=[]
    )
    if not with_problems.exists():
        return None
    rows = _batch_rows(company, batch)
    _check_rows(company, rows, reference_stored(company=company))
    return {row.pk: row.problems for row in rows}


def _check_rows(
    company: Company, rows: list[InboxRow], ref: Reference
) -> tuple[list[Candidate], list[InboxRow]]:
    """The check of `rows` (saved or not, in saving order): the candidates of those not left out,
    and the rows whose problems or cost changed (set on them)."""
    gl = gl_settings_get(company=company)
    included = [candidate(company, row) for row in rows if not row.excluded]
    taken = _taken_refs(company, [c.row for c in included if c.row.pk])
    for item in included:
        lines = item.lines or []
        item.problems += entry_problems(
            company=company,
            txn=item.txn,
            line_accounts=[line.get("account_number") for line in lines],
            ref=ref,
            gl=gl,
        )
        if item.row.broker_ref in taken:
            item.problems.append(_("This row was imported since (by another file or batch)."))
    securities = [c for c in included if c.lines is None]
    verdict = fifo_verdict(company=company, txns=[c.txn for c in securities])
    for index, messages in verdict.problems().items():
        securities[index].problems += messages
    for index, sale_cost in verdict.costs.items():
        securities[index].cost = sale_cost
    changed = []
    fresh = {id(c.row): c for c in included}
    for row in rows:
        checked = fresh.get(id(row))
        problems = checked.problems if checked is not None else []
        cost = checked.cost if checked is not None else None
        if row.problems != problems or row.cost != cost:
            row.problems, row.cost = problems, cost
            changed.append(row)
    return included, changed


def _taken_refs(company: Company, rows: list[InboxRow]) -> set[str]:
    """Broker ids of these rows that a transaction has by now (imported since the upload)."""
    refs = {r for row in rows for r in (row.broker_ref, row.broker_ref_other) if r}
    if not refs:
        return set()
    prefixes = {ref.split(":", 1)[0] + ":" for ref in refs}
    taken: set[str] = set()
    for prefix in prefixes:
        stored = Transaction.objects.filter(company=company, broker_ref__startswith=prefix)
        for ref, other in stored.values_list("broker_ref", "broker_ref_other"):
            taken.update(r for r in (ref, other) if r in refs)
    return taken


# ---- fix, leave out ------------------------------------------------------------------------------


class BatchClosed(Exception):
    """The batch was accepted or discarded: its rows can no longer change."""


def _open_locked(company: Company, batch: ImportBatch) -> ImportBatch:
    locked = ImportBatch.objects.select_for_update().get(company=company, pk=batch.pk)
    if not locked.is_open:
        raise BatchClosed(
            _("This file was %(status)s already.") % {"status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def row_update(*, company: Company, row: InboxRow, form_data: dict[str, Any]) -> InboxRow:
    """Change a row's fields to what the transaction form cleaned, then check the batch again."""
    batch = _open_locked(company, row.batch)
    data = dict(row.values)
    for name in SECURITIES_FIELDS:
        if name in form_data:
            data[name] = form_data[name]
    if data.get("currency", "NOK") == "NOK":
        data["amount_currency"] = None
    row.data = data_to_json(data)
    row.kind = data["kind"]
    row.edited = True
    row.save(update_fields=["data", "kind", "edited"])
    batch_check(company=company, batch=batch)
    return row


@transaction.atomic
def row_exclude(*, company: Company, row: InboxRow, excluded: bool) -> InboxRow:
    """Leave a row out of the batch (or take it back in), then check the batch again."""
    batch = _open_locked(company, row.batch)
    row.excluded = excluded
    row.save(update_fields=["excluded"])
    batch_check(company=company, batch=batch)
    return row


class IsinRefused(Exception):
    """The ISIN given for an instrument is not valid, or no row of the batch is that instrument."""


@transaction.atomic
def instrument_isin_set(
    *, company: Company, batch: ImportBatch, instrument_ref: str, isin: str, by: User | None
) -> int:
    """Give every row of the batch for the broker's instrument `instrument_ref` (DNB: TICKER.MIC)
    the ISIN, remember it for the firm's later files (service.isin_remember), then check the
    batch again; how many rows it filled."""
    from stdnum import isin as stdnum_isin

    batch = _open_locked(company, batch)
    isin = "".join(isin.split()).upper()
    if not stdnum_isin.is_valid(isin):
        raise IsinRefused(_("%(isin)s is not a valid ISIN.") % {"isin": isin or "—"})
    rows = list(
        InboxRow.objects.filter(company=company, batch=batch, instrument_ref=instrument_ref)
        .exclude(instrument_ref="")
        .filter(transaction__isnull=True)
    )
    if not rows:
        raise IsinRefused(
            _("No row of this file is the instrument %(ref)s.") % {"ref": instrument_ref or "—"}
        )
    for row in rows:
        row.data = {**row.data, "isin": isin}
    InboxRow.objects.bulk_update(rows, ["data"], batch_size=BULK)
    isin_remember(
        company=company,
        instrument_ref=instrument_ref,
        name=str(rows[0].data.get("instrument_name") or ""),
        isin=isin,
        by=by,
    )
    batch_check(company=company, batch=batch)
    return len(rows)


@transaction.atomic
def batch_discard(*, company: Company, batch: ImportBatch, by: User | None) -> None:
    """Throw the batch away: nothing of it is saved (its rows may be uploaded again)."""
    locked = _open_locked(company, batch)
    locked.status = ImportBatch.Status.DISCARDED
    locked.decided_by, locked.decided_at = (by if by and by.pk else None), timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    InboxRow.objects.filter(company=company, batch=locked).delete()


# ---- accept ----------------------------------------------------------------------------------------


@transaction.atomic
def batch_accept(*, company: Company, batch: ImportBatch, by: User | None) -> Accepted:
    """Save every row not left out as a ready transaction, or none (module docstring)."""
    try:
        locked = _open_locked(company, batch)
    except BatchClosed as exc:
        return Accepted(refused=str(exc))
    ref = _reference(company, _batch_days(company, locked))
    included = batch_check(company=company, batch=locked, reference=ref)
    if not included:
        return Accepted(refused=_("Every row is left out: there is nothing to accept."))
    bad = sum(1 for item in included if item.problems)
    if bad:
        return Accepted(
            refused=_(
                "Nothing was saved: %(n)s row(s) have problems. Correct them or leave them out, "
                "then accept again."
            )
            % {"n": bad}
        )
    created = _save(company, included, by)
    isins_remember(company=company, rows=[as_parsed(item.row) for item in included], by=by)
    locked.status = ImportBatch.Status.ACCEPTED
    locked.decided_by, locked.decided_at = (by if by and by.pk else None), timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return Accepted(created=created)


def _save(company: Company, items: list[Candidate], by: User | None) -> int:
    """Write the checked candidates as transaction_create writes one (module docstring)."""
    # A currency exchange within one cash account is remembered as imported, not saved.
    nothing = [item for item in items if exchange_is_nothing(item.txn)]
    imported_rows_remember(company=company, rows=[as_parsed(item.row) for item in nothing])
    items = [item for item in items if not exchange_is_nothing(item.txn)]
    rows = [NewTransaction(item.txn, item.data, item.lines) for item in items]
    txns = transactions_save_ready(company=company, rows=rows, by=by)
    # Each row to its transaction: by the broker's id in one statement, the few without one by pk.
    batch_rows = InboxRow.objects.filter(company=company, pk__in=[i.row.pk for i in items])
    # (The subquery names broker_ref != '' so PostgreSQL can use the partial unique index.)
    named = Transaction.objects.filter(company=company, broker_ref=OuterRef("broker_ref"))
    batch_rows.exclude(broker_ref="").update(
        transaction=Subquery(named.exclude(broker_ref="").values("pk")[:1])
    )
    unnamed = [item.row for item in items if not item.row.broker_ref]
    for item in items:
        item.row.transaction = item.txn
    InboxRow.objects.bulk_update(unnamed, ["transaction"], batch_size=BULK)
    return len(txns)


# ---- reading -----------------------------------------------------------------------------------


def batches_open(*, company: Company) -> list[ImportBatch]:
    """The firm's batches still to check, newest first, with their row counts."""
    from django.db.models import Count

    return list(
        ImportBatch.objects.filter(company=company, status=ImportBatch.Status.OPEN).annotate(
            row_count=Count("rows", filter=Q(rows__excluded=False)),
            problem_count=Count("rows", filter=Q(rows__excluded=False) & ~Q(rows__problems=[])),
        )
    )


def batches_recent(*, company: Company, limit: int = 10) -> list[ImportBatch]:
    """The firm's last accepted or discarded batches."""
    return list(
        ImportBatch.objects.filter(company=company)
        .exclude(status=ImportBatch.Status.OPEN)
        .order_by("-decided_at", "-pk")[:limit]
    )


def batch_counts(*, company: Company, batch: ImportBatch) -> dict[str, int]:
    """Rows in all, left out, with problems, and those that can be accepted (`to_accept`: not
    left out and without a problem; the batch is accepted only when no row left in has one,
    `can_accept`)."""
    rows = InboxRow.objects.filter(company=company, batch=batch)
    counts = Counter(
        "excluded" if excluded else ("problems" if problems else "ok")
        for excluded, problems in rows.values_list("excluded", "problems")
    )
    return {
        "rows": sum(counts.values()),
        "excluded": counts["excluded"],
        "problems": counts["problems"],
        "to_accept": counts["ok"],
        "can_accept": int(counts["ok"] > 0 and not counts["problems"]),
    }

"""Importing a transactions file of any known format: detect, parse, check, dedupe, save.

`file_import` is what the upload page and `manage.py import_transactions` call. The format is
chosen from the content (ledger/imports/registry.py). Our own CSV layout goes through its
existing import (ledger/transactions/csv_import.py) unchanged. A broker file's rows are:

* given their broker account: the file's account number (Nordnet's `Portefølje`) names one of
  the firm's BrokerAccounts, or, for a file without one, the account the user chose (or the
  firm's only account at that broker); an unknown number is an error naming it;
* deduplicated on the broker's own transaction id (stored on the transaction as `broker_ref`),
  so re-importing an overlapping file adds only the rows that are new;
* checked as the form and the CSV import check them (securities_problems, FIFO for the whole
  file in one walk over the firm's history, then transaction_create's own checks,
  `transaction_check`), all or nothing: any problem and nothing is saved;
* saved as ready to book, in trade-date order (purchases before sales of the same day), each
  with its broker account, FX rate, withholding tax and contract-note number — in bulk, as the
  inbox saves an accepted batch (ledger/transactions/bulk.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.imports.base import FEE_REFUND, ParsedFile, ParsedRow
from ledger.imports.registry import format_detect
from ledger.models import BrokerAccount, Instrument, Transaction
from ledger.transactions.bulk import (
    NewTransaction,
    transactions_check_many,
    transactions_save_ready,
)
from ledger.transactions.csv_import import transactions_import
from ledger.transactions.fifo import fifo_verdict
from ledger.transactions.services import (
    journal_line_problems,
    securities_problems,
    transaction_unsaved,
)
from ledger.transactions.vouchers import gl_settings_get

Kind = Transaction.Kind
BROKERS = {"nordnet": BrokerAccount.Broker.NORDNET, "dnb": BrokerAccount.Broker.DNB}
# Same-day order: money and holdings in before they go out.
DAY_ORDER = {Kind.CASH_DEPOSIT: 0, Kind.PURCHASE: 1, Kind.FUND_SWITCH: 2}


@dataclass
class TypeCount:
    """One type of the file: the broker's word, what we made of it, rows in all and new."""

    source_type: str
    kind_label: str
    rows: int = 0
    new: int = 0


@dataclass
class FileImport:
    """What an import found and did (or, as a preview, would do)."""

    format_label: str = ""
    types: list[TypeCount] = field(default_factory=list)
    new: int = 0
    already: int = 0
    cancelled: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    unknown_types: Counter[str] = field(default_factory=Counter)
    manual_types: Counter[str] = field(default_factory=Counter)
    created: list[Transaction] = field(default_factory=list)
    saved: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def file_import_messages(result: FileImport) -> list[tuple[int, str]]:
    """What a finished import tells the user: (message level, text), the summary first."""
    from django.contrib import messages

    found = [
        (
            messages.SUCCESS,
            _("%(format)s: imported %(new)s new, %(already)s already imported.")
            % {"format": result.format_label, "new": result.new, "already": result.already},
        )
    ]
    if result.cancelled:
        found.append(
            (messages.INFO, _("%(n)s cancelled row(s) left out.") % {"n": result.cancelled})
        )
    for name, count in sorted(result.unknown_types.items()):
        found.append(
            (
                messages.WARNING,
                _("Unknown type %(type)s (%(n)s row(s)): not imported.")
                % {"type": name, "n": count},
            )
        )
    for name, count in sorted(result.manual_types.items()):
        found.append(
            (
                messages.WARNING,
                _("%(type)s (%(n)s row(s)) needs its accounts chosen: record it by hand.")
                % {"type": name, "n": count},
            )
        )
    found += [
        (messages.WARNING, _("Line %(line)s: %(text)s") % {"line": line, "text": text})
        for line, text in result.warnings[:20]
    ]
    if len(result.warnings) > 20:
        found.append(
            (
                messages.WARNING,
                _("…and %(n)s more warnings.") % {"n": len(result.warnings) - 20},
            )
        )
    return found


class _Rollback(Exception):
    pass


def file_import(
    *,
    company: Company,
    content: bytes,
    by: User | None,
    account: BrokerAccount | None = None,
    save: bool = True,
) -> FileImport:
    """Detect the file's format and import it (save=False: only say what would be imported)."""
    fmt = format_detect(content)
    if fmt is None:
        return FileImport(
            errors=[
                (
                    1,
                    _(
                        "The file's format is not recognised: import a Nordnet or DNB export, "
                        "or our own CSV layout."
                    ),
                )
            ]
        )
    if fmt.key == "csv":
        return _own_csv(company=company, content=content, by=by, label=fmt.label, save=save)
    parsed = fmt.parse(content)
    result = FileImport(
        format_label=parsed.format_label,
        warnings=list(parsed.warnings),
        errors=list(parsed.errors),
        unknown_types=parsed.unknown_types,
        manual_types=parsed.manual_types,
        cancelled=parsed.cancelled,
    )
    accounts = file_accounts_resolve(company, fmt.key, parsed, account, result)
    new_rows = _new_rows(company, fmt.key, parsed, result)
    if fmt.key == "dnb":
        remembered_isins_apply(company, new_rows, result)
    prepared = [row_prepare(company, row, accounts, result) for row in new_rows]
    if result.ok:
        _fifo_errors(company, prepared, result)
    if not result.ok or not save:
        result.errors.sort()
        return result
    _save(company=company, by=by, prepared=prepared, result=result)
    if result.saved and fmt.key == "dnb":
        isins_remember(company=company, rows=[p.row for p in prepared], by=by)
    result.errors.sort()
    return result


def _own_csv(
    *, company: Company, content: bytes, by: User | None, label: str, save: bool
) -> FileImport:
    result = FileImport(format_label=label)
    try:
        with transaction.atomic():
            imported = transactions_import(company=company, content=content, by=by)
            if not save:
                raise _Rollback
    except _Rollback:
        pass
    result.errors = imported.errors
    labels = dict(Kind.choices)
    counts = Counter(t.kind for t in imported.created)
    result.types = [TypeCount(k, str(labels[k]), n, n) for k, n in sorted(counts.items())]
    result.new = len(imported.created)
    if save and imported.ok:
        result.created, result.saved = imported.created, True
    return result


def file_accounts_resolve(
    company: Company,
    key: str,
    parsed: ParsedFile,
    chosen: BrokerAccount | None,
    result: FileImport,
) -> dict[str, BrokerAccount]:
    """Account number in the file ('' for none) → the firm's broker account; errors for the rest."""
    broker = BROKERS[key]
    known = {a.number: a for a in BrokerAccount.objects.filter(company=company, broker=broker)}
    found: dict[str, BrokerAccount] = {}
    numbers = sorted({row.account_number for row in parsed.rows})
    for number in numbers:
        if number and number in known:
            found[number] = known[number]
        elif number:
            result.errors.append(
                (
                    next(r.line for r in parsed.rows if r.account_number == number),
                    _(
                        "The file is for %(broker)s account %(number)s, which this firm does not "
                        "have yet: add it under Broker accounts first."
                    )
                    % {"broker": broker.label, "number": number},
                )
            )
        elif chosen is not None and chosen.company_id == company.pk:
            found[""] = chosen
        elif len(known) == 1:
            found[""] = next(iter(known.values()))
        else:
            result.errors.append(
                (
                    1,
                    _(
                        "The file does not say which %(broker)s account it is for: choose the "
                        "broker account (add it under Broker accounts if it is missing)."
                    )
                    % {"broker": broker.label},
                )
            )
    return found


def _new_rows(
    company: Company, key: str, parsed: ParsedFile, result: FileImport
) -> list[ParsedRow]:
    """The rows not imported before (by the broker's id), counting both per type."""
    stored = Transaction.objects.filter(company=company, broker_ref__startswith=f"{key}:")
    known: set[str] = set()
    for ref, other in stored.values_list("broker_ref", "broker_ref_other"):
        known.add(ref)
        if other:
            known.add(other)
    labels = dict(Kind.choices) | {FEE_REFUND: _("Refund of fees")}
    types: dict[tuple[str, str], TypeCount] = {}
    new: list[ParsedRow] = []
    for row in parsed.rows:
        count = types.setdefault(
            (row.source_type, row.kind),
            TypeCount(row.source_type, str(labels.get(row.kind, row.kind))),
        )
        count.rows += 1
        if row.broker_ref and row.broker_ref in known:
            result.already += 1
            continue
        if not row.broker_ref:
            result.warnings.append(
                (row.line, _("The row has no transaction id: a re-import would add it again."))
            )
        if row.broker_ref:
            known.add(row.broker_ref)
        count.new += 1
        new.append(row)
    result.types = list(types.values())
    result.new = len(new)
    return new


def remembered_isins_apply(company: Company, rows: list[ParsedRow], result: FileImport) -> None:
    """An instrument known by ticker and MIC gets the ISIN remembered for it (Instrument's
    `instrument_ref`, given once in the inbox or learnt from an earlier import), else the ISIN
    the firm's earlier transactions of the same name carry; one without is imported by name,
    with a warning."""
    refs = {row.instrument_ref for row in rows if row.instrument_ref}
    by_ref = dict(
        Instrument.objects.filter(company=company, instrument_ref__in=refs)
        .exclude(isin="")
        .values_list("instrument_ref", "isin")
    )
    names = {row.data["instrument_name"] for row in rows}
    remembered = dict(
        Transaction.objects.filter(company=company, instrument_name__in=names)
        .exclude(isin="")
        .values_list("instrument_name", "isin")
    )
    warned: set[str] = set()
    for row in rows:
        isin = by_ref.get(row.instrument_ref) or remembered.get(row.data["instrument_name"], "")
        row.data["isin"] = isin
        if not isin and row.instrument_ref not in warned:
            warned.add(row.instrument_ref)
            result.warnings.append(
                (
                    row.line,
                    _("%(name)s (%(ref)s) has no ISIN in the file: imported by its name.")
                    % {"name": row.data["instrument_name"], "ref": row.instrument_ref},
                )
            )


def isin_remember(
    *, company: Company, instrument_ref: str, name: str, isin: str, by: User | None = None
) -> Instrument:
    """Remember that the broker's `instrument_ref` (DNB: TICKER.MIC) is `isin`, on the firm's
    Instrument of that ISIN (created with the default facts when it has none yet); a ticker and
    MIC names one instrument, so an older answer for it is forgotten."""
    from ledger.holdings.exemption import instrument_unsaved

    isin = isin.strip().upper()
    Instrument.objects.filter(company=company, instrument_ref=instrument_ref).exclude(
        key=isin
    ).update(instrument_ref="")
    found = Instrument.objects.filter(company=company, key=isin).first()
    if found is None:
        found = instrument_unsaved(company=company, key=isin, name=name, isin=isin)
        found.updated_by = by if by is not None and by.pk else None
    if found.instrument_ref == instrument_ref and found.isin:
        return found
    found.instrument_ref = instrument_ref
    found.isin = found.isin or isin
    found.save()
    return found


def isins_remember(*, company: Company, rows: list[ParsedRow], by: User | None = None) -> None:
    """Remember the ISIN of every ticker + MIC among saved rows (one answer per instrument)."""
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        isin = (row.data.get("isin") or "").strip().upper()
        if row.instrument_ref and isin:
            found[row.instrument_ref] = (row.data.get("instrument_name") or "", isin)
    for ref, (name, isin) in found.items():
        isin_remember(company=company, instrument_ref=ref, name=name, isin=isin, by=by)


@dataclass
class PreparedRow:
    """A file's row as transaction_create takes it: its data, the journal lines of a refund of
    fees (None for a securities row) and its broker account."""

    row: ParsedRow
    data: dict[str, Any]
    lines: list[dict[str, Any]] | None
    account: BrokerAccount | None


def row_prepare(
    company: Company, row: ParsedRow, accounts: dict[str, BrokerAccount], result: FileImport
) -> PreparedRow:
    """The row as transaction_create takes it, its problems added to the result."""
    account = accounts.get(row.account_number)
    if row.kind == FEE_REFUND:
        # A refund of fees: the broker account's cash up, the fees account down.
        gl = gl_settings_get(company=company)
        amount = row.data["amount"]
        cash = account.cash_account if account is not None else gl.bank
        text = row.data["description"]
        lines = [
            {"account_number": cash, "debit": amount, "credit": Decimal(0), "description": text},
            {"account_number": gl.fees, "debit": Decimal(0), "credit": amount, "description": text},
        ]
        data = {
            "kind": Kind.JOURNAL,
            "trade_date": row.data["trade_date"],
            "description": text,
            "note": row.data["note"],
        }
        for line in lines:
            result.errors.extend((row.line, p) for p in journal_line_problems(line))
        return PreparedRow(row, data, lines, account)
    if not row.data.get("trade_date"):
        result.errors.append((row.line, _("The date is missing.")))
    result.errors.extend((row.line, p) for p in securities_problems(row.data).values())
    return PreparedRow(row, row.data, None, account)


def _fifo_errors(company: Company, prepared: list[PreparedRow], result: FileImport) -> None:
    """FIFO over the file's rows and the firm's history in one walk (fifo_verdict, as the CSV
    import does): a sale of more than is held then, or a row that would change a booked sale's
    cost, is an error on its line."""
    securities = [p for p in prepared if p.lines is None]
    txns = [transaction_unsaved(company=company, data=p.data) for p in securities]
    verdict = fifo_verdict(company=company, txns=txns)
    for index, messages in verdict.problems().items():
        result.errors.extend((securities[index].row.line, m) for m in messages)


def _save(
    *, company: Company, by: User | None, prepared: list[PreparedRow], result: FileImport
) -> None:
    """Save every prepared row as ready (in bulk, ledger/transactions/bulk.py), or (with any
    problem) none."""
    ordered = sorted(
        prepared, key=lambda p: (p.data["trade_date"], DAY_ORDER.get(p.data["kind"], 3), p.row.line)
    )
    rows = [NewTransaction(_unsaved(company, item), item.data, item.lines) for item in ordered]
    problems = transactions_check_many(company=company, rows=rows)
    for index, messages in problems.items():
        result.errors.extend((ordered[index].row.line, m) for m in messages)
    if not result.errors:
        result.created, result.saved = (
            transactions_save_ready(company=company, rows=rows, by=by),
            True,
        )


def _unsaved(company: Company, item: PreparedRow) -> Transaction:
    """The row as the transaction it is saved as: its values, source and broker fields."""
    txn = transaction_unsaved(company=company, data=item.data)
    txn.source = Transaction.Source.BROKER
    txn.broker_account = item.account
    txn.fx_rate = item.row.fx_rate
    txn.tax_withheld = item.row.tax_withheld
    txn.broker_ref = item.row.broker_ref
    txn.broker_ref_other = item.row.broker_ref_other
    txn.contract_note_number = item.row.contract_note_number
    return txn

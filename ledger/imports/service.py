"""Importing a transactions file of any known format: detect, parse, check, dedupe, save.

`file_import` is what the upload page and `manage.py import_transactions` call. The format is
chosen from the content (ledger/imports/registry.py). Our own CSV layout goes through its
existing import (ledger/transactions/csv_import.py) unchanged. A broker file's rows are:

* given their broker account: the file's account number (Nordnet's `Portefølje`) names one of
  the firm's BrokerAccounts, or, for a file without one, the account the user chose (or the
  firm's only account at that broker); an unknown number is an error naming it. A portfolio
  with one BrokerAccount per currency (Nordnet's currency accounts) sends each row to the one of
  the currency its cash moved in (`account_for`); with a single BrokerAccount every row of the
  portfolio goes there;
* a currency exchange (Nordnet's SALG VALUTA + KJØP VALUTA, paired by the format) moves money
  from the sold currency's broker account to the bought one's; when both currencies are kept on
  the portfolio's one GL cash account it moves nothing in NOK: a pair without a fee is nothing
  to book (counted, and remembered as an ImportedRow so a re-import counts it as already
  imported), one with a fee is that fee (Dr fees, Cr the cash account) — the cash account's
  NOK balance fell by exactly the fee;
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from companies.models import Company, User
from ledger.imports.base import (
    COMPENSATION,
    FEE_REFUND,
    IMPORT_KIND_LABELS,
    ParsedFile,
    ParsedRow,
)
from ledger.imports.registry import format_detect
from ledger.models import BrokerAccount, ImportedRow, Instrument, Transaction
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
    # Currency exchanges within one GL cash account that net to nothing: imported, not booked.
    nothing_to_book: int = 0

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
    if result.nothing_to_book:
        found.append((messages.INFO, nothing_to_book_message(result.nothing_to_book)))
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


def nothing_to_book_message(count: int) -> str:
    """'2 currency exchange(s) within the account, nothing to book.'"""
    return _("%(n)s currency exchange(s) within the account, nothing to book.") % {"n": count}


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
    _compensations_refuse(new_rows, result)
    prepared = [
        row_prepare(company, row, accounts, result) for row in new_rows if row.kind != COMPENSATION
    ]
    result.nothing_to_book = sum(1 for p in prepared if p.nothing)
    # Each row as the transaction it would be saved as, made once for the FIFO walk and the save.
    unsaved = {id(p): _unsaved(company, p) for p in prepared if not p.nothing}
    if result.ok:
        _fifo_errors(company, prepared, unsaved, result)
    if not result.ok or not save:
        result.errors.sort()
        return result
    _save(company=company, by=by, prepared=prepared, unsaved=unsaved, result=result)
    if result.saved and fmt.key == "dnb":
        isins_remember(company=company, rows=[p.row for p in prepared], by=by)
    result.errors.sort()
    return result


def _compensations_refuse(rows: list[ParsedRow], result: FileImport) -> None:
    """A compensation (ERSTATNING) needs the account it is income on chosen by a person, which
    a direct import cannot ask: each such row is an error pointing to the inbox."""
    for row in rows:
        if row.kind == COMPENSATION:
            result.errors.append(
                (
                    row.line,
                    _(
                        "%(type)s (a compensation) needs a person to choose the account it is "
                        "income on: import the file through the inbox (Transactions → Inbox, "
                        "or import_transactions --inbox) and choose it there."
                    )
                    % {"type": row.source_type},
                )
            )


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


AccountKey = str | tuple[str, str]


def account_for(accounts: Mapping[Any, BrokerAccount], row: ParsedRow) -> BrokerAccount | None:
    """The row's broker account: its portfolio's account in the currency its cash moved in when
    the portfolio has one per currency, else the portfolio's only account."""
    return accounts.get((row.account_number, row.cash_currency)) or accounts.get(row.account_number)


def _currency_accounts(
    number: str,
    accounts: list[BrokerAccount],
    parsed: ParsedFile,
    found: dict[AccountKey, BrokerAccount],
    result: FileImport,
) -> None:
    """Route a portfolio's rows to its broker account per currency; a row in a currency the
    portfolio has no account in is an error naming it."""
    by_currency = {(a.currency or "NOK").upper(): a for a in accounts}
    for row in parsed.rows:
        if row.account_number != number:
            continue
        currency = (row.cash_currency or "NOK").upper()
        if currency in by_currency:
            found[(number, row.cash_currency)] = by_currency[currency]
            continue
        result.errors.append(
            (
                row.line,
                _(
                    "The row's money is in %(currency)s, but account %(number)s has broker "
                    "accounts in %(kept)s only: add its %(currency)s account under Broker "
                    "accounts first."
                )
                % {"currency": currency, "number": number, "kept": ", ".join(sorted(by_currency))},
            )
        )


def file_accounts_resolve(
    company: Company,
    key: str,
    parsed: ParsedFile,
    chosen: BrokerAccount | None,
    result: FileImport,
) -> dict[AccountKey, BrokerAccount]:
    """Account number in the file ('' for none), or (number, currency) for a portfolio with an
    account per currency → the firm's broker account (`account_for` reads it); errors for the
    rest."""
    broker = BROKERS[key]
    per_number: dict[str, list[BrokerAccount]] = {}
    for item in BrokerAccount.objects.filter(company=company, broker=broker).order_by("pk"):
        per_number.setdefault(item.number, []).append(item)
    known = {number: items[0] for number, items in per_number.items()}
    found: dict[AccountKey, BrokerAccount] = {}
    numbers = sorted({row.account_number for row in parsed.rows})
    for number in numbers:
        if number and len(per_number.get(number, [])) > 1:
            _currency_accounts(number, per_number[number], parsed, found, result)
        elif number and number in known:
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
        elif len(per_number) == 1 and len(next(iter(per_number.values()))) == 1:
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
    known: set[str] = set(imported_refs(company, key))
    for ref, other in stored.values_list("broker_ref", "broker_ref_other"):
        known.add(ref)
        if other:
            known.add(other)
    labels = dict(Kind.choices) | IMPORT_KIND_LABELS
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


def imported_refs(company: Company, key: str) -> list[str]:
    """Broker ids of the format's rows imported without a transaction (ImportedRow)."""
    stored = ImportedRow.objects.filter(company=company, broker_ref__startswith=f"{key}:")
    return list(stored.values_list("broker_ref", flat=True))


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
    fees (None for a securities row) and its broker account; for a currency exchange the broker
    account it goes into (`to_account`), and whether it is nothing to book (`nothing`)."""

    row: ParsedRow
    data: dict[str, Any]
    lines: list[dict[str, Any]] | None
    account: BrokerAccount | None
    to_account: BrokerAccount | None = None
    nothing: bool = False


def exchange_to_account(
    company: Company, account: BrokerAccount, currency: str
) -> BrokerAccount | None:
    """The broker account a currency exchange of `account`'s portfolio goes into: the
    portfolio's account kept in `currency`, else, when the portfolio has only one, that one."""
    same = list(
        BrokerAccount.objects.filter(
            company=company, broker=account.broker, number=account.number
        ).order_by("pk")
    )
    if len(same) == 1:
        return same[0]
    return next((a for a in same if (a.currency or "NOK").upper() == currency.upper()), None)


def _exchange_prepare(
    company: Company, row: ParsedRow, account: BrokerAccount | None, result: FileImport
) -> PreparedRow:
    """A currency exchange as transaction_create takes it (service docstring): between two
    broker accounts, or, both currencies on one GL cash account, its fee or nothing to book."""
    data = row.data
    if data.get("exchange_problem"):
        result.errors.append((row.line, str(data["exchange_problem"])))
        return PreparedRow(row, data, None, account)
    if account is None:
        return PreparedRow(row, data, None, account)
    to_account = exchange_to_account(company, account, str(data.get("to_currency") or ""))
    if to_account is None:
        result.errors.append(
            (
                row.line,
                _(
                    "%(account)s has no broker account in %(currency)s for this exchange: add "
                    "it under Broker accounts (the same number, currency %(currency)s)."
                )
                % {"account": account.label, "currency": data.get("to_currency")},
            )
        )
        return PreparedRow(row, data, None, account)
    if to_account.cash_account != account.cash_account:
        return PreparedRow(row, data, None, account, to_account)
    fees = Decimal(data.get("fees") or 0)
    if not fees:
        return PreparedRow(row, data, None, account, to_account, nothing=True)
    text = _("Fee of currency exchange %(sold)s → %(bought)s") % {
        "sold": data.get("currency"),
        "bought": data.get("to_currency"),
    }
    fee = {
        "kind": Kind.FEE,
        "trade_date": data["trade_date"],
        "description": text[:200],
        "instrument_name": "",
        "isin": "",
        "amount": fees,
        "fees": Decimal("0.00"),
        "currency": "NOK",
        "amount_currency": None,
        "settle_via": Transaction.SettleVia.BANK,
        "note": data.get("note", ""),
    }
    return PreparedRow(row, fee, None, account)


def _compensation_prepare(
    company: Company, row: ParsedRow, account: BrokerAccount | None, result: FileImport
) -> PreparedRow:
    """A compensation as a journal entry: Dr the broker account's cash, Cr the account a person
    chose (`counter_account`); until one is chosen its only line is the cash and its problem
    says to choose (ledger/imports/compensation.py)."""
    gl = gl_settings_get(company=company)
    amount = row.data["amount"]
    cash = account.cash_account if account is not None else gl.bank
    text = row.data["description"]
    counter = row.data.get("counter_account")
    lines = [{"account_number": cash, "debit": amount, "credit": Decimal(0), "description": text}]
    if counter:
        lines.append(
            {
                "account_number": int(counter),
                "debit": Decimal(0),
                "credit": amount,
                "description": text,
            }
        )
    data = {
        "kind": Kind.JOURNAL,
        "trade_date": row.data["trade_date"],
        "description": text,
        "note": row.data["note"],
    }
    if row.data.get("compensation_problem"):
        result.errors.append((row.line, str(row.data["compensation_problem"])))
    elif not counter:
        result.errors.append(
            (
                row.line,
                _(
                    "Choose the account the compensation is income on (Choose the account, on "
                    "this row): the file does not say what Nordnet paid it for."
                ),
            )
        )
    for line in lines:
        result.errors.extend((row.line, p) for p in journal_line_problems(line))
    return PreparedRow(row, data, lines, account)


def row_prepare(
    company: Company, row: ParsedRow, accounts: Mapping[Any, BrokerAccount], result: FileImport
) -> PreparedRow:
    """The row as transaction_create takes it, its problems added to the result."""
    account = account_for(accounts, row)
    if row.kind == Kind.CURRENCY_EXCHANGE:
        return _exchange_prepare(company, row, account, result)
    if row.kind == COMPENSATION:
        return _compensation_prepare(company, row, account, result)
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


def _fifo_errors(
    company: Company,
    prepared: list[PreparedRow],
    unsaved: dict[int, Transaction],
    result: FileImport,
) -> None:
    """FIFO over the file's rows and the firm's history in one walk (fifo_verdict, as the CSV
    import does): a sale of more than is held then, or a row that would change a booked sale's
    cost, is an error on its line."""
    securities = [p for p in prepared if p.lines is None and not p.nothing]
    verdict = fifo_verdict(company=company, txns=[unsaved[id(p)] for p in securities])
    for index, messages in verdict.problems().items():
        result.errors.extend((securities[index].row.line, m) for m in messages)


def _save(
    *,
    company: Company,
    by: User | None,
    prepared: list[PreparedRow],
    unsaved: dict[int, Transaction],
    result: FileImport,
) -> None:
    """Save every prepared row as ready (in bulk, ledger/transactions/bulk.py), or (with any
    problem) none; a row that is nothing to book is remembered as imported (ImportedRow)."""
    nothing = [p.row for p in prepared if p.nothing]
    ordered = sorted(
        (p for p in prepared if not p.nothing),
        key=lambda p: (p.data["trade_date"], DAY_ORDER.get(p.data["kind"], 3), p.row.line),
    )
    rows = [NewTransaction(unsaved[id(item)], item.data, item.lines) for item in ordered]
    problems = transactions_check_many(company=company, rows=rows)
    for index, messages in problems.items():
        result.errors.extend((ordered[index].row.line, m) for m in messages)
    if not result.errors:
        with transaction.atomic():
            result.created = transactions_save_ready(company=company, rows=rows, by=by)
            imported_rows_remember(company=company, rows=nothing)
        result.saved = True


def imported_rows_remember(*, company: Company, rows: list[ParsedRow]) -> None:
    """Remember rows imported without a transaction (both broker ids of each), so a re-import
    counts them as already imported."""
    reason = str(_("Currency exchange within the account, nothing to book"))
    refs = {ref for row in rows for ref in (row.broker_ref, row.broker_ref_other) if ref}
    ImportedRow.objects.bulk_create(
        [ImportedRow(company=company, broker_ref=ref, reason=reason) for ref in sorted(refs)],
        ignore_conflicts=True,
    )


def _unsaved(company: Company, item: PreparedRow) -> Transaction:
    """The row as the transaction it is saved as: its values, source and broker fields."""
    txn = transaction_unsaved(company=company, data=item.data)
    txn.source = Transaction.Source.BROKER
    txn.broker_account = item.account
    txn.to_broker_account = item.to_account
    txn.fx_rate = item.row.fx_rate
    txn.tax_withheld = item.row.tax_withheld
    txn.broker_ref = item.row.broker_ref
    txn.broker_ref_other = item.row.broker_ref_other
    txn.contract_note_number = item.row.contract_note_number
    return txn

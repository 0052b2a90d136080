"""Frozen dataclasses for the Tripletex objects we read and the voucher payload we send.

Tripletex's camelCase names stay in this module. Money is Decimal end to end: responses are parsed
with `parse_float=Decimal` and integer amounts are turned into Decimal here; request bodies are
written by `encode_json`, which prints a Decimal's exact text (12500.10 stays 12500.10) instead of
going through float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Generic, TypeVar

from .errors import InvalidVoucherError, VoucherNotBalancedError

T = TypeVar("T")

# Account types whose balance carries over a year end; the rest are profit and loss.
_BALANCE_ACCOUNT_TYPES = frozenset({"ASSETS", "EQUITY", "LIABILITIES"})


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError(f"expected an amount, got {value!r}")
    if isinstance(value, int | str):
        return Decimal(value)
    if isinstance(value, float):
        # Only reached if someone parsed without parse_float=Decimal; repr keeps the shortest text.
        return Decimal(repr(value))
    raise TypeError(f"expected an amount, got {type(value).__name__}")


def _money(value: Any) -> Decimal:
    """An amount that Tripletex always sends; missing means 0 (it omits zero sums in some lists)."""
    amount = _dec(value)
    return Decimal(0) if amount is None else amount


def _date(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _ref(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def _ref_id(obj: Mapping[str, Any], name: str) -> int | None:
    value = _ref(obj, name).get("id")
    return int(value) if value is not None else None


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _str(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class WhoAmI:
    """Who the session belongs to and which company it acts in (GET /token/session/>whoAmI)."""

    employee_id: int
    company_id: int
    company_name: str
    organization_number: str
    employee_name: str
    language: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WhoAmI:
        company, employee = _ref(data, "company"), _ref(data, "employee")
        names = (employee.get("firstName"), employee.get("lastName"))
        return cls(
            employee_id=int(data["employeeId"]),
            company_id=int(data["companyId"]),
            company_name=_str(company.get("name")),
            # Staff type "999 888 777"; Tripletex may too. Compare digits only.
            organization_number=re.sub(r"\D", "", _str(company.get("organizationNumber"))),
            employee_name=" ".join(n for n in names if n),
            language=_str(data.get("language")),
        )


@dataclass(frozen=True)
class ClientCompany:
    """A company an accounting-office key can act in; `id` is the Basic user name to use."""

    id: int
    name: str
    organization_number: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ClientCompany:
        return cls(
            id=int(data["id"]),
            name=_str(data.get("name")),
            organization_number=re.sub(r"\D", "", _str(data.get("organizationNumber"))),
        )


@dataclass(frozen=True)
class Account:
    """A ledger account; postings refer to it by `id`, which differs per company."""

    id: int
    number: int
    name: str
    type: str
    is_inactive: bool
    vat_locked: bool
    vat_type_id: int | None
    requires_department: bool
    requires_project: bool
    ledger_type: str
    is_balance_account: bool
    # The currency the account is kept in (Account.currency; we ask for currency(id,code)).
    # An account locked to a foreign currency takes postings in that currency only (Tripletex
    # changelog 28.06.2016); '' / None when Tripletex did not say: the company currency.
    currency_code: str = ""
    currency_id: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Account:
        number = int(data["number"])
        account_type = _str(data.get("type"))
        # The Account schema has no isBalanceAccount field (only a filter of that name): derive it
        # from the type, and from the Norwegian chart (1xxx-2xxx) when the type is missing.
        is_balance = account_type in _BALANCE_ACCOUNT_TYPES if account_type else number < 3000
        return cls(
            id=int(data["id"]),
            number=number,
            name=_str(data.get("name")),
            type=account_type,
            is_inactive=bool(data.get("isInactive")),
            vat_locked=bool(data.get("vatLocked")),
            vat_type_id=_ref_id(data, "vatType"),
            requires_department=bool(data.get("requiresDepartment")),
            requires_project=bool(data.get("requiresProject")),
            ledger_type=_str(data.get("ledgerType")) or "GENERAL",
            is_balance_account=is_balance,
            currency_code=_str(_ref(data, "currency").get("code")).upper(),
            currency_id=_ref_id(data, "currency"),
        )


@dataclass(frozen=True)
class VatType:
    """A VAT code; configure by `number` (the Norwegian code), send by `id`."""

    id: int
    number: str
    name: str
    percentage: Decimal

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VatType:
        return cls(
            id=int(data["id"]),
            number=_str(data.get("number")),
            name=_str(data.get("name")),
            percentage=_money(data.get("percentage")),
        )


@dataclass(frozen=True)
class VoucherType:
    """A voucher series (bilagstype)."""

    id: int
    name: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VoucherType:
        return cls(id=int(data["id"]), name=_str(data.get("name")))


@dataclass(frozen=True)
class AccountingPeriod:
    """An accounting period [start, end): `end` is exclusive, like every Tripletex date range."""

    id: int
    number: int
    start: date
    end: date
    is_closed: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AccountingPeriod:
        start, end = _date(data.get("start")), _date(data.get("end"))
        if start is None or end is None:
            raise KeyError("start/end")
        return cls(
            id=int(data["id"]),
            number=int(data.get("number") or 0),
            start=start,
            end=end,
            is_closed=bool(data.get("isClosed")),
        )


@dataclass(frozen=True)
class BalanceRow:
    """One account of a trial balance over [start_date, end_date); debit +, credit -."""

    account_id: int
    account_number: int
    account_name: str
    balance_in: Decimal
    balance_change: Decimal
    balance_out: Decimal
    start_date: date | None
    end_date: date | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BalanceRow:
        account = _ref(data, "account")
        return cls(
            account_id=int(account["id"]),
            account_number=int(account["number"]),
            account_name=_str(account.get("name")),
            balance_in=_money(data.get("balanceIn")),
            balance_change=_money(data.get("balanceChange")),
            balance_out=_money(data.get("balanceOut")),
            start_date=_date(data.get("startDate")),
            end_date=_date(data.get("endDate")),
        )


@dataclass(frozen=True)
class Posting:
    """One posting (a line of a voucher). Fields the response did not include are None."""

    id: int | None
    date: date | None
    description: str
    account_id: int | None
    account_number: int | None
    account_name: str
    amount: Decimal | None
    amount_gross: Decimal | None
    voucher_id: int | None
    voucher_number: int | None
    voucher_year: int | None
    department_id: int | None
    project_id: int | None
    row: int | None = None

    @classmethod
    def from_api(
        cls, data: Mapping[str, Any], *, voucher: Mapping[str, Any] | None = None
    ) -> Posting:
        account = _ref(data, "account")
        # Postings read through a voucher carry no voucher(...) of their own: take the parent's.
        parent = voucher if voucher is not None else _ref(data, "voucher")
        return cls(
            id=_int(data.get("id")),
            date=_date(data.get("date")),
            description=_str(data.get("description")),
            account_id=_int(account.get("id")),
            account_number=_int(account.get("number")),
            account_name=_str(account.get("name")),
            amount=_dec(data.get("amount")),
            amount_gross=_dec(data.get("amountGross")),
            voucher_id=_int(parent.get("id")),
            voucher_number=_int(parent.get("number")),
            voucher_year=_int(parent.get("year")),
            department_id=_ref_id(data, "department"),
            project_id=_ref_id(data, "project"),
            row=_int(data.get("row")),
        )


@dataclass(frozen=True)
class Voucher:
    """A voucher as Tripletex stores it; `number` is None until it reaches the ledger, and a
    voucher sent for approval (sendToLedger=false) has a `temp_number` until then."""

    id: int
    number: int | None
    year: int | None
    date: date | None
    description: str
    external_voucher_number: str
    version: int | None
    reverse_voucher_id: int | None
    postings: tuple[Posting, ...]
    temp_number: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Voucher:
        raw_postings = data.get("postings") or []
        return cls(
            id=int(data["id"]),
            # Tripletex answers number 0 for a voucher not (yet) in the ledger.
            number=_int(data.get("number")) or None,
            temp_number=_int(data.get("tempNumber")) or None,
            year=_int(data.get("year")),
            date=_date(data.get("date")),
            description=_str(data.get("description")),
            external_voucher_number=_str(data.get("externalVoucherNumber")),
            version=_int(data.get("version")),
            reverse_voucher_id=_ref_id(data, "reverseVoucher"),
            postings=tuple(Posting.from_api(p, voucher=data) for p in raw_postings),
        )


@dataclass(frozen=True)
class VoucherAttachment:
    """A voucher's attachment (Tripletex's `Document`): one document that every upload appends
    pages to, so its size (and version) grow with each upload that lands."""

    id: int
    version: int | None
    file_name: str
    size: int | None
    mime_type: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VoucherAttachment:
        return cls(
            id=int(data["id"]),
            version=_int(data.get("version")),
            file_name=_str(data.get("fileName")),
            size=_int(data.get("size")),
            mime_type=_str(data.get("mimeType")),
        )

    @classmethod
    def of_voucher(cls, data: Mapping[str, Any]) -> VoucherAttachment | None:
        """The `attachment` of a voucher object, None when it has none."""
        raw = data.get("attachment")
        return cls.from_api(raw) if isinstance(raw, Mapping) and raw.get("id") else None

    def as_evidence(self) -> dict[str, Any]:
        """JSON-friendly primitives, for storing what Tripletex showed."""
        return {
            "id": self.id,
            "version": self.version,
            "fileName": self.file_name,
            "size": self.size,
            "mimeType": self.mime_type,
        }


@dataclass(frozen=True)
class Department:
    """A department (avdeling), a posting dimension."""

    id: int
    number: str
    name: str
    is_inactive: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Department:
        return cls(
            id=int(data["id"]),
            number=_str(data.get("departmentNumber")),
            name=_str(data.get("name")),
            is_inactive=bool(data.get("isInactive")),
        )


@dataclass(frozen=True)
class Project:
    """A project, a posting dimension."""

    id: int
    number: str
    name: str
    is_closed: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Project:
        return cls(
            id=int(data["id"]),
            number=_str(data.get("number")),
            name=_str(data.get("name")),
            is_closed=bool(data.get("isClosed")),
        )


@dataclass(frozen=True)
class ResultBudget:
    """One account's budget for one accounting period (a month), at company level or for one
    department or project (`budget_type`: Tripletex's resultBudgetType)."""

    id: int
    account_id: int
    account_number: int
    period_start: date
    amount: Decimal
    budget_type: str
    department_id: int | None
    project_id: int | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ResultBudget:
        account = _ref(data, "account")
        start = _date(_ref(data, "accountingPeriod").get("start"))
        if start is None:
            raise KeyError("accountingPeriod.start")
        return cls(
            id=int(data["id"]),
            account_id=int(account["id"]),
            account_number=int(account["number"]),
            period_start=start,
            amount=_money(data.get("amount")),
            budget_type=_str(data.get("resultBudgetType")),
            department_id=_ref_id(data, "department"),
            project_id=_ref_id(data, "project"),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: `is_last` is true when it held fewer rows than asked for."""

    values: tuple[T, ...]
    from_: int
    count: int
    is_last: bool


@dataclass(frozen=True)
class PostingPayload:
    """One line to send: gross amount in company currency, + debit / - credit, VAT included."""

    row: int
    account_id: int
    amount_gross: Decimal
    description: str = ""
    amount_gross_currency: Decimal | None = None
    currency_id: int | None = None
    vat_type_id: int | None = None
    department_id: int | None = None
    project_id: int | None = None

    def to_api(self) -> dict[str, Any]:
        """The Posting body: references as {"id": n} only and no nulls (nulls trigger 422s)."""
        if self.row < 1:
            # Row 0 is reserved for the VAT lines Tripletex generates itself.
            raise InvalidVoucherError(f"posting row must be >= 1, got {self.row}")
        for name in ("amount_gross", "amount_gross_currency"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite()):
                raise InvalidVoucherError(f"{name} must be a finite Decimal, got {value!r}")
        body: dict[str, Any] = {
            "row": self.row,
            "account": {"id": self.account_id},
            "amountGross": self.amount_gross,
            # Tripletex needs both in practice; for company currency they are the same number.
            "amountGrossCurrency": (
                self.amount_gross
                if self.amount_gross_currency is None
                else self.amount_gross_currency
            ),
        }
        if self.description:
            body["description"] = self.description
        refs = {
            "currency": self.currency_id,
            "vatType": self.vat_type_id,
            "department": self.department_id,
            "project": self.project_id,
        }
        body.update({name: {"id": ref} for name, ref in refs.items() if ref is not None})
        return body


@dataclass(frozen=True)
class VoucherPayload:
    """A journal voucher to create; `external_voucher_number` is our idempotency key."""

    date: date
    description: str
    external_voucher_number: str
    postings: tuple[PostingPayload, ...]
    voucher_type_id: int | None = None

    def check(self) -> None:
        """Raise VoucherNotBalancedError/InvalidVoucherError for what Tripletex would reject."""
        if len(self.postings) < 2:
            raise VoucherNotBalancedError(
                f"a voucher needs at least 2 postings, got {len(self.postings)}"
            )
        rows = [p.row for p in self.postings]
        if len(set(rows)) != len(rows):
            raise InvalidVoucherError(f"posting rows must be unique, got {rows}")
        if not self.external_voucher_number:
            raise InvalidVoucherError("external_voucher_number is required (idempotency key)")
        total = sum((p.amount_gross for p in self.postings), Decimal(0))
        if total != 0:
            raise VoucherNotBalancedError(f"postings sum to {total}, not 0")

    def to_api(self) -> dict[str, Any]:
        """The Voucher body for POST /ledger/voucher; raises if the voucher would be rejected."""
        self.check()
        body: dict[str, Any] = {
            "date": self.date.isoformat(),
            "description": self.description,
            "externalVoucherNumber": self.external_voucher_number,
            "postings": [p.to_api() for p in self.postings],
        }
        if self.voucher_type_id is not None:
            body["voucherType"] = {"id": self.voucher_type_id}
        return body


_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} as a JSON number")
        # Fixed-point text of the Decimal itself: no float rounding, no exponent.
        out.append(format(value, "f"))
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None or isinstance(value, bool):
        out.append(_JSON_CONSTANTS[value])
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(encode_basestring(str(key)) + ":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        # Floats are refused on purpose: money must never pass through binary floating point.
        raise TypeError(f"cannot encode {type(value).__name__} in a Tripletex body")


def encode_json(value: Any) -> bytes:
    """UTF-8 JSON with Decimals written as their exact decimal text."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def decode_json(content: bytes | str) -> Any:
    """Parse a Tripletex body with every JSON fraction as Decimal."""
    return json.loads(content, parse_float=Decimal)

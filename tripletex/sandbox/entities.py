"""Entity dicts of the sandbox in Tripletex's shapes (Account, Posting, Voucher, VatType, …).

Nested objects are `Ref`s and each entity's own `url` is a `Url`; `fields.Projector` renders
them for a request. Amounts arrive as integer øre and leave as exact `Decimal`s.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import seed
from .fields import Ref, Url

CURRENCY_NOK = seed.CURRENCY_NOK


CENT = Decimal("0.01")


def ore_to_decimal(value: int) -> Decimal:
    """Exact Decimal kroner from integer øre."""
    return Decimal(value).scaleb(-2)


def account_entity(
    account_id: int, number: int, name: str, vat: str, currency_id: int = CURRENCY_NOK
) -> dict[str, Any]:
    """Account entity from its stored columns (`currency`: the currency the account is kept in)."""
    vat_id = seed.VAT_TYPES[vat][0]
    if number < 2000:
        kind = "ASSETS"
    elif number < 2100:
        kind = "EQUITY"
    elif number < 3000:
        kind = "LIABILITIES"
    elif number < 4000:
        kind = "OPERATING_REVENUES"
    elif number < 8000:
        kind = "OPERATING_EXPENSES"
    elif number < 8100:
        kind = "INVESTMENT_INCOME"
    elif number < 8300:
        kind = "COST_OF_CAPITAL"
    elif number < 8400:
        kind = "TAX_ON_ORDINARY_ACTIVITIES"
    elif number < 8900:
        kind = "ANNUAL_RESULT"
    else:
        kind = "TRANSFERS_AND_ALLOCATIONS"
    legal = (
        [Ref("vatType", vat_id)] if vat == "0" else [Ref("vatType", 6000), Ref("vatType", vat_id)]
    )
    ledger_type = {1500: "CUSTOMER", 2400: "VENDOR"}.get(number, "GENERAL")
    return {
        "id": account_id,
        "version": 1,
        "url": Url("account", account_id),
        "number": number,
        "numberPretty": str(number),
        "name": name,
        "description": "",
        "type": kind,
        "legalVatTypes": legal,
        "ledgerType": ledger_type,
        "balanceGroup": "BALANCE" if number < 3000 else "RESULT",
        "vatType": Ref("vatType", vat_id),
        "vatLocked": False,
        "currency": Ref("currency", currency_id),
        "isCloseable": number in (1500, 2400),
        "isApplicableForSupplierInvoice": number >= 4000,
        "requireReconciliation": number in (1920, 1950),
        "isInactive": False,
        "isBankAccount": number in (1920, 1930, 1950),
        "isInvoiceAccount": number == 1920,
        "bankAccountNumber": "",
        "saftCode": str(number)[:2],
        "groupingCode": "",
        "displayName": f"{number} {name}",
        "requiresDepartment": False,
        "requiresProject": False,
        "isPostingsExist": True,
    }


def _ref(kind: str, value: int | None) -> Ref | None:
    return Ref(kind, value) if value is not None else None


def posting_entity(row: tuple[Any, ...]) -> dict[str, Any]:
    """Posting entity from a `postings` table row."""
    (
        pid,
        voucher_id,
        _company,
        row_no,
        day,
        _ord,
        account_id,
        amount,
        gross,
        vat_id,
        dept,
        project,
        description,
        system,
        _posted,
        currency_id,
        gross_currency,
    ) = row
    net, gross_d = ore_to_decimal(amount), ore_to_decimal(gross)
    # The currency amounts as sent (NOK: the same as the NOK amounts); the net in currency is
    # the gross less the same VAT share (securities postings carry none).
    gross_c = gross_d if gross_currency is None else ore_to_decimal(gross_currency)
    net_c = gross_c if gross in (0, amount) else (gross_c * amount / gross).quantize(CENT)
    return {
        "id": pid,
        "version": 1,
        "url": Url("posting", pid),
        "voucher": Ref("voucher", voucher_id),
        "date": day,
        "description": description or "",
        "account": Ref("account", account_id),
        "customer": None,
        "supplier": None,
        "employee": None,
        "project": _ref("project", project),
        "product": None,
        "department": _ref("department", dept),
        "vatType": _ref("vatType", vat_id),
        "amount": net,
        "amountCurrency": net_c,
        "amountGross": gross_d,
        "amountGrossCurrency": gross_c,
        "currency": Ref("currency", currency_id),
        "row": row_no,
        "systemGenerated": bool(system),
    }


def voucher_entity(
    row: tuple[Any, ...], postings: list[Ref], document_id: int | None = None
) -> dict[str, Any]:
    """Voucher entity from a `vouchers` table row, its posting refs and its attachment's id."""
    (
        vid,
        _company,
        day,
        number,
        temp,
        year,
        description,
        external,
        type_id,
        reverse_id,
        posted,
        version,
    ) = row
    shown = f"{number}-{year}" if posted else f"{temp}"
    return {
        "id": vid,
        "version": version,
        "url": Url("voucher", vid),
        "date": day,
        "number": number,
        "tempNumber": temp,
        "year": year,
        "description": description or "",
        "voucherType": _ref("voucherType", type_id),
        "reverseVoucher": _ref("voucher", reverse_id),
        "postings": postings,
        "document": None,
        "attachment": _ref("document", document_id),
        "externalVoucherNumber": external,
        "ediDocument": None,
        "vendorInvoiceNumber": None,
        "displayName": shown,
        "numberAsString": shown,
    }


def vat_type_entities() -> list[dict[str, Any]]:
    """VAT type entities (the same for every company)."""
    out = []
    for code, (vat_id, name, percent, _, _) in seed.VAT_TYPES.items():
        out.append(
            {
                "id": vat_id,
                "version": 1,
                "url": Url("vatType", vat_id),
                "name": name,
                "number": code,
                "displayName": f"{code} {name}",
                "percentage": Decimal(percent),
                "deductionPercentage": Decimal(100),
            }
        )
    return out


def voucher_type_entities() -> list[dict[str, Any]]:
    """Voucher type entities (the same for every company)."""
    return [
        {"id": vid, "version": 1, "url": Url("voucherType", vid), "name": name, "displayName": name}
        for name, vid in seed.VOUCHER_TYPES.items()
    ]


def currency_entity(currency_id: int) -> dict[str, Any] | None:
    """One currency entity (seed.CURRENCIES), None for an id Tripletex would not know."""
    known = seed.CURRENCIES.get(currency_id)
    if known is None:
        return None
    code, description, factor = known
    return {
        "id": currency_id,
        "version": 1,
        "url": Url("currency", currency_id),
        "code": code,
        "description": description,
        "factor": factor,
        "displayName": code,
        "isDisabled": False,
    }


def currency_entities() -> list[dict[str, Any]]:
    """Every currency entity, by id (the same for every company)."""
    return [e for ident in sorted(seed.CURRENCIES) if (e := currency_entity(ident)) is not None]

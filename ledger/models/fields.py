"""The sizes of the ledger's decimal columns, in one place for both model modules."""

import decimal
from functools import cached_property
from typing import Any, TypedDict

from django.db import models


class DecimalSize(TypedDict):
    """Keyword arguments of a DecimalField's size; a TypedDict so `**MONEY` type-checks."""

    max_digits: int
    decimal_places: int


# NOK amounts: øre, up to 16 digits before the comma.
MONEY: DecimalSize = {"max_digits": 18, "decimal_places": 2}
# Units of an instrument (fund units have decimals).
QUANTITY: DecimalSize = {"max_digits": 24, "decimal_places": 8}


class StoredDecimalField(models.DecimalField):
    """A DecimalField that reads back any number a row holds, even one too big for the column.

    SQLite keeps whatever it is given: before the column checks at entry
    (ledger/transactions/checks.py) a 30-digit amount was stored as a REAL, and Django's SQLite
    converter quantizes what it reads in a context of `max_digits` digits, which raises
    InvalidOperation for it, so every page that loaded the row answered 500. Reading in a wider
    context gives the number back as stored; the field's validators (max_digits) still refuse it,
    so the row is shown as needing correction and can be edited or deleted. PostgreSQL's numeric
    column refuses such a number on write, so there nothing changes.

    Migrations see a plain DecimalField (deconstruct): only how a value is read differs."""

    @cached_property
    def context(self) -> decimal.Context:
        # A double reaches 1.8e308: room for all its digits and the decimal places.
        return decimal.Context(prec=max(self.max_digits or 0, 320) + (self.decimal_places or 0))

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs

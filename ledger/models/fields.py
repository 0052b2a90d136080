"""The sizes of the ledger's decimal columns, in one place for both model modules."""

from typing import TypedDict


class DecimalSize(TypedDict):
    """Keyword arguments of a DecimalField's size; a TypedDict so `**MONEY` type-checks."""

    max_digits: int
    decimal_places: int


# NOK amounts: øre, up to 16 digits before the comma.
MONEY: DecimalSize = {"max_digits": 18, "decimal_places": 2}
# Units of an instrument (fund units have decimals).
QUANTITY: DecimalSize = {"max_digits": 24, "decimal_places": 8}

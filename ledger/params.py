"""Numbers from a query string, parsed one way for every page: ASCII digits within stated bounds.

`str.isdigit()` and `int()` take more than people type: `"²".isdigit()` is True and `int("²")`
raises, `int("١٢")` is 12, and `int()` of a string of more than 4,300 digits raises ValueError
(Python's integer string conversion limit). A database column has bounds too: an id past
PostgreSQL's bigint makes SQLite raise OverflowError. So a parameter is read here, and anything
else answers with a message that says what was expected (ParamError), never a 500.
"""

from __future__ import annotations

import re

from django.http import QueryDict
from django.utils.translation import gettext as _

# The largest id of a BigAutoField (PostgreSQL bigint, SQLite's 64-bit integer).
MAX_ID = 2**63 - 1
MAX_IDS = 500
_DIGITS = re.compile(r"[0-9]{1,19}")


class ParamError(ValueError):
    """A query parameter that is not what the page takes; str() is the message for the user."""


def _shown(raw: str) -> str:
    return raw if len(raw) <= 24 else raw[:24] + "…"


def int_param(query: QueryDict, name: str, *, minimum: int, maximum: int) -> int | None:
    """The parameter as an int in [minimum, maximum]; None when absent or empty. Raises
    ParamError."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    if _DIGITS.fullmatch(raw) and minimum <= int(raw) <= maximum:
        return int(raw)
    raise ParamError(
        _("%(name)s must be a whole number from %(minimum)s to %(maximum)s, not “%(value)s”.")
        % {"name": name, "minimum": minimum, "maximum": maximum, "value": _shown(raw)}
    )


def id_list_param(query: QueryDict, name: str) -> list[int]:
    """The parameter as a list of ids (`1,2,3`; empty items skipped). Raises ParamError."""
    raw = query.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if len(items) > MAX_IDS:
        raise ParamError(_("Ask for at most %(limit)s ids at a time.") % {"limit": MAX_IDS})
    for item in items:
        if not (_DIGITS.fullmatch(item) and 1 <= int(item) <= MAX_ID):
            raise ParamError(
                _("%(name)s must list ids (whole numbers) separated by commas, not “%(value)s”.")
                % {"name": name, "value": _shown(item)}
            )
    return [int(item) for item in items]

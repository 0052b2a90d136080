"""Tripletex `fields=` selection: parse `a,b(c,d),*` and project entity dicts.

Entities are plain dicts whose nested objects are `Ref(kind, id)` values (or lists of them).
Without a selection every top-level field is returned and each `Ref` becomes `{id, url}`, as
Tripletex does. A selection names fields; `x(a,b)` expands the referenced object through a
resolver; `*` means "all fields at this level". Unknown names raise `FieldSelectionError`
(the server answers 400/11000). `None` values are left out: the spec declares no field
nullable, so a null would not validate against it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from .specfields import SPEC_FIELDS

# Path of each kind below /v2, used to build the `url` of a reference.
KIND_PATHS = {
    "account": "ledger/account",
    "vatType": "ledger/vatType",
    "voucherType": "ledger/voucherType",
    "voucher": "ledger/voucher",
    "posting": "ledger/posting",
    "accountingPeriod": "ledger/accountingPeriod",
    "department": "department",
    "project": "project",
    "employee": "employee",
    "company": "company",
    "currency": "currency",
    "document": "document",
}

MODEL_NAMES = {
    "account": "AccountDTO",
    "vatType": "VatTypeDTO",
    "voucherType": "VoucherTypeDTO",
    "voucher": "VoucherDTO",
    "posting": "PostingDTO",
    "accountingPeriod": "AccountingPeriodDTO",
    "department": "DepartmentDTO",
    "project": "ProjectDTO",
    "employee": "EmployeeDTO",
    "company": "CompanyDTO",
    "currency": "CurrencyDTO",
    "resultBudget": "ResultBudgetDTO",
    "document": "DocumentDTO",
}

Tree = dict[str, "Tree | None"]
Resolver = Callable[[str, int], "dict[str, Any] | None"]


class Ref(NamedTuple):
    """A reference to another entity, rendered as {id, url} unless expanded."""

    kind: str
    id: int


class Url(NamedTuple):
    """The `url` of the entity itself; rendered against the request's base URL."""

    kind: str
    id: int


class FieldSelectionError(ValueError):
    """A `fields` name that the model does not have."""

    def __init__(self, name: str, model: str) -> None:
        super().__init__(
            f"Illegal field in fields filter: {name}. {name} does not match a field in the "
            f"model: {model}"
        )
        self.name = name


def parse_fields(text: str | None) -> Tree | None:
    """Parse a `fields` string into a tree; None or blank means "default fields"."""
    if text is None or not text.strip():
        return None
    return _parse_cached(text)


# Clients send the same few selections over and over; trees are never mutated after parsing.
@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Tree:
    tree, pos = _parse_level(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise FieldSelectionError(text, "fields")
    return tree


def _parse_level(text: str, pos: int) -> tuple[Tree, int]:
    tree: Tree = {}
    name = ""
    while pos < len(text):
        char = text[pos]
        if char == ",":
            _add(tree, name, None)
            name = ""
            pos += 1
        elif char == "(":
            sub, pos = _parse_level(text, pos + 1)
            _add(tree, name, sub)
            name = ""
            if pos < len(text) and text[pos] == ",":
                pos += 1
        elif char == ")":
            _add(tree, name, None)
            return tree, pos + 1
        else:
            name += char
            pos += 1
    _add(tree, name, None)
    return tree, pos


def _add(tree: Tree, name: str, sub: Tree | None) -> None:
    if not name:
        return
    # Dotted names (`account.number`) mean the same as `account(number)`.
    head, _, rest = name.partition(".")
    if rest:
        sub = {rest: sub} if "." not in rest else _dotted(rest, sub)
    existing = tree.get(head)
    if existing is not None and sub is not None:
        existing.update(sub)
    elif head not in tree or sub is not None:
        tree[head] = sub


def _dotted(name: str, sub: Tree | None) -> Tree:
    tree: Tree = {}
    _add(tree, name, sub)
    return tree


class Projector:
    """Render entity dicts for one request (knows the URL base and how to resolve refs)."""

    def __init__(self, base_url: str, resolve: Resolver) -> None:
        self.base_url = base_url
        self.resolve = resolve

    def ref(self, ref: Ref) -> dict[str, Any]:
        """The default {id, url} rendering of a reference."""
        return {"id": ref.id, "url": f"{self.base_url}/{KIND_PATHS[ref.kind]}/{ref.id}"}

    def project(self, obj: dict[str, Any], tree: Tree | None, kind: str) -> dict[str, Any]:
        """Select fields of one entity; raises FieldSelectionError for unknown names."""
        if tree is None:
            return {k: self._default(v) for k, v in obj.items() if v is not None}
        out: dict[str, Any] = {}
        if "*" in tree:
            out = {k: self._default(v) for k, v in obj.items() if v is not None}
        for name, sub in tree.items():
            if name == "*":
                continue
            if name not in obj:
                if name in SPEC_FIELDS.get(kind, ()):
                    continue
                raise FieldSelectionError(name, MODEL_NAMES.get(kind, kind))
            value = obj[name]
            if value is None:
                continue
            out[name] = self._value(value, sub, kind)
        return out

    def _default(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Url):
            return f"{self.base_url}/{KIND_PATHS[value.kind]}/{value.id}"
        if isinstance(value, list):
            return [self.ref(v) if isinstance(v, Ref) else v for v in value]
        return value

    def _value(self, value: Any, sub: Tree | None, kind: str) -> Any:
        if isinstance(value, list):
            return [self._value(v, sub, kind) for v in value]
        if isinstance(value, Url):
            return self._default(value)
        if isinstance(value, Ref):
            if sub is None:
                return self.ref(value)
            target = self.resolve(value.kind, value.id)
            if target is None:
                return self.ref(value)
            return self.project(target, sub, value.kind)
        if isinstance(value, dict):
            return self.project(value, sub, kind) if sub is not None else value
        if sub is not None and sub:
            raise FieldSelectionError(next(iter(sub)), MODEL_NAMES.get(kind, kind))
        return value

"""The firm's instruments and where each falls under the exemption method: the list (stored records
and the instruments its transactions name that nobody has looked at yet), one instrument by key,
and saving a person's facts and choice."""

from __future__ import annotations

from dataclasses import dataclass

from companies.models import Company, User
from ledger.holdings.exemption import ExemptionRuling, exemption_ruling, instrument_unsaved
from ledger.models import Instrument, Transaction


@dataclass(frozen=True)
class InstrumentRow:
    """One instrument on the instruments page: the record (unsaved when nobody looked at it yet)
    and the ruling that applies."""

    instrument: Instrument
    ruling: ExemptionRuling

    @property
    def is_stored(self) -> bool:
        return self.instrument.pk is not None


def _seen(*, company: Company) -> dict[str, tuple[str, str]]:
    """{instrument key: (name, isin)} of every instrument the firm's transactions name."""
    seen: dict[str, tuple[str, str]] = {}
    rows = (
        Transaction.objects.filter(company=company)
        .exclude(kind=Transaction.Kind.JOURNAL)
        .order_by("trade_date", "pk")
        .values_list("instrument_name", "isin", "to_instrument_name", "to_isin")
    )
    for name, isin, to_name, to_isin in rows:
        for n, i in ((name, isin), (to_name, to_isin)):
            key = (i or n).strip().upper()
            if key:
                seen[key] = (n or seen.get(key, ("", ""))[0], i.strip().upper())
    return seen


def instruments_list(*, company: Company) -> list[InstrumentRow]:
    """Every instrument of the firm, stored or only named by its transactions, sorted by name."""
    stored = {i.key: i for i in Instrument.objects.filter(company=company)}
    for key, (name, isin) in _seen(company=company).items():
        if key not in stored:
            stored[key] = instrument_unsaved(company=company, key=key, name=name, isin=isin)
    rows = [InstrumentRow(i, exemption_ruling(i)) for i in stored.values()]
    return sorted(rows, key=lambda r: (r.instrument.name.lower(), r.instrument.key))


def instrument_get(*, company: Company, key: str) -> Instrument:
    """The firm's instrument `key`: its record, else the unsaved default when a transaction names
    it. Raises Instrument.DoesNotExist for a key the firm has never used."""
    key = key.strip().upper()
    found = Instrument.objects.filter(company=company, key=key).first()
    if found is not None:
        return found
    seen = _seen(company=company)
    if key not in seen:
        raise Instrument.DoesNotExist(key)
    name, isin = seen[key]
    return instrument_unsaved(company=company, key=key, name=name, isin=isin)


def instrument_save(*, company: Company, instrument: Instrument, by: User | None) -> Instrument:
    """Store a person's facts and choice for the instrument (created on its first save)."""
    instrument.company = company
    instrument.updated_by = by
    instrument.country = instrument.country.upper()
    instrument.save()
    return instrument

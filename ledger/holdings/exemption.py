"""Inside or outside the exemption method (fritaksmetoden, skatteloven § 2-38): the default rule per
instrument, the share of a gain, loss or dividend that falls inside, and the instrument a
transaction belongs to.

The rule, as Skatteetaten's Skatte-ABC and the act state it (sources in the README,
"Fritaksmetoden"):

- Shares in a company resident in the EEA are inside (Skatte-ABC F-32-3.7.1, § 2-38 (2) a); in an
  EEA low-tax country only when the company is really established there with real economic
  activity (§ 2-38 (3) a), which we cannot know: such a share defaults to outside, to be set inside
  by a person who knows it is.
- Shares in a company resident outside the EEA: never inside in a low-tax country; otherwise
  inside only for a holding of at least 10 % of the capital and the votes for two years
  (F-32-3.8.2, § 2-38 (3) c and d). A small (portfolio) holding is outside: gains taxable, losses
  deductible.
- Fund units (verdipapirfond) are objects like shares (§ 2-38 (2)); for a company the method covers
  the part of a gain, loss or distribution that reflects the fund's equity share, the rest is
  interest income (§ 10-20 (6) and (7), Skatte-ABC U-12-8.1). A fund of more than 80 % equities
  counts as 100 %, one of less than 20 % as 0 % (§ 10-20 (3); the V-6-3.3.2 example: 92 % counts
  as 100 %). An interest fund is therefore outside.
- Anything else (bonds, most derivatives) is outside; an instrument whose underlying is a share
  (subscription rights, options on shares) is inside (Skatte-ABC A-5-1.2), which a person sets.

Simplifications, said on the instruments page too: the equity share stored is one figure (the act
averages the acquisition year's and the sale year's for gains, V-6-3.3.2); the two-year ownership
test and the asymmetric loss rule for EEA low-tax companies (F-32-3.7.1: their losses stay inside)
are the accountant's call through the override. The country defaults to the ISIN's prefix, which
brokers and investors commonly use but which does not always give the tax residence (Nordnet,
"Innenfor eller utenfor fritaksmetoden?"), so it is shown for checking.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from companies.models import Company
from ledger.models import Transaction
from ledger.models.instruments import Instrument

ONE = Decimal("1")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

# The EEA: the EU's 27 members and Iceland, Liechtenstein and Norway (not Switzerland), ISO 3166
# alpha-2 (UDI, "EU/EØS-landa"; SSB, "EØS-avtalen").
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)

Kind = Instrument.Kind
Exemption = Instrument.Exemption


@dataclass(frozen=True)
class ExemptionRuling:
    """Where an instrument falls, the share inside (0..1), and why, for people."""

    exemption: str
    inside_share: Decimal
    reason: str
    is_override: bool = False

    @property
    def label(self) -> str:
        return str(Exemption(self.exemption).label)


def fund_inside_share(equity_share: Decimal | None) -> Decimal | None:
    """The part of a fund's gains and distributions inside the method: above 80 % equities counts
    as all, below 20 % as none, in between as the share itself; None when the share is unknown."""
    if equity_share is None:
        return None
    if equity_share > 80:
        return ONE
    if equity_share < 20:
        return ZERO
    return (equity_share / HUNDRED).quantize(Decimal("0.0001"))


def exemption_default(instrument: Instrument) -> ExemptionRuling:
    """The rule's answer for this instrument's facts (never the override)."""
    kind = instrument.kind
    if kind in Instrument.FUNDS:
        return _fund_default(instrument)
    if kind == Kind.OTHER:
        return ExemptionRuling(
            Exemption.OUTSIDE,
            ZERO,
            _(
                "Not a share or a fund: outside. An instrument whose underlying is a share "
                "(a subscription right, an option) is inside; set it so."
            ),
        )
    return _share_default(instrument)


def _share_default(instrument: Instrument) -> ExemptionRuling:
    country = instrument.country.upper()
    if not country:
        return ExemptionRuling(
            Exemption.INSIDE,
            ONE,
            _("Country of residence unknown: treated like a Norwegian share. Set the country."),
        )
    if country in EEA:
        if instrument.is_low_tax:
            return ExemptionRuling(
                Exemption.OUTSIDE,
                ZERO,
                _(
                    "A company in a low-tax country in the EEA is inside only when it is really "
                    "established there with real economic activity; set it inside if it is."
                ),
            )
        return ExemptionRuling(Exemption.INSIDE, ONE, _("A company resident in the EEA."))
    if instrument.is_low_tax:
        return ExemptionRuling(
            Exemption.OUTSIDE, ZERO, _("A company in a low-tax country outside the EEA.")
        )
    if instrument.holds_ten_percent:
        return ExemptionRuling(
            Exemption.INSIDE,
            ONE,
            _(
                "Outside the EEA, but the firm has held at least 10 % of the capital and the "
                "votes for two years."
            ),
        )
    return ExemptionRuling(
        Exemption.OUTSIDE,
        ZERO,
        _("A holding of less than 10 % in a company resident outside the EEA."),
    )


def _fund_default(instrument: Instrument) -> ExemptionRuling:
    if instrument.kind == Kind.INTEREST_FUND:
        return ExemptionRuling(
            Exemption.OUTSIDE, ZERO, _("An interest fund: its returns are interest income.")
        )
    country = instrument.country.upper()
    if country and country not in EEA:
        return ExemptionRuling(
            Exemption.OUTSIDE,
            ZERO,
            _("A fund resident outside the EEA: check whether it qualifies, and set it."),
        )
    equity = instrument.equity_share
    if equity is None and instrument.kind == Kind.EQUITY_FUND:
        equity = HUNDRED
    share = fund_inside_share(equity)
    if share is None:
        return ExemptionRuling(
            Exemption.OUTSIDE,
            ZERO,
            _("The fund's equity share is unknown: outside until it is set."),
        )
    if share == ONE:
        return ExemptionRuling(
            Exemption.INSIDE, ONE, _("A fund with more than 80 % equities counts as all equities.")
        )
    if share == ZERO:
        return ExemptionRuling(
            Exemption.OUTSIDE, ZERO, _("A fund with less than 20 % equities counts as none.")
        )
    return ExemptionRuling(
        Exemption.PARTIAL,
        share,
        _("A fund with %(share)s %% equities: that part is inside, the rest is interest income.")
        % {"share": format(equity, "f").rstrip("0").rstrip(".").replace(".", ",")},
    )


def exemption_ruling(instrument: Instrument) -> ExemptionRuling:
    """What applies: a person's override when set, else the rule."""
    default = exemption_default(instrument)
    override = instrument.exemption_override
    if not override or override == default.exemption:
        return default
    if override == Exemption.INSIDE:
        share = ONE
    elif override == Exemption.OUTSIDE:
        share = ZERO
    else:
        # The form requires the equity share with this choice; a person's figure is used as given.
        share = ((instrument.equity_share or ZERO) / HUNDRED).quantize(Decimal("0.0001"))
    return ExemptionRuling(override, share, _("Set by a person."), is_override=True)


def country_from_isin(isin: str) -> str:
    """The ISIN's country prefix (two letters), '' when there is none."""
    prefix = isin.strip().upper()[:2]
    return prefix if len(prefix) == 2 and prefix.isalpha() else ""


def instrument_unsaved(*, company: Company, key: str, name: str, isin: str) -> Instrument:
    """The record an instrument gets before anyone looked at it: a share, resident where its ISIN
    says (not saved)."""
    return Instrument(
        company=company,
        key=key,
        name=name or isin or key,
        isin=isin,
        kind=Kind.SHARE,
        country=country_from_isin(isin),
    )


def instrument_for(*, company: Company, txn: Transaction) -> Instrument:
    """The instrument a transaction belongs to: its stored record, else the unsaved default."""
    key = txn.instrument_key
    found = Instrument.objects.filter(company=company, key=key).first()
    if found is not None:
        return found
    return instrument_unsaved(
        company=company, key=key, name=txn.instrument_name, isin=txn.isin.strip().upper()
    )


def inside_share_for(*, company: Company, txn: Transaction) -> Decimal:
    """The share (0..1) of this transaction's gain, loss or dividend inside the method; 1 for a
    transaction without an instrument (a journal entry, a fee)."""
    if not txn.instrument_key:
        return ONE
    return exemption_ruling(instrument_for(company=company, txn=txn)).inside_share

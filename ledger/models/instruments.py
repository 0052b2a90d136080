"""What the firm holds, as the tax rules see it: one Instrument per company and instrument key.

The key is `Transaction.instrument_key` (the ISIN when known, else the name, upper case), so every
transaction of an instrument finds its record. A broker file without ISINs (DNB: ticker and MIC)
finds the ISIN a person gave once through `instrument_ref`. The facts stored here decide whether the
instrument's gains, losses and dividends fall inside the exemption method (fritaksmetoden,
skatteloven § 2-38); the rule that derives the default is `ledger/holdings/exemption.py`, and a
person may override it per instrument (README, "Fritaksmetoden").
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.managers import CompanyScopedManager


class Instrument(models.Model):
    """A security the firm trades, with the facts that place it inside or outside the method."""

    class Kind(models.TextChoices):
        SHARE = "share", _("Share")
        EQUITY_FUND = "equity_fund", _("Equity fund")
        COMBINATION_FUND = "combination_fund", _("Combination fund")
        INTEREST_FUND = "interest_fund", _("Interest fund")
        OTHER = "other", _("Other")

    class Exemption(models.TextChoices):
        INSIDE = "inside", _("Inside the exemption method")
        OUTSIDE = "outside", _("Outside the exemption method")
        PARTIAL = "partial", _("Partly inside (the fund's equity share)")

    FUNDS = (Kind.EQUITY_FUND, Kind.COMBINATION_FUND, Kind.INTEREST_FUND)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="instruments")
    key = models.CharField(max_length=200)
    name = models.CharField(_("name"), max_length=200)
    isin = models.CharField(_("ISIN"), max_length=12, blank=True)
    # The broker's name for the instrument when its file has no ISIN (DNB: "TICKER.MIC"), so the
    # ISIN a person gave once is found again on the next import (ledger/imports/service.py).
    instrument_ref = models.CharField(_("ticker and market (MIC)"), max_length=80, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.SHARE)
    # ISO 3166 alpha-2 of the country the company (or fund) is resident in for tax.
    country = models.CharField(_("country of residence"), max_length=2, blank=True)
    is_low_tax = models.BooleanField(_("resident in a low-tax country"), default=False)
    holds_ten_percent = models.BooleanField(
        _("owns at least 10 % of the capital and the votes, for two years"), default=False
    )
    # A fund's share of equities at the start of the income year, in per cent (skatteloven § 10-20).
    equity_share = models.DecimalField(
        _("equity share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    # '' follows the rule; any other value is a person's decision for this instrument.
    exemption_override = models.CharField(
        _("exemption method"), max_length=10, choices=Exemption.choices, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["name", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "key"], name="ledger_instrument_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

"""Broker accounts: a firm's accounts at a broker (a Nordnet portfolio, a DNB account), each with
its own cash account in the chart.

Money at a broker is not in the firm's bank: a purchase, sale, dividend or fee of the account
posts against the broker account's GL cash account (e.g. a 19xx account for the Nordnet cash),
and a deposit or withdrawal moves money between the firm's bank account (GL settings "Bank") and
that cash account. Imports find the account by the number in the file (Nordnet's `Portefølje`),
or by the one the user picks when the file has none (DNB, Nordnet's older layout).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.managers import CompanyScopedManager


class BrokerAccount(models.Model):
    """One account of the firm at a broker, and the GL account its cash is kept on."""

    class Broker(models.TextChoices):
        NORDNET = "nordnet", "Nordnet"
        DNB = "dnb", "DNB"
        OTHER = "other", _("Other broker")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="broker_accounts")
    broker = models.CharField(_("broker"), max_length=20, choices=Broker.choices)
    number = models.CharField(_("account or portfolio number"), max_length=40)
    name = models.CharField(_("name"), max_length=100, blank=True)
    cash_account = models.PositiveIntegerField(_("GL cash account"))
    # The currency the cash account is kept in, as in Tripletex's chart: postings to it carry
    # Tripletex's currency fields when a transaction is in this currency.
    currency = models.CharField(_("currency of the cash account"), max_length=3, default="NOK")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["broker", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "broker", "number"], name="ledger_brokeraccount_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_broker_display()} {self.number}"

    @property
    def label(self) -> str:
        """'Nordnet 12345678 (Aksjesparekonto)' for lists and voucher texts."""
        text = f"{self.get_broker_display()} {self.number}"
        return f"{text} ({self.name})" if self.name else text

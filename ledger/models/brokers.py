"""Broker accounts: a firm's accounts at a broker (a Nordnet portfolio, a DNB account), each with
its own cash account in the chart.

Money at a broker is not in the firm's bank: a purchase, sale, dividend or fee of the account
posts against the broker account's GL cash account (e.g. a 19xx account for the Nordnet cash),
and a deposit or withdrawal moves money between the firm's bank account (GL settings "Bank") and
that cash account. Imports find the account by the number in the file (Nordnet's `Portefølje`),
or by the one the user picks when the file has none (DNB, Nordnet's older layout).

One Nordnet portfolio can hold a cash account per currency (its "valutakontoer" in NOK, SEK, DKK,
EUR, USD and CAD; nordnet.no Kundeservice, "Valuta og veksling / Valutakonto"): the firm then has
one BrokerAccount per currency of the same number, each with its own GL cash account kept in that
currency, and an imported row goes to the one of its amount's currency (ledger/imports/service.py
`account_for`). A portfolio with a single BrokerAccount takes all its rows, as before.
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
                fields=["company", "broker", "number", "currency"],
                name="ledger_brokeraccount_unique_number_currency",
            ),
        ]

    def __str__(self) -> str:
        text = f"{self.get_broker_display()} {self.number}"
        return f"{text} {self.currency}" if self.currency not in ("", "NOK") else text

    @property
    def label(self) -> str:
        """'Nordnet 12345678 (Aksjesparekonto)' for lists and voucher texts; 'Nordnet 12345678
        USD' for an account kept in a foreign currency, so the accounts of one portfolio are told
        apart (a Nordnet portfolio's NOK account cannot be closed, nordnet.no FAQ "Hva er viktig
        å vite om valutakonto?": a foreign one always sits beside it)."""
        text = f"{self.get_broker_display()} {self.number}"
        if self.currency not in ("", "NOK"):
            text = f"{text} {self.currency}"
        return f"{text} ({self.name})" if self.name else text


class ImportedRow(models.Model):
    """A broker file's row imported without becoming a transaction, remembered so a re-import of
    the file counts it as already imported: a currency exchange between two currencies kept on
    one GL cash account, whose two legs net to nothing in NOK (ledger/imports/service.py)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    # The broker's own transaction id, as Transaction.broker_ref ("nordnet:<Portefølje>:<Id>").
    broker_ref = models.CharField(max_length=80)
    # Why nothing was booked, in words for the audit ("Currency exchange within the account").
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "broker_ref"], name="ledger_importedrow_unique_ref"
            ),
        ]

    def __str__(self) -> str:
        return self.broker_ref

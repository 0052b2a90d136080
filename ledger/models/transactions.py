"""What finance users record and book into Tripletex: transactions, their journal lines, the GL
account settings per company, every booking attempt, and reversals.

A transaction becomes exactly one Tripletex voucher per booking round. Its idempotency key is
`external_voucher_number` (DYN-<company>-<pk>, plus -<round> from the second round on, after a
reversal): stable for the row's life in that round, and the only way we find a voucher whose
creation answer we never saw.
"""

from decimal import Context, Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from companies.models import Company
from ledger.models.fields import MONEY, QUANTITY, StoredDecimalField
from ledger.models.managers import CompanyScopedManager


def number_text(value: Decimal | None) -> str:
    """1234.5000 → '1 234,5' (Norwegian, no trailing zeros): a quantity or price as pages show it."""
    if value is None:
        return ""
    # In a context wide enough for every digit: the default 28 would round a longer number.
    text = format(value.normalize(Context(prec=max(28, len(value.as_tuple().digits)))), "f")
    whole, _sep, fraction = text.lstrip("-").partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    sign = "\u2212" if value < 0 else ""
    return sign + "\u00a0".join(groups or ["0"]) + ("," + fraction if fraction else "")


class Transaction(models.Model):
    """A securities transaction or a manual journal entry, and where its booking stands."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SALE = "sale", _("Sale")
        DIVIDEND = "dividend", _("Dividend")
        INTEREST = "interest", _("Interest")
        FEE = "fee", _("Fee")
        WITHHOLDING_TAX = "withholding_tax", _("Withholding tax")
        REPAYMENT = "repayment", _("Repayment of capital")
        FUND_SWITCH = "fund_switch", _("Fund switch")
        # Money moved between the firm's bank account and a broker account (either way).
        CASH_DEPOSIT = "cash_deposit", _("Deposit to broker account")
        CASH_WITHDRAWAL = "cash_withdrawal", _("Withdrawal from broker account")
        # Money exchanged between two currency accounts of one broker portfolio (Nordnet's
        # SALG VALUTA + KJØP VALUTA): from `broker_account` to `to_broker_account`.
        CURRENCY_EXCHANGE = "currency_exchange", _("Currency exchange")
        JOURNAL = "journal", _("Manual journal entry")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        READY = "ready", _("Ready")
        QUEUED = "queued", _("Queued")
        BOOKING = "booking", _("Booking")
        BOOKED = "booked", _("Booked")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Needs attention")
        REVERSED = "reversed", _("Reversed")

    class SettleVia(models.TextChoices):
        BANK = "bank", _("Bank account")
        LOAN = "loan", _("Instrument loan")

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        CSV = "csv", _("CSV import")
        BROKER = "broker", _("Broker file")

    # Statuses whose rows may still be changed by the user.
    EDITABLE = (Status.DRAFT, Status.READY, Status.REJECTED, Status.REVERSED)
    # Statuses from which "Book to Tripletex" queues the row.
    BOOKABLE = (Status.READY, Status.REJECTED, Status.FAILED)
    WAITING = (Status.READY, Status.QUEUED, Status.BOOKING)

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="transactions", verbose_name=_("company")
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.READY, db_index=True
    )
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.FORM, verbose_name=_("source")
    )
    trade_date = models.DateField(_("trade date"))
    settlement_date = models.DateField(_("settlement date"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    instrument_name = models.CharField(_("instrument"), max_length=200, blank=True)
    isin = models.CharField(_("ISIN"), max_length=12, blank=True)
    quantity = StoredDecimalField(_("quantity"), null=True, blank=True, **QUANTITY)
    price = StoredDecimalField(_("price"), null=True, blank=True, **QUANTITY)
    # Always NOK, the company currency: what is posted. For foreign currency the user states it.
    amount = StoredDecimalField(_("amount (NOK)"), null=True, blank=True, **MONEY)
    fees = StoredDecimalField(_("fees (NOK)"), default=Decimal("0.00"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="NOK")
    amount_currency = StoredDecimalField(_("amount in currency"), null=True, blank=True, **MONEY)
    to_instrument_name = models.CharField(_("switched into"), max_length=200, blank=True)
    to_isin = models.CharField(_("ISIN switched into"), max_length=12, blank=True)
    to_quantity = StoredDecimalField(_("quantity switched into"), null=True, blank=True, **QUANTITY)
    settle_via = models.CharField(
        _("paid through"), max_length=10, choices=SettleVia.choices, default=SettleVia.BANK
    )
    note = models.TextField(_("note"), blank=True)
    # The broker account whose cash the transaction moves (None: the firm's bank account, or
    # the instrument loan, as settle_via says). See ledger/models/brokers.py.
    broker_account = models.ForeignKey(
        "ledger.BrokerAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
        verbose_name=_("broker account"),
    )
    # A currency exchange: the broker account the money went into (`broker_account` is the one
    # it left), that account's currency and the amount received in it (positive; `currency` and
    # `amount_currency` are the sold side's). See ledger/transactions/vouchers.py.
    to_broker_account = models.ForeignKey(
        "ledger.BrokerAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("broker account exchanged into"),
    )
    to_currency = models.CharField(_("currency exchanged into"), max_length=3, blank=True)
    to_amount_currency = StoredDecimalField(
        _("amount received in that currency"), null=True, blank=True, **MONEY
    )
    # The broker's FX rate (NOK per unit of `currency`) as its file states it.
    fx_rate = models.DecimalField(
        _("FX rate"), null=True, blank=True, max_digits=20, decimal_places=8
    )
    # Foreign tax withheld from a dividend (NOK), posted in the dividend's voucher.
    tax_withheld = models.DecimalField(_("tax withheld (NOK)"), default=Decimal("0.00"), **MONEY)
    # The broker's own transaction id ("nordnet:<Portefølje>:<Id>"), what a re-import dedupes on;
    # broker_ref_other holds a second row merged into this one (a dividend's withholding tax).
    broker_ref = models.CharField(max_length=80, blank=True, verbose_name=_("broker reference"))
    broker_ref_other = models.CharField(
        max_length=80, blank=True, verbose_name=_("second broker reference")
    )
    contract_note_number = models.CharField(_("contract note number"), max_length=40, blank=True)
    # FIFO cost of what a sale or switch disposes of, frozen when the row is queued for booking.
    cost_basis = StoredDecimalField(
        null=True, blank=True, **MONEY, verbose_name=_("cost basis (FIFO)")
    )

    # Booking state. The round grows by one after each reversal, so the key changes with it.
    booking_round = models.PositiveIntegerField(default=1, verbose_name=_("booking round"))
    external_voucher_number = models.CharField(
        max_length=60, blank=True, db_index=True, verbose_name=_("external voucher number")
    )
    tripletex_voucher_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, verbose_name=_("Tripletex voucher id")
    )
    # Set when the voucher is in the ledger; a voucher sent for approval has only a temporary
    # number until someone approves it in Tripletex (bookings_refresh_approved picks that up).
    voucher_number = models.IntegerField(null=True, blank=True, verbose_name=_("voucher number"))
    voucher_year = models.IntegerField(null=True, blank=True, verbose_name=_("voucher year"))
    voucher_temp_number = models.IntegerField(
        null=True, blank=True, verbose_name=_("temporary voucher number")
    )
    messages = models.JSONField(default=list, blank=True, verbose_name=_("messages"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    claim_token = models.CharField(max_length=40, blank=True, verbose_name=_("claim token"))
    lease_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    # When an HTTP send of this round's voucher POST last left (stamped right before each send,
    # the client's own resends included): until its settle deadline, never post again.
    last_post_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last sent at"))
    # The same for the PUT :reverse of the booked voucher: never reversed twice, never unlooked.
    reverse_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("reversal sent at")
    )
    next_retry_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    queued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("queued at"))
    booked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("booked at"))

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CompanyScopedManager()

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        ordering = ["-trade_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_voucher_number"],
                condition=~models.Q(external_voucher_number=""),
                name="ledger_transaction_unique_external_number",
            ),
            models.UniqueConstraint(
                fields=["company", "broker_ref"],
                condition=~models.Q(broker_ref=""),
                name="ledger_transaction_unique_broker_ref",
            ),
        ]
        indexes = [models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.trade_date} {self.label}"

    @property
    def label(self) -> str:
        """A short text for lists: the description, else the instrument."""
        return self.description or self.instrument_name or ""

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_bookable(self) -> bool:
        return self.status in self.BOOKABLE

    @property
    def is_journal(self) -> bool:
        return self.kind == self.Kind.JOURNAL

    @property
    def is_awaiting_approval(self) -> bool:
        """Booked as a voucher that waits for someone to approve it in Tripletex."""
        return self.status == self.Status.BOOKED and self.voucher_number is None

    @property
    def instrument_key(self) -> str:
        """FIFO groups lots per instrument: by ISIN when known, else by name."""
        return (self.isin or self.instrument_name).strip().upper()

    @property
    def quantity_text(self) -> str:
        return number_text(self.quantity)

    @property
    def price_text(self) -> str:
        return number_text(self.price)

    @property
    def to_quantity_text(self) -> str:
        return number_text(self.to_quantity)

    def external_number_for_round(self, booking_round: int) -> str:
        """The idempotency key of a booking round: stable, unique per company and round."""
        base = f"DYN-{self.company_id}-{self.pk}"
        return base if booking_round <= 1 else f"{base}-{booking_round}"


# Booked as a voucher that waits for approval in Tripletex (Transaction.is_awaiting_approval).
AWAITING_APPROVAL = models.Q(status=Transaction.Status.BOOKED, voucher_number__isnull=True)


class JournalLine(models.Model):
    """One line of a manual journal entry: an account and a debit or a credit amount."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField()
    account_number = models.IntegerField(_("account"))
    debit = StoredDecimalField(_("debit"), default=Decimal("0.00"), **MONEY)
    credit = StoredDecimalField(_("credit"), default=Decimal("0.00"), **MONEY)
    description = models.CharField(_("description"), max_length=200, blank=True)
    department_number = models.CharField(_("department"), max_length=40, blank=True)
    project_number = models.CharField(_("project"), max_length=40, blank=True)
    vat_code = models.CharField(_("VAT code"), max_length=10, blank=True)

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["row"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "row"], name="ledger_journalline_row"),
        ]

    def __str__(self) -> str:
        return f"{self.row}: {self.account_number} {self.debit - self.credit}"

    @property
    def amount(self) -> Decimal:
        """Signed like Tripletex: debit positive, credit negative."""
        return self.debit - self.credit


# The default account of each posting role: Tripletex's standard chart as Norwegian accountants use
# it for a holding company's shares (the choice and its sources: README, "Default accounts").
GL_DEFAULTS: dict[str, int] = {
    "bank": 1920,
    "securities": 1810,
    "profit": 8077,
    "loss": 8177,
    "dividend": 8071,
    "repayment": 1810,
    "interest": 8050,
    "instrument_loan": 2220,
    "withholding_tax": 8300,
    "fund_switch": 1889,
    "fees": 8179,
    # Outside the exemption method (README, "Fritaksmetoden"). No source names an account for
    # dividends outside the method, so that role starts on the dividend account and takes an
    # outside one only when the firm's chart has an account that says so.
    "profit_outside": 8078,
    "loss_outside": 8178,
    "dividend_outside": 8071,
}


class GLAccountSettings(models.Model):
    """Which account each kind of posting goes to, per company, and whether a person confirmed it."""

    class RoleState(models.TextChoices):
        # A role missing from role_states has its default, not yet checked against the chart.
        CONFIRMED = "confirmed", _("Confirmed")
        DEFAULT = "default", _("Proposed: the default account")
        NEAREST = "nearest", _("Proposed: the nearest account in the same group")
        FLAGGED = "flagged", _("No suitable account in the chart")
        # An outside-the-method role whose chart has no outside account: the inside one is used.
        FALLBACK = "fallback", _("Proposed: the inside account (the chart has none outside)")

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="gl_settings", verbose_name=_("company")
    )
    bank = models.PositiveIntegerField(_("Bank"), default=GL_DEFAULTS["bank"])
    securities = models.PositiveIntegerField(_("Securities"), default=GL_DEFAULTS["securities"])
    profit = models.PositiveIntegerField(_("Gain on sale"), default=GL_DEFAULTS["profit"])
    loss = models.PositiveIntegerField(_("Loss on sale"), default=GL_DEFAULTS["loss"])
    dividend = models.PositiveIntegerField(_("Dividend"), default=GL_DEFAULTS["dividend"])
    repayment = models.PositiveIntegerField(
        _("Repayment of capital"), default=GL_DEFAULTS["repayment"]
    )
    interest = models.PositiveIntegerField(_("Interest income"), default=GL_DEFAULTS["interest"])
    instrument_loan = models.PositiveIntegerField(
        _("Instrument loan"), default=GL_DEFAULTS["instrument_loan"]
    )
    withholding_tax = models.PositiveIntegerField(
        _("Withholding tax"), default=GL_DEFAULTS["withholding_tax"]
    )
    fund_switch = models.PositiveIntegerField(
        _("Fund switch (clearing)"), default=GL_DEFAULTS["fund_switch"]
    )
    fees = models.PositiveIntegerField(_("Fees"), default=GL_DEFAULTS["fees"])
    profit_outside = models.PositiveIntegerField(
        _("Gain on sale, outside the exemption method"), default=GL_DEFAULTS["profit_outside"]
    )
    loss_outside = models.PositiveIntegerField(
        _("Loss on sale, outside the exemption method"), default=GL_DEFAULTS["loss_outside"]
    )
    dividend_outside = models.PositiveIntegerField(
        _("Dividend, outside the exemption method"), default=GL_DEFAULTS["dividend_outside"]
    )
    # {role: RoleState}: proposed from the firm's chart (onboarding, the settings page) until a
    # person saves the settings page, which confirms every role.
    role_states = models.JSONField(default=dict, blank=True, verbose_name=_("role states"))

    class PostingMode(models.TextChoices):
        LEDGER = "ledger", _("Post vouchers straight to the ledger")
        APPROVAL = "approval", _("Send vouchers for approval in Tripletex")

    # Tripletex lets a key post to the ledger only with "Advanced Voucher"; without it, vouchers
    # are sent with sendToLedger=false and someone at the firm approves them in Tripletex.
    posting_mode = models.CharField(
        _("How vouchers reach Tripletex"),
        max_length=10,
        choices=PostingMode.choices,
        default=PostingMode.LEDGER,
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = CompanyScopedManager()

    ROLES = (
        "bank",
        "securities",
        "profit",
        "loss",
        "dividend",
        "repayment",
        "interest",
        "instrument_loan",
        "withholding_tax",
        "fund_switch",
        "fees",
        "profit_outside",
        "loss_outside",
        "dividend_outside",
    )

    class Meta:
        verbose_name = _("GL account settings")
        verbose_name_plural = _("GL account settings")

    def __str__(self) -> str:
        return f"GL settings of {self.company_id}"

    @property
    def send_to_ledger(self) -> bool:
        return self.posting_mode == self.PostingMode.LEDGER

    def role_state(self, role: str) -> str:
        """The role's RoleState value, '' while its account has not been checked yet."""
        return str(self.role_states.get(role, ""))


class BookingAttempt(models.Model):
    """One run of the booking protocol (or a reversal) for one transaction, and how it ended."""

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ALREADY_BOOKED = "already-booked", _("Found already booked")
        REJECTED = "rejected", _("Rejected")
        UNKNOWN = "unknown", _("Outcome unknown")
        RETRY = "retry", _("Will retry")
        WAITING = "waiting", _("Waiting before looking again")
        FAILED = "failed", _("Failed")
        REVERSED = "reversed", _("Reversed")
        LOST_CLAIM = "lost-claim", _("Taken over by another worker")

    class Action(models.TextChoices):
        """What a run set out to do (the booking log's "Action" column)."""

        BOOK = "book", pgettext_lazy("booking log action", "Booking")
        # A later run after an unclear answer: looks the voucher up before anything is resent.
        RESOLVE = "resolve", pgettext_lazy("booking log action", "Check after an unclear answer")
        REVERSE = "reverse", pgettext_lazy("booking log action", "Reversal")

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.CASCADE,
        related_name="booking_attempts",
        verbose_name=_("transaction"),
    )
    attempt = models.PositiveIntegerField(verbose_name=_("attempt"))
    action = models.CharField(max_length=20, default="book", verbose_name=_("action"))
    external_voucher_number = models.CharField(
        max_length=60, blank=True, verbose_name=_("external voucher number")
    )
    started_at = models.DateTimeField(auto_now_add=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, blank=True, verbose_name=_("outcome")
    )
    posted = models.BooleanField(default=False, verbose_name=_("posted"))
    tripletex_calls = models.PositiveIntegerField(default=0, verbose_name=_("Tripletex calls"))
    request_ids = models.JSONField(default=list, blank=True, verbose_name=_("request ids"))
    messages = models.JSONField(default=list, blank=True, verbose_name=_("messages"))
    voucher_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("voucher id"))

    objects = CompanyScopedManager()

    class Meta:
        verbose_name = _("booking attempt")
        verbose_name_plural = _("booking attempts")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.transaction_id} #{self.attempt} {self.outcome}"

    @property
    def action_label(self) -> str:
        """The action in words. (Action is not the field's `choices`: that would only change the
        migration state, and the column's values are the enum's already.)"""
        try:
            return str(self.Action(self.action).label)
        except ValueError:
            return self.action


class Reversal(models.Model):
    """A booked voucher of a transaction that was reversed in Tripletex, linked to its reversal."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.CASCADE,
        related_name="reversals",
        verbose_name=_("transaction"),
    )
    booking_round = models.PositiveIntegerField(verbose_name=_("booking round"))
    external_voucher_number = models.CharField(
        max_length=60, verbose_name=_("external voucher number")
    )
    original_voucher_id = models.BigIntegerField(verbose_name=_("original voucher id"))
    original_number = models.IntegerField(
        null=True, blank=True, verbose_name=_("original voucher number")
    )
    original_year = models.IntegerField(
        null=True, blank=True, verbose_name=_("original voucher year")
    )
    reversal_voucher_id = models.BigIntegerField(verbose_name=_("reversal voucher id"))
    reversal_number = models.IntegerField(
        null=True, blank=True, verbose_name=_("reversal voucher number")
    )
    reversal_year = models.IntegerField(
        null=True, blank=True, verbose_name=_("reversal voucher year")
    )
    reversal_date = models.DateField(verbose_name=_("reversal date"))
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = CompanyScopedManager()

    class Meta:
        verbose_name = _("reversal")
        verbose_name_plural = _("reversals")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_voucher_id} reversed by {self.reversal_voucher_id}"

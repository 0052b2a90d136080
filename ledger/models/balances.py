"""Figures synced from Tripletex, per company: the chart of accounts, periods, dimensions, monthly balances
and the log of sync runs. Months are half-open like Tripletex's dateTo: a row's `month` is the first day
and the period ends on the first day of the next month."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models.fields import MONEY
from ledger.models.managers import CompanyScopedManager


class LedgerAccount(models.Model):
    """An account in the company's Tripletex chart of accounts."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="ledger_accounts")
    tripletex_id = models.BigIntegerField()
    number = models.IntegerField(_("account"))
    name = models.CharField(_("name"), max_length=255)
    account_type = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    # The currency the account is kept in (Tripletex's Account.currency: code and id); '' when
    # Tripletex did not say. Booking posts to an account in a foreign currency with Tripletex's
    # currency fields, in that currency only (ledger/transactions/vouchers.py).
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    currency_tripletex_id = models.BigIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tripletex_id"], name="ledger_account_one_per_id"
            ),
        ]
        indexes = [models.Index(fields=["company", "number"])]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class AccountingPeriod(models.Model):
    """A Tripletex accounting period [start, end) and whether it is closed."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="accounting_periods"
    )
    tripletex_id = models.BigIntegerField()
    start = models.DateField()
    end = models.DateField()
    is_closed = models.BooleanField(default=False)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "start"], name="ledger_period_one_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m} ({'closed' if self.is_closed else 'open'})"


class Department(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="departments")
    tripletex_id = models.BigIntegerField()
    number = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["number", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tripletex_id"], name="ledger_department_one_per_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class Project(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="projects")
    tripletex_id = models.BigIntegerField()
    number = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=255)
    is_closed = models.BooleanField(default=False)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["number", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "tripletex_id"], name="ledger_project_one_per_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class AccountBalance(models.Model):
    """One account's balance for one month: in (before the month) + change (in it) = out (at its end).

    Signs as Tripletex stores them: debit positive, credit negative (revenue and liabilities are
    negative); the figures pages flip signs for display only.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="balances")
    account_number = models.IntegerField()
    month = models.DateField(help_text="First day of the month; the period is [month, next month).")
    balance_in = models.DecimalField(**MONEY)
    balance_change = models.DecimalField(**MONEY)
    balance_out = models.DecimalField(**MONEY)
    synced_at = models.DateTimeField()

    objects = CompanyScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account_number", "month"], name="ledger_balance_one_per_month"
            ),
        ]
        indexes = [models.Index(fields=["company", "month"])]

    def __str__(self) -> str:
        return f"{self.account_number} {self.month:%Y-%m}: {self.balance_out}"


class MonthSync(models.Model):
    """The sync state of one company-month: when it was pulled and whether its figures tie out."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="month_syncs")
    month = models.DateField()
    synced_at = models.DateTimeField()
    period_closed = models.BooleanField(default=False)
    is_complete = models.BooleanField(default=True)
    problem = models.TextField(blank=True)
    # What the month holds, counted when it is written: the figures pages read the months with
    # data and the fiscal-year start from these few rows instead of aggregating every balance.
    balance_rows = models.PositiveIntegerField(default=0, help_text="Accounts with a balance.")
    result_rows = models.PositiveIntegerField(
        default=0, help_text="Of those, result accounts (3000–8999)."
    )
    result_rows_opened = models.PositiveIntegerField(
        default=0, help_text="Of those, accounts whose opening balance is not zero."
    )
    # The month's totals the office dashboard reads instead of summing every balance of 200 firms
    # (`ledger.dashboard`), in the ledger's signs, written with the balances in the same statement
    # (`ledger.sync.month_replace`): ranges as in `ledger.accounts`.
    net_result = models.DecimalField(
        **MONEY, default=0, help_text="Change of the net-result accounts (3000–8799) in the month."
    )
    current_assets = models.DecimalField(
        **MONEY,
        default=0,
        help_text="Balance of the current assets (1400–1999) at the month's end.",
    )
    short_term_debt = models.DecimalField(
        **MONEY,
        default=0,
        help_text="Balance of the short-term debt (2300–2999) at the month's end.",
    )

    objects = CompanyScopedManager()

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "month"], name="ledger_monthsync_one_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month:%Y-%m}"


class SyncRun(models.Model):
    """One sync of a company's figures: what was pulled, how many Tripletex calls, and how it ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        INCOMPLETE = "incomplete", _("Incomplete figures")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Sync now")
        COMMAND = "command", _("Command line")

    class Kind(models.TextChoices):
        FULL = "full", _("All months")
        MONTH = "month", _("One month")
        CURRENT = "current", _("Current month")
        RECHECK = "recheck", _("All months, closed ones re-checked")

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("company")
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, verbose_name=_("trigger"))
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.FULL, verbose_name=_("kind")
    )
    requested_by = models.ForeignKey(
        "companies.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status")
    )
    only_month = models.DateField(null=True, blank=True, verbose_name=_("only month"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    months_total = models.PositiveIntegerField(default=0, verbose_name=_("months in all"))
    months_done = models.PositiveIntegerField(default=0, verbose_name=_("months done"))
    rows_written = models.PositiveIntegerField(default=0, verbose_name=_("rows written"))
    tripletex_calls = models.PositiveIntegerField(default=0, verbose_name=_("Tripletex calls"))
    rate_limit_waits = models.PositiveIntegerField(default=0, verbose_name=_("rate-limit waits"))
    waited_seconds = models.FloatField(default=0, verbose_name=_("seconds waited"))
    months_skipped = models.PositiveIntegerField(default=0, verbose_name=_("months skipped"))
    # Touched after every month: a running run whose heartbeat stopped lost its worker.
    progress_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last progress at"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    request_ids = models.JSONField(default=list, blank=True, verbose_name=_("request ids"))
    # How the run pulled each fiscal year it pulled whole: [{"year": "2025", "strategy":
    # "postings" | "months", "postings": 412, "reason": "..."}] (FiscalYearSync keeps the last).
    strategies = models.JSONField(default=list, blank=True, verbose_name=_("strategies"))

    objects = CompanyScopedManager()

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-created_at"]
        constraints = [
            # At most one queued or running sync per company: a second "Sync now" finds the first.
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(status__in=["queued", "running"]),
                name="ledger_syncrun_one_active_per_company",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.company_id} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.status}"
        )

    @property
    def strategy_notes(self) -> list[str]:
        """One line per fiscal year the run pulled whole: how, and why when not from postings."""
        notes = []
        for item in self.strategies:
            if item.get("strategy") == "postings":
                text = _("%(year)s: from %(count)s postings") % {
                    "year": item.get("year", ""),
                    "count": item.get("postings", 0),
                }
            else:
                text = _("%(year)s: monthly balances") % {"year": item.get("year", "")}
            if item.get("reason"):
                text = f"{text} ({item['reason']})"
            notes.append(str(text))
        return notes


class SyncSchedule(models.Model):
    """When a company's figures are synced: a nightly time, an intraday refresh, alert state.

    `next_nightly_at` / `next_refresh_at` are the due times the beat dispatcher compares with now;
    staff edit `nightly_at` and the refresh settings in admin and the due times follow.
    """

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="sync_schedule", verbose_name=_("company")
    )
    is_enabled = models.BooleanField(_("scheduled sync on"), default=True)
    nightly_at = models.TimeField(_("nightly sync at (Oslo time)"))
    refresh_every_minutes = models.PositiveIntegerField(
        _("refresh current month every (minutes, 0 = never)"), default=60
    )
    refresh_from_hour = models.PositiveSmallIntegerField(_("refresh from hour"), default=7)
    refresh_to_hour = models.PositiveSmallIntegerField(_("refresh until hour"), default=18)
    next_nightly_at = models.DateTimeField(_("next nightly sync"), null=True, blank=True)
    next_refresh_at = models.DateTimeField(_("next refresh"), null=True, blank=True)
    recheck_due = models.BooleanField(
        _("re-check closed months at the next nightly sync"), default=False
    )
    last_recheck_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("last re-check at")
    )
    # The problem the company's admins were last e-mailed about; cleared when a sync succeeds.
    alerted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("alerted at"))
    alert_reason = models.TextField(blank=True, verbose_name=_("alert reason"))

    objects = CompanyScopedManager()

    class Meta:
        verbose_name = _("sync schedule")
        verbose_name_plural = _("sync schedules")

    def __str__(self) -> str:
        return f"{self.company_id} {self.nightly_at:%H:%M}"

"""Transaction → voucher: the posting lines, the preview users check, and the Tripletex payload.

Posting lines are signed like Tripletex: debit positive, credit negative, gross amounts in NOK
(the company currency), rows from 1. Securities transactions carry no VAT. Every voucher sums to
exactly 0.00 in Decimal; a builder that could not balance raises instead of sending.

Foreign currency: the amounts are NOK as everywhere; a line on an account Tripletex keeps in a foreign
currency (a broker's USD cash account, say) also carries that currency and its amount in it, the
only postings such an account takes (`_posting`, `payment_in_currency`; README "Foreign currency").

Accounts are configured by number (GLAccountSettings) and sent by Tripletex's id, which differs per
company: the chart is read from the synced LedgerAccount rows when they are fresh, else fetched once
(GET /ledger/account) and cached for CHART_CACHE_SECONDS.

Each posting role has a researched default (GL_DEFAULTS; the choice and its sources are in the
README, "Default accounts"). A firm's own chart may lack it, so every role not yet confirmed by a
person is proposed from that chart: the default if it exists and is active, else the nearest active
account in the same group (same first three digits, then two) whose name says it does that job,
else the role is flagged. A transaction type whose roles lack a valid account is held back.

Gains, losses and dividends of an instrument outside the exemption method (fritaksmetoden; the
rule is ledger/holdings/exemption.py) go to the outside roles, a fund's partly exempt result is
split between the two by its equity share. An outside role is proposed like the others, but it
must be an account that says it is outside the method; a chart without one gets the inside
account proposed instead (state FALLBACK, shown on the settings page), so booking keeps working
and the settings page says why the split cannot be seen in the ledger.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.credentials import ConnectionUnavailable, tripletex_client_for
from companies.models import Company
from ledger.models import GLAccountSettings, LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from tripletex.client import TripletexClient
from tripletex.errors import TripletexError
from tripletex.schemas import PostingPayload, VoucherPayload

CHART_CACHE_SECONDS = 15 * 60
# A worker books many vouchers a second: keep reference data in process memory briefly too, so a
# booking costs no cache round trip (a Tripletex rejection drops both copies in this process).
#
# `_local` is only a process-local copy of what the shared cache holds: {key: (expires at on the
# monotonic clock, value)}, one entry per company and kind of reference data, each replaced when it
# is read again after it expired. Nothing relies on it for correctness: another worker process
# keeps its copy for at most LOCAL_CACHE_SECONDS after a rejection dropped ours, and what it may
# hold stale (an account's id or state, a period's closing) Tripletex checks again on every POST,
# so a stale copy can only make a booking be rejected and booked again, never post it wrongly.
# The chart is also refetched whenever it lacks an account a voucher names. A new cache
# configuration (the tests' private caches) starts without any copy (_forget_local_copies).
LOCAL_CACHE_SECONDS = 60
_local: dict[str, tuple[float, Any]] = {}
LEDGER_ACCOUNTS_FRESH = timedelta(hours=24)
ZERO = Decimal("0.00")
ONE = Decimal("1")
CENT = Decimal("0.01")
# The company currency: what every amount of ours is in, and what Tripletex posts in by default.
NOK = "NOK"

# Names of the default accounts (README, "Default accounts"), for previews before the chart is read.
DEFAULT_ACCOUNT_NAMES = {
    1810: "Markedsbaserte aksjer og verdipapirfondsandeler",
    1889: "Andre finansielle instrumenter",
    1920: "Bankinnskudd",
    2220: "Langsiktig lån fra kredittinstitusjon",
    8050: "Renteinntekt bankinnskudd",
    8071: "Aksjeutbytte fra norske selskaper",
    8077: "Gevinst ved realisasjon av andre aksjer/andeler, innenfor fritaksmetoden",
    8078: "Gevinst ved realisasjon av aksjer/andeler, utenfor fritaksmetoden",
    8177: "Tap ved realisasjon av aksjer/andeler, innenfor fritaksmetoden",
    8178: "Tap ved realisasjon av aksjer/andeler, utenfor fritaksmetoden",
    8179: "Annen finanskostnad",
    8300: "Betalbar skatt",
}


class VoucherBuildError(ValueError):
    """The transaction cannot become a valid voucher; the message is for the user."""


@dataclass(frozen=True)
class ChartAccount:
    """What booking needs to know about one account of the company's Tripletex chart."""

    id: int
    number: int
    name: str
    is_inactive: bool = False
    vat_locked: bool = False
    vat_type_id: int | None = None
    requires_department: bool = False
    requires_project: bool = False
    # The currency Tripletex keeps the account in (its code and id); '' when it is NOK or unknown.
    currency: str = ""
    currency_id: int | None = None

    @property
    def is_foreign(self) -> bool:
        """True when the account is kept in a currency other than NOK (postings must be in it)."""
        return self.currency not in ("", NOK)


@dataclass
class VoucherLine:
    """One posting line as the user sees it and as it is sent (by account number here)."""

    row: int
    account_number: int
    amount: Decimal
    description: str = ""
    vat_code: str = ""
    department_number: str = ""
    project_number: str = ""
    account_name: str = ""
    # A line on an account kept in a foreign currency: that currency and the signed amount in it.
    currency: str = ""
    amount_currency: Decimal | None = None

    @property
    def debit(self) -> Decimal | None:
        return self.amount if self.amount > 0 else None

    @property
    def credit(self) -> Decimal | None:
        return -self.amount if self.amount < 0 else None

    @property
    def in_currency(self) -> Decimal | None:
        """The amount in the line's currency without its sign (the preview's debit or credit)."""
        return abs(self.amount_currency) if self.amount_currency is not None else None


@dataclass
class VoucherPreview:
    """What a transaction will become: date, description, lines, and whether it balances."""

    date: date
    description: str
    external_voucher_number: str
    lines: list[VoucherLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Why there is no voucher and none is needed (a currency exchange within one cash account).
    note: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def debit_total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), ZERO)

    @property
    def credit_total(self) -> Decimal:
        return -sum((line.amount for line in self.lines if line.amount < 0), ZERO)

    @property
    def is_balanced(self) -> bool:
        return bool(self.lines) and self.total == 0


# ---- GL account settings -------------------------------------------------------------------


RoleState = GLAccountSettings.RoleState


@dataclass(frozen=True)
class AccountFit:
    """How a role recognises a sensible stand-in for its default: words its name must contain (any
    one) and words it must not (an agio account is no gain on shares, a tax-deduction bank account
    no bank for trades)."""

    words: tuple[str, ...]
    not_words: tuple[str, ...] = ()
    # Words the name must contain as well (all of them): an outside role's "utenfor".
    all_words: tuple[str, ...] = ()

    def fits(self, name: str) -> bool:
        name = name.lower()
        return (
            any(w in name for w in self.words)
            and not any(w in name for w in self.not_words)
            and all(w in name for w in self.all_words)
        )


SHARES = AccountFit(("aksje", "andel", "verdipapir"), ("konsern", "obligasjon", "opsjon"))
ROLE_FIT: dict[str, AccountFit] = {
    "bank": AccountFit(("bank",), ("skattetrekk",)),
    "securities": SHARES,
    "repayment": SHARES,
    "profit": AccountFit(("gevinst",), ("valuta", "agio", "konsern", "datter", "utenfor")),
    "loss": AccountFit(("tap",), ("valuta", "agio", "fordring", "konsern", "datter", "utenfor")),
    "dividend": AccountFit(("utbytte",), ("avsatt", "konsern", "datter", "utenfor")),
    "interest": AccountFit(("renteinntekt",), ("konsern", "skatt")),
    "instrument_loan": AccountFit(("lån", "gjeld", "kreditt"), ("konsern", "ansatte", "eiere")),
    "withholding_tax": AccountFit(("skatt",), ("utsatt",)),
    "fund_switch": AccountFit(("finansielle instrumenter",), ("opsjon",)),
    "fees": AccountFit(("finanskostnad", "gebyr"), ("konsern",)),
    "profit_outside": AccountFit(
        ("gevinst",), ("valuta", "agio", "konsern", "datter"), ("utenfor",)
    ),
    "loss_outside": AccountFit(
        ("tap",), ("valuta", "agio", "fordring", "konsern", "datter"), ("utenfor",)
    ),
    "dividend_outside": AccountFit(("utbytte",), ("avsatt", "konsern", "datter"), ("utenfor",)),
}
# Each outside-the-method role and the inside role it stands beside (and falls back to).
OUTSIDE_OF: dict[str, str] = {
    "profit_outside": "profit",
    "loss_outside": "loss",
    "dividend_outside": "dividend",
}

# The roles each type of transaction posts to (build_lines); "bank" is the instrument loan instead
# when the transaction is paid through the loan. Journal entries name their own accounts.
KIND_ROLES: dict[str, tuple[str, ...]] = {
    Transaction.Kind.PURCHASE: ("securities", "bank"),
    Transaction.Kind.SALE: (
        "bank",
        "securities",
        "profit",
        "loss",
        "profit_outside",
        "loss_outside",
    ),
    Transaction.Kind.DIVIDEND: ("bank", "dividend", "fees", "dividend_outside"),
    Transaction.Kind.INTEREST: ("bank", "interest", "fees"),
    Transaction.Kind.REPAYMENT: ("bank", "repayment", "fees"),
    Transaction.Kind.FEE: ("fees", "bank"),
    Transaction.Kind.WITHHOLDING_TAX: ("withholding_tax", "bank"),
    Transaction.Kind.FUND_SWITCH: (
        "fund_switch",
        "securities",
        "profit",
        "loss",
        "bank",
        "profit_outside",
        "loss_outside",
    ),
    # Between the firm's bank and a broker account's own cash account (BrokerAccount).
    Transaction.Kind.CASH_DEPOSIT: ("bank",),
    Transaction.Kind.CASH_WITHDRAWAL: ("bank",),
    # Between two cash accounts of one portfolio; a fee the broker charged to the fees account.
    Transaction.Kind.CURRENCY_EXCHANGE: ("fees",),
}


def roles_for(kind: str, settle_via: str = Transaction.SettleVia.BANK) -> tuple[str, ...]:
    """The GL roles a transaction of this type (paid this way) posts to; () for a journal entry."""
    roles = KIND_ROLES.get(kind, ())
    if settle_via == Transaction.SettleVia.LOAN:
        return tuple("instrument_loan" if role == "bank" else role for role in roles)
    return roles


@dataclass(frozen=True)
class RoleProposal:
    """The account proposed for one role from a chart, and how it was found (a RoleState)."""

    role: str
    number: int
    state: str
    name: str = ""


def gl_account_propose(*, role: str, chart: dict[int, ChartAccount]) -> RoleProposal:
    """The default account if the chart has it active, else the nearest active account of the same
    three-digit group, then two-digit group, that fits the role; else the default, flagged.
    An outside-the-method role takes only an account that says so, else its inside role's
    proposal (FALLBACK; flagged when that one is)."""
    default = GL_DEFAULTS[role]
    fit = ROLE_FIT[role]
    exact = chart.get(default)
    if (
        exact is not None
        and not exact.is_inactive
        and (role not in OUTSIDE_OF or fit.fits(exact.name))
    ):
        return RoleProposal(role, default, RoleState.DEFAULT, exact.name)
    usable = [a for a in chart.values() if not a.is_inactive and fit.fits(a.name)]
    for digits in (3, 2):
        prefix = str(default)[:digits]
        group = [a for a in usable if str(a.number).startswith(prefix)]
        if group:
            # Four-digit accounts before sub-accounts, then the closest number, then the lower.
            best = min(
                group,
                key=lambda a: (len(str(a.number)) != 4, abs(a.number - default), a.number),
            )
            return RoleProposal(role, best.number, RoleState.NEAREST, best.name)
    if role in OUTSIDE_OF:
        inside = gl_account_propose(role=OUTSIDE_OF[role], chart=chart)
        if inside.state != RoleState.FLAGGED:
            return RoleProposal(role, inside.number, RoleState.FALLBACK, inside.name)
        return RoleProposal(role, inside.number, RoleState.FLAGGED)
    return RoleProposal(role, default, RoleState.FLAGGED)


def gl_settings_propose(
    *, company: Company, gl: GLAccountSettings, chart: dict[int, ChartAccount]
) -> list[RoleProposal]:
    """Propose every role not confirmed by a person from `chart` (saved); returns the proposals."""
    if not chart:
        return []
    proposals = [
        gl_account_propose(role=role, chart=chart)
        for role in GLAccountSettings.ROLES
        if gl.role_state(role) != RoleState.CONFIRMED
    ]
    before = ({role: getattr(gl, role) for role in GLAccountSettings.ROLES}, dict(gl.role_states))
    for proposal in proposals:
        setattr(gl, proposal.role, proposal.number)
        gl.role_states[proposal.role] = str(proposal.state)
    after = ({role: getattr(gl, role) for role in GLAccountSettings.ROLES}, gl.role_states)
    if after != before:
        gl.save(update_fields=[*GLAccountSettings.ROLES, "role_states", "updated_at"])
    return proposals


def gl_settings_confirm(*, company: Company, gl: GLAccountSettings) -> GLAccountSettings:
    """Save settings a person checked on the settings page: every role is confirmed from now on."""
    gl.role_states = dict.fromkeys(GLAccountSettings.ROLES, str(RoleState.CONFIRMED))
    gl.save()
    return gl


def gl_settings_propose_from_tripletex(*, company: Company) -> str:
    """Read the firm's chart from Tripletex and propose every unconfirmed role from it (onboarding);
    returns "proposed", "flagged" (some role has no fitting account) or "chart-unavailable"."""
    try:
        chart = chart_fetch(company=company, client=tripletex_client_for(company))
    except (ConnectionUnavailable, TripletexError):
        # The settings page proposes again whenever it knows the chart; nothing is lost.
        return "chart-unavailable"
    gl = gl_settings_get(company=company)
    proposals = gl_settings_propose(company=company, gl=gl, chart=chart)
    flagged = any(p.state == RoleState.FLAGGED for p in proposals)
    return "flagged" if flagged else "proposed"


def gl_settings_get(*, company: Company) -> GLAccountSettings:
    """The company's GL account settings; created on first use with the defaults, proposed from
    the firm's chart when we already know it."""
    settings_row, created = GLAccountSettings.objects.get_or_create(company=company)
    if created:
        gl_settings_propose(company=company, gl=settings_row, chart=chart_known(company=company))
    return settings_row


def gl_account_problem(*, number: int, chart: dict[int, ChartAccount]) -> str:
    """Why `number` cannot be posted to ('' when it exists in the chart and is active)."""
    account = chart.get(number)
    if account is None:
        return _("Account %(number)s does not exist in Tripletex.") % {"number": number}
    if account.is_inactive:
        return _("Account %(number)s is inactive in Tripletex.") % {"number": number}
    return ""


def gl_settings_check(
    *, company: Company, gl: GLAccountSettings, chart: dict[int, ChartAccount]
) -> dict[str, str]:
    """Problems per role ('' when fine): the account must exist in the chart and be active; with no
    chart known, only a role the last proposal flagged is a problem."""
    problems: dict[str, str] = {}
    for role in GLAccountSettings.ROLES:
        number = getattr(gl, role)
        if role in OUTSIDE_OF and number == getattr(gl, OUTSIDE_OF[role]):
            problems[role] = ""  # the inside role's account, whose row reports its problem
        elif chart:
            problems[role] = gl_account_problem(number=number, chart=chart)
        elif gl.role_state(role) == RoleState.FLAGGED:
            problems[role] = _(
                "Account %(number)s is not in the firm's chart and no account of the same group "
                "fits; choose one."
            ) % {"number": number}
        else:
            problems[role] = ""
    return problems


def role_label(role: str) -> str:
    """A role's name for people: its settings field's label, in the active language."""
    return str(getattr(GLAccountSettings._meta.get_field(role), "verbose_name", role))


@dataclass(frozen=True)
class RoleWarning:
    """A role without a valid account, and the types of transaction held back because of it."""

    role: str
    label: str
    number: int
    problem: str
    kinds: tuple[str, ...]


def gl_settings_warnings(*, company: Company) -> list[RoleWarning]:
    """Every role that a transaction type uses and that has no valid account, with those types."""
    gl = gl_settings_get(company=company)
    problems = gl_settings_check(company=company, gl=gl, chart=chart_known(company=company))
    labels = dict(Transaction.Kind.choices)
    warnings = []
    for role in GLAccountSettings.ROLES:
        if not problems[role]:
            continue
        kinds: tuple[str, ...]
        if role == "instrument_loan":
            kinds = (str(_("anything paid through the instrument loan")),)
        else:
            kinds = tuple(str(labels[k]) for k, roles in KIND_ROLES.items() if role in roles)
        warnings.append(
            RoleWarning(role, role_label(role), getattr(gl, role), problems[role], kinds)
        )
    return warnings


def gl_booking_problems(
    *, company: Company, txn: Transaction, gl: GLAccountSettings | None = None
) -> list[str]:
    """Why a transaction of this type cannot be booked yet because of its GL accounts ([] when
    every role it posts to has a valid account, or while we know no chart to tell). `gl`: the
    company's settings when the caller has them already."""
    roles = roles_for(txn.kind, txn.settle_via)
    if not roles:
        return []
    gl = gl or gl_settings_get(company=company)
    problems = gl_settings_check(company=company, gl=gl, chart=chart_known(company=company))
    held = []
    for role in roles:
        if problems[role]:
            label = role_label(role)
            held.append(
                _(
                    "Held back: the account for «%(role)s» is not valid (%(problem)s) Choose one "
                    "under Transactions → Account settings, then book again."
                )
                % {"role": label, "problem": problems[role]}
            )
    return held


# ---- the chart of accounts and other reference data ------------------------------------------


def _chart_key(company: Company) -> str:
    # v2: the cached chart pickles ChartAccount, whose module moved from ledger.vouchers to
    # ledger.transactions.vouchers; an entry written before the move would not unpickle.
    # v3: ChartAccount knows each account's currency; an older entry would post without it.
    return f"ledger:booking:chart:v3:{company.pk}"


def chart_known(*, company: Company) -> dict[int, ChartAccount]:
    """The chart we already have (cache, else fresh synced rows); never calls Tripletex."""
    cached = cache.get(_chart_key(company))
    if cached is not None:
        return cached
    fresh_after = timezone.now() - LEDGER_ACCOUNTS_FRESH
    rows = LedgerAccount.objects.filter(company=company, synced_at__gte=fresh_after)
    return {row.number: chart_account_of(row) for row in rows}


def chart_account_of(row: LedgerAccount) -> ChartAccount:
    """What booking knows of an account from its synced row (the currency included)."""
    return ChartAccount(
        id=row.tripletex_id,
        number=row.number,
        name=row.name,
        is_inactive=not row.is_active,
        currency=_foreign(row.currency),
        currency_id=row.currency_tripletex_id,
    )


def _foreign(code: str) -> str:
    """The currency code as ChartAccount keeps it: '' for NOK (the company currency)."""
    return "" if code.upper() in ("", NOK) else code.upper()


def chart_fetch(*, company: Company, client: TripletexClient) -> dict[int, ChartAccount]:
    """The company's chart from Tripletex (one GET /ledger/account), cached for a while."""
    chart = {
        a.number: ChartAccount(
            id=a.id,
            number=a.number,
            name=a.name,
            is_inactive=a.is_inactive,
            vat_locked=a.vat_locked,
            vat_type_id=a.vat_type_id,
            requires_department=a.requires_department,
            requires_project=a.requires_project,
            currency=_foreign(a.currency_code),
            currency_id=a.currency_id,
        )
        for a in client.accounts()
    }
    cache.set(_chart_key(company), chart, CHART_CACHE_SECONDS)
    return chart


def chart_for_booking(
    *, company: Company, client: TripletexClient, numbers: set[int]
) -> dict[int, ChartAccount]:
    """A chart that knows every number in `numbers` if Tripletex does: refetched when one is missing."""
    key = _chart_key(company)
    chart = _local_get(key)
    if chart is None:
        chart = cache.get(key)
    if chart is None or not numbers <= chart.keys():
        chart = chart_fetch(company=company, client=client)
    _local_set(key, chart)
    return chart


def _local_get(key: str) -> Any:
    hit = _local.get(key)
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]


def _local_set(key: str, value: Any) -> None:
    _local[key] = (time.monotonic() + LOCAL_CACHE_SECONDS, value)


@receiver(setting_changed)
def _forget_local_copies(*, setting: str, **kwargs: Any) -> None:
    """Copies of another cache configuration's entries are not this one's (Django's own test
    signals reset the cache handlers on the same signal)."""
    if setting == "CACHES":
        _local.clear()


def _cached(key: str, load: Any) -> Any:
    value = _local_get(key)
    if value is None:
        value = cache.get(key)
    if value is None:
        value = load()
        cache.set(key, value, CHART_CACHE_SECONDS)
    _local_set(key, value)
    return value


def period_is_closed(*, company: Company, client: TripletexClient, day: date) -> bool:
    """True when Tripletex's accounting period holding `day` is closed (periods cached per year)."""
    key = f"ledger:booking:periods:{company.pk}:{day.year}"
    periods = _cached(
        key,
        lambda: [
            (p.start, p.end, p.is_closed)
            for p in client.accounting_periods(
                start_from=date(day.year, 1, 1), start_to=date(day.year + 1, 1, 1)
            )
        ],
    )
    return any(start <= day < end and closed for start, end, closed in periods)


def forget_reference_data(*, company: Company) -> None:
    """Drop cached chart and periods (after Tripletex said they changed)."""
    year = timezone.localdate().year
    keys = [_chart_key(company)]
    keys += [f"ledger:booking:periods:{company.pk}:{y}" for y in (year - 1, year, year + 1)]
    cache.delete_many(keys)
    for key in keys:
        _local.pop(key, None)


# ---- lines -----------------------------------------------------------------------------------


def _lines_from(pairs: list[tuple[int, Decimal, str]]) -> list[VoucherLine]:
    """Rows 1..n from (account, signed amount, text), leaving out zero lines."""
    lines = [VoucherLine(0, number, amount, text) for number, amount, text in pairs if amount]
    for i, line in enumerate(lines, start=1):
        line.row = i
    return lines


def _quantity_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f").replace(".", ",")


def voucher_description(txn: Transaction) -> str:
    """The voucher text Tripletex shows: the user's description, else type + instrument."""
    if txn.description:
        return txn.description[:200]
    parts = [str(txn.get_kind_display()), txn.instrument_name]
    if txn.kind in (Transaction.Kind.CASH_DEPOSIT, Transaction.Kind.CASH_WITHDRAWAL):
        broker = txn.broker_account if txn.broker_account_id is not None else None
        parts.append(broker.label if broker is not None else "")
    if txn.kind == Transaction.Kind.CURRENCY_EXCHANGE and txn.to_currency:
        parts.append(f"{txn.currency} → {txn.to_currency}")
    if txn.quantity:
        parts.append(_quantity_text(txn.quantity))
    if txn.kind == Transaction.Kind.FUND_SWITCH and txn.to_instrument_name:
        parts.append("→ " + txn.to_instrument_name)
    return " ".join(p for p in parts if p)[:200]


def _money(value: Decimal | None) -> Decimal:
    amount = Decimal(value or 0)
    # Wide enough for any stored number (a 30-digit amount kept from before the checks at entry
    # is shown in the preview, marked as needing correction; the default 28 digits would raise).
    context = Context(prec=max(28, amount.adjusted() + 4))
    exact = amount.quantize(Decimal("0.01"), context=context)
    if amount != exact:
        raise VoucherBuildError(_("Amounts can have at most two decimals (øre)."))
    return exact


def build_lines(
    *,
    txn: Transaction,
    gl: GLAccountSettings,
    cost: Decimal | None = None,
    inside_share: Decimal = ONE,
) -> list[VoucherLine]:
    """The posting lines of a transaction; `cost` is the FIFO cost for sales and switches,
    `inside_share` (0..1) the part of a gain, loss or dividend inside the exemption method
    (`ledger.holdings.exemption.inside_share_for`; the rest goes to the outside roles). The line
    on a broker account kept in a foreign currency carries its amount in that currency too."""
    if txn.kind == Transaction.Kind.JOURNAL:
        return _journal_lines(txn)
    lines = _kind_lines(txn=txn, gl=gl, cost=cost, inside_share=inside_share)
    payment_in_currency(txn=txn, lines=lines)
    return lines


def _kind_lines(
    *, txn: Transaction, gl: GLAccountSettings, cost: Decimal | None, inside_share: Decimal
) -> list[VoucherLine]:
    """The NOK lines of a securities or cash transaction (build_lines)."""
    amount, fees = _money(txn.amount), _money(txn.fees)
    if amount <= 0:
        raise VoucherBuildError(_("The amount must be above zero."))
    if fees < 0:
        raise VoucherBuildError(_("Fees cannot be negative."))
    pay = payment_account(txn=txn, gl=gl)
    name = txn.instrument_name or txn.isin
    kind = Transaction.Kind
    if txn.kind in (kind.CASH_DEPOSIT, kind.CASH_WITHDRAWAL):
        return _cash_transfer_lines(txn, gl, amount)
    if txn.kind == kind.CURRENCY_EXCHANGE:
        return _exchange_lines(txn, gl, amount, fees)
    if txn.kind == kind.PURCHASE:
        return _lines_from(
            [
                (gl.securities, amount, name),
                (gl.securities, fees, _("Fees") + " " + name),
                (pay, -(amount + fees), name),
            ]
        )
    if txn.kind in (kind.SALE, kind.FUND_SWITCH):
        if cost is None:
            raise VoucherBuildError(_("The cost of what is sold is unknown."))
        return _disposal_lines(txn, gl, amount, fees, _money(cost), pay, inside_share)
    income: dict[str, int] = {
        kind.DIVIDEND: gl.dividend,
        kind.INTEREST: gl.interest,
        kind.REPAYMENT: gl.repayment,
    }
    if txn.kind in income:
        tax = _money(txn.tax_withheld) if txn.kind == kind.DIVIDEND else ZERO
        if tax < 0 or tax > amount:
            raise VoucherBuildError(_("The tax withheld cannot exceed the dividend."))
        return _lines_from(
            [
                (pay, amount - fees - tax, name),
                (gl.withholding_tax, tax, _("Withholding tax") + " " + name),
                (gl.fees, fees, _("Fees") + " " + name),
                *_income_lines(txn, gl, income[txn.kind], amount, name, inside_share),
            ]
        )
    expense: dict[str, int] = {kind.FEE: gl.fees, kind.WITHHOLDING_TAX: gl.withholding_tax}
    if txn.kind in expense:
        return _lines_from([(expense[txn.kind], amount, name), (pay, -amount, name)])
    raise VoucherBuildError(_("Unknown transaction type."))


# How the money line of each type is made of the transaction's amount, fees and tax withheld
# (signed factors, as _kind_lines builds it): a purchase pays amount + fees, a dividend brings
# amount - fees - tax, a fund switch pays its fees only.
_PAYMENT_PARTS: dict[str, tuple[int, int, int]] = {
    Transaction.Kind.PURCHASE: (-1, -1, 0),
    Transaction.Kind.SALE: (1, -1, 0),
    Transaction.Kind.DIVIDEND: (1, -1, -1),
    Transaction.Kind.INTEREST: (1, -1, 0),
    Transaction.Kind.REPAYMENT: (1, -1, 0),
    Transaction.Kind.FEE: (-1, 0, 0),
    Transaction.Kind.WITHHOLDING_TAX: (-1, 0, 0),
    Transaction.Kind.FUND_SWITCH: (0, -1, 0),
    Transaction.Kind.CASH_DEPOSIT: (1, 0, 0),
    Transaction.Kind.CASH_WITHDRAWAL: (-1, 0, 0),
}


def payment_in_currency(*, txn: Transaction, lines: list[VoucherLine]) -> None:
    """Give the line on the broker account's cash account its currency amount when the broker
    account is kept in a foreign currency (BrokerAccount.currency); raises VoucherBuildError when
    the transaction is in another currency or lacks its amount in it.

    The transaction keeps its amount in the trade currency (`amount_currency`, from the broker's
    file: Antall × Kurs, or the cash it moved) and the broker's rate (`fx_rate`, NOK per unit);
    fees and tax withheld are kept in NOK, so their currency figures are taken back at that rate
    (to the cent, half up; exact when the broker converted them at it, as Nordnet does with its
    Vekslingskurs). The money line in currency is then made of the same parts as in NOK
    (_PAYMENT_PARTS): a USD purchase of 150.00 + 1.50 fees pays USD 151.50."""
    if txn.kind == Transaction.Kind.CURRENCY_EXCHANGE:
        _exchange_in_currency(txn=txn, lines=lines)
        return
    broker = txn.broker_account if txn.broker_account_id is not None else None
    if broker is None or txn.settle_via == Transaction.SettleVia.LOAN:
        return
    if broker.currency in ("", NOK):
        return
    if txn.currency != broker.currency:
        raise VoucherBuildError(
            _(
                "%(account)s is kept in %(kept)s, but this transaction is in %(currency)s: "
                "Tripletex takes only %(kept)s on its cash account. Correct the currency, or "
                "choose the broker account kept in %(currency)s."
            )
            % {"account": broker.label, "kept": broker.currency, "currency": txn.currency}
        )
    amount, fees = _money(txn.amount), _money(txn.fees)
    tax = _money(txn.tax_withheld) if txn.kind == Transaction.Kind.DIVIDEND else ZERO
    in_currency = _money(txn.amount_currency) if txn.amount_currency is not None else ZERO
    if in_currency <= 0:
        raise VoucherBuildError(
            _("The amount in %(currency)s is needed: %(account)s is kept in %(currency)s.")
            % {"currency": broker.currency, "account": broker.label}
        )
    rate = txn.fx_rate or amount / in_currency
    a, f, t = _PAYMENT_PARTS[txn.kind]
    nok = a * amount + f * fees + t * tax
    figure = a * in_currency + f * _at_rate(fees, rate) + t * _at_rate(tax, rate)
    for line in lines:
        if line.account_number == broker.cash_account and line.amount == nok:
            line.currency, line.amount_currency = broker.currency, figure


def _exchange_accounts(txn: Transaction) -> tuple[Any, Any]:
    """A currency exchange's (sold, bought) broker accounts; VoucherBuildError without both."""
    sold = txn.broker_account if txn.broker_account_id is not None else None
    bought = txn.to_broker_account if txn.to_broker_account_id is not None else None
    if sold is None or bought is None:
        raise VoucherBuildError(
            _("A currency exchange needs the broker accounts of both currencies.")
        )
    return sold, bought


def exchange_is_nothing(txn: Transaction) -> bool:
    """True for a currency exchange whose two currencies are kept on one GL cash account: in NOK
    it moves nothing, so it is imported without a voucher (ledger/imports/service.py; a fee
    charged on it is imported as that fee instead)."""
    if txn.kind != Transaction.Kind.CURRENCY_EXCHANGE:
        return False
    sold = txn.broker_account if txn.broker_account_id is not None else None
    bought = txn.to_broker_account if txn.to_broker_account_id is not None else None
    return sold is not None and bought is not None and sold.cash_account == bought.cash_account


def _exchange_lines(
    txn: Transaction, gl: GLAccountSettings, amount: Decimal, fees: Decimal
) -> list[VoucherLine]:
    """A currency exchange between two cash accounts of one portfolio: Dr the bought
    currency's cash account with the NOK value received (`amount`), Dr the fees account with a
    fee the broker charged (`fees`), Cr the sold currency's cash account with both (the NOK that
    left it). Their currency amounts are added by _exchange_in_currency."""
    sold, bought = _exchange_accounts(txn)
    if sold.cash_account == bought.cash_account:
        raise VoucherBuildError(
            _(
                "Both currencies of this exchange are kept on GL account %(number)s: there is "
                "nothing to move between accounts."
            )
            % {"number": sold.cash_account}
        )
    text = txn.description or _("Currency exchange %(sold)s → %(bought)s") % {
        "sold": txn.currency,
        "bought": txn.to_currency,
    }
    return _lines_from(
        [
            (bought.cash_account, amount, text),
            (gl.fees, fees, _("Fees") + " " + text),
            (sold.cash_account, -(amount + fees), text),
        ]
    )


def _exchange_in_currency(*, txn: Transaction, lines: list[VoucherLine]) -> None:
    """The currency amounts of an exchange's two cash lines: each broker account kept in a
    foreign currency gets the file's amount in it (the bought one positive, the sold one
    negative); NOK accounts stay NOK. Raises VoucherBuildError when an account's currency is not
    the exchange's side it stands for, or its amount in currency is missing."""
    sold, bought = _exchange_accounts(txn)
    if sold.cash_account == bought.cash_account:
        return  # within one cash account: nothing in currency to post (exchange_is_nothing)
    sides = (
        (bought, txn.to_currency, txn.to_amount_currency, 1),
        (sold, txn.currency, txn.amount_currency, -1),
    )
    for broker, currency, in_currency, sign in sides:
        kept = (broker.currency or NOK).upper()
        if (currency or NOK).upper() != kept:
            raise VoucherBuildError(
                _(
                    "%(account)s is kept in %(kept)s, but this side of the exchange is in "
                    "%(currency)s: choose the broker account kept in %(currency)s."
                )
                % {"account": broker.label, "kept": kept, "currency": currency or NOK}
            )
        if kept == NOK:
            continue
        figure = _money(in_currency) if in_currency is not None else ZERO
        if figure <= 0:
            raise VoucherBuildError(
                _("The amount in %(currency)s is needed: %(account)s is kept in %(currency)s.")
                % {"currency": kept, "account": broker.label}
            )
        for line in lines:
            if line.account_number == broker.cash_account and (line.amount > 0) == (sign > 0):
                line.currency, line.amount_currency = kept, sign * figure


def _at_rate(nok: Decimal, rate: Decimal) -> Decimal:
    """A NOK amount in the currency at `rate` (NOK per unit), to the cent, half up."""
    return (nok / rate).quantize(CENT, rounding=ROUND_HALF_UP) if nok else ZERO


def payment_account(*, txn: Transaction, gl: GLAccountSettings) -> int:
    """The account money of the transaction moves through: the instrument loan when paid through
    it, else the broker account's cash account when the transaction belongs to one, else the bank."""
    if txn.settle_via == Transaction.SettleVia.LOAN:
        return gl.instrument_loan
    broker = txn.broker_account if txn.broker_account_id is not None else None
    return broker.cash_account if broker is not None else gl.bank


def _cash_transfer_lines(
    txn: Transaction, gl: GLAccountSettings, amount: Decimal
) -> list[VoucherLine]:
    """A deposit: the broker account's cash up, the bank down; a withdrawal the other way."""
    broker = txn.broker_account if txn.broker_account_id is not None else None
    if broker is None:
        raise VoucherBuildError(_("A deposit or withdrawal needs a broker account."))
    text = txn.description or broker.label
    sign = 1 if txn.kind == Transaction.Kind.CASH_DEPOSIT else -1
    return _lines_from(
        [(broker.cash_account, sign * amount, text), (gl.bank, -sign * amount, text)]
    )


def _disposal_lines(
    txn: Transaction,
    gl: GLAccountSettings,
    amount: Decimal,
    fees: Decimal,
    cost: Decimal,
    pay: int,
    inside_share: Decimal = ONE,
) -> list[VoucherLine]:
    """Sale: proceeds less fees against FIFO cost, the difference to gain or loss.
    Fund switch: the same disposal through the clearing account, and the new fund bought."""
    name = txn.instrument_name or txn.isin
    if txn.kind == Transaction.Kind.SALE:
        if fees > amount:
            raise VoucherBuildError(_("Fees cannot exceed the sale amount."))
        result = amount - fees - cost
        return _lines_from(
            [
                (pay, amount - fees, name),
                (gl.securities, -cost, _("Cost (FIFO)") + " " + name),
                *_result_lines(gl, result, name, inside_share),
            ]
        )
    result = amount - cost
    to_name = txn.to_instrument_name or txn.to_isin
    return _lines_from(
        [
            (gl.fund_switch, amount, name),
            (gl.securities, -cost, _("Cost (FIFO)") + " " + name),
            *_result_lines(gl, result, name, inside_share),
            (gl.securities, amount + fees, to_name),
            (gl.fund_switch, -amount, to_name),
            (pay, -fees, _("Fees") + " " + to_name),
        ]
    )


def _inside_part(amount: Decimal, inside_share: Decimal) -> Decimal:
    """The part of `amount` inside the exemption method, to the øre (half up)."""
    if inside_share >= ONE:
        return amount
    return (amount * inside_share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _result_lines(
    gl: GLAccountSettings, result: Decimal, name: str, inside_share: Decimal
) -> list[tuple[int, Decimal, str]]:
    """A disposal's gain or loss: the part inside the method to gain/loss, the rest to the
    outside accounts (one line when the firm's chart sends both to one account)."""
    inside_account, outside_account = (
        (gl.profit, gl.profit_outside) if result > 0 else (gl.loss, gl.loss_outside)
    )
    inside = _inside_part(result, inside_share)
    if inside_account == outside_account:
        return [(inside_account, -result, _("Gain/loss") + " " + name)]
    return [
        (inside_account, -inside, _("Gain/loss") + " " + name),
        (
            outside_account,
            -(result - inside),
            _("Gain/loss outside the exemption method") + " " + name,
        ),
    ]


def _income_lines(
    txn: Transaction,
    gl: GLAccountSettings,
    account: int,
    amount: Decimal,
    name: str,
    inside_share: Decimal,
) -> list[tuple[int, Decimal, str]]:
    """The income line: a dividend split between inside and outside the method like a gain."""
    if txn.kind != Transaction.Kind.DIVIDEND or gl.dividend_outside == account:
        return [(account, -amount, name)]
    inside = _inside_part(amount, inside_share)
    return [
        (account, -inside, name),
        (gl.dividend_outside, -(amount - inside), _("Outside the exemption method") + " " + name),
    ]


def _journal_lines(txn: Transaction) -> list[VoucherLine]:
    lines = []
    for i, line in enumerate(txn.lines.all(), start=1):
        amount = _money(line.debit) - _money(line.credit)
        lines.append(
            VoucherLine(
                row=i,
                account_number=line.account_number,
                amount=amount,
                description=line.description,
                vat_code=line.vat_code,
                department_number=line.department_number,
                project_number=line.project_number,
            )
        )
    if len(lines) < 2:
        raise VoucherBuildError(_("A journal entry needs at least two lines."))
    total = sum((line.amount for line in lines), ZERO)
    if total != 0:
        raise VoucherBuildError(
            _("The lines do not balance: debit and credit differ by %(diff)s.")
            % {"diff": format(abs(total), "f").replace(".", ",")}
        )
    return lines


def check_balanced(lines: list[VoucherLine]) -> None:
    """Raise VoucherBuildError unless there are two or more lines summing to exactly 0.00."""
    if len(lines) < 2:
        raise VoucherBuildError(_("A voucher needs at least two lines."))
    if sum((line.amount for line in lines), ZERO) != 0:
        raise VoucherBuildError(_("The voucher does not balance."))


# ---- preview and payload ---------------------------------------------------------------------


def transaction_cost(*, company: Company, txn: Transaction) -> Decimal | None:
    """The FIFO cost for a sale or switch (frozen once queued); None for other kinds."""
    from ledger.transactions.fifo import fifo_cost

    if txn.kind not in (Transaction.Kind.SALE, Transaction.Kind.FUND_SWITCH):
        return None
    if txn.cost_basis is not None:
        return txn.cost_basis
    return fifo_cost(company=company, txn=txn)


def voucher_preview(*, company: Company, txn: Transaction) -> VoucherPreview:
    """The voucher a transaction will become, with account names; problems listed, not raised."""
    from ledger.holdings.exemption import inside_share_for
    from ledger.transactions.fifo import FifoError

    preview = VoucherPreview(
        date=txn.trade_date,
        description=voucher_description(txn),
        external_voucher_number=txn.external_voucher_number,
    )
    gl = gl_settings_get(company=company)
    if exchange_is_nothing(txn):
        preview.note = _("Currency exchange within the account, nothing to book.")
        return preview
    try:
        cost = transaction_cost(company=company, txn=txn)
        share = inside_share_for(company=company, txn=txn)
        preview.lines = build_lines(txn=txn, gl=gl, cost=cost, inside_share=share)
    except (VoucherBuildError, FifoError) as exc:
        preview.problems.append(str(exc))
        return preview
    chart = chart_known(company=company)
    for line in preview.lines:
        account = chart.get(line.account_number)
        line.account_name = (
            account.name if account else DEFAULT_ACCOUNT_NAMES.get(line.account_number, "")
        )
        # With no chart known yet, nothing can be said about the accounts.
        if chart and (problem := gl_account_problem(number=line.account_number, chart=chart)):
            preview.problems.append(problem)
        if account is not None:
            preview.problems += currency_problems(line=line, account=account)
    return preview


@dataclass
class BookingReferences:
    """Tripletex ids for what journal lines name by number: VAT codes, departments, projects."""

    vat_types: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)
    projects: dict[str, int] = field(default_factory=dict)


def booking_references(
    *, company: Company, client: TripletexClient, lines: list[VoucherLine]
) -> BookingReferences:
    """Only what the lines use is fetched (and cached): securities vouchers need none of it."""
    refs = BookingReferences()
    if any(line.vat_code for line in lines):
        refs.vat_types = _cached(
            f"ledger:booking:vat:{company.pk}", lambda: {v.number: v.id for v in client.vat_types()}
        )
    if any(line.department_number for line in lines):
        refs.departments = _cached(
            f"ledger:booking:departments:{company.pk}",
            lambda: {d.number: d.id for d in client.departments()},
        )
    if any(line.project_number for line in lines):
        refs.projects = _cached(
            f"ledger:booking:projects:{company.pk}",
            lambda: {p.number: p.id for p in client.projects()},
        )
    return refs


def _posting(
    line: VoucherLine, chart: dict[int, ChartAccount], refs: BookingReferences
) -> tuple[PostingPayload | None, list[str]]:
    problems: list[str] = []
    account = chart.get(line.account_number)
    if account is None:
        msg = _(
            "Account %(number)s does not exist in the company's chart of accounts in Tripletex."
        )
        return None, [msg % {"number": line.account_number}]
    if account.is_inactive:
        problems.append(
            _("Account %(number)s is inactive in Tripletex.") % {"number": line.account_number}
        )
    vat_id = refs.vat_types.get(line.vat_code) if line.vat_code else None
    if line.vat_code and vat_id is None:
        problems.append(
            _("VAT code %(code)s does not exist in Tripletex.") % {"code": line.vat_code}
        )
    dept_id = refs.departments.get(line.department_number) if line.department_number else None
    if line.department_number and dept_id is None:
        problems.append(
            _("Department %(number)s does not exist in Tripletex.")
            % {"number": line.department_number}
        )
    project_id = refs.projects.get(line.project_number) if line.project_number else None
    if line.project_number and project_id is None:
        problems.append(
            _("Project %(number)s does not exist in Tripletex.") % {"number": line.project_number}
        )
    if account.requires_department and dept_id is None:
        problems.append(
            _("Account %(number)s requires a department.") % {"number": line.account_number}
        )
    if account.requires_project and project_id is None:
        problems.append(
            _("Account %(number)s requires a project.") % {"number": line.account_number}
        )
    problems += currency_problems(line=line, account=account)
    posting = PostingPayload(
        row=line.row,
        account_id=account.id,
        amount_gross=line.amount,
        description=line.description[:200],
        vat_type_id=vat_id,
        department_id=dept_id,
        project_id=project_id,
        # On an account kept in a foreign currency: that currency and the amount in it. On the
        # others nothing (Tripletex posts in the company currency, amountGrossCurrency =
        # amountGross, PostingPayload.to_api), as every voucher of ours did before currencies.
        currency_id=account.currency_id if account.is_foreign else None,
        amount_gross_currency=line.amount_currency if account.is_foreign else None,
    )
    return posting, problems


def currency_problems(*, line: VoucherLine, account: ChartAccount) -> list[str]:
    """Why the line cannot be posted to the account as far as currencies go ([] when it can).

    Tripletex: an account locked to a currency other than the company's takes postings in that
    currency only (changelog 28.06.2016, "Endringer i Tripletex"), and such a posting carries its
    amount in it (`amountGrossCurrency`; README §7.1). A line we mean in a foreign currency on an
    account Tripletex keeps in NOK is a broker account set up in the wrong currency: Tripletex
    would take it, but the broker's cash would then be kept in NOK in the ledger."""
    if account.is_foreign and (line.currency != account.currency or line.amount_currency is None):
        return [
            _(
                "Account %(number)s is kept in %(kept)s in Tripletex: only amounts in %(kept)s "
                "can be posted to it, and this line is in %(currency)s. Set the broker account's "
                "currency to %(kept)s on the Broker accounts page, or give it a NOK account."
            )
            % {
                "number": line.account_number,
                "kept": account.currency,
                "currency": line.currency or NOK,
            }
        ]
    if account.is_foreign and account.currency_id is None:
        return [
            _("Tripletex did not say which currency account %(number)s is kept in.")
            % {"number": line.account_number}
        ]
    if not account.is_foreign and line.currency not in ("", NOK):
        return [
            _(
                "Account %(number)s is kept in NOK in Tripletex, but the broker account says "
                "%(currency)s. Choose its %(currency)s account in Tripletex, or set the broker "
                "account's currency to NOK."
            )
            % {"number": line.account_number, "currency": line.currency}
        ]
    return []


def voucher_payload(
    *,
    txn: Transaction,
    lines: list[VoucherLine],
    chart: dict[int, ChartAccount],
    refs: BookingReferences,
) -> VoucherPayload:
    """The POST /ledger/voucher body. Raises VoucherBuildError with every problem found."""
    check_balanced(lines)
    postings, problems = [], []
    for line in lines:
        posting, line_problems = _posting(line, chart, refs)
        problems.extend(line_problems)
        if posting is not None:
            postings.append(posting)
    if problems:
        raise VoucherBuildError(" ".join(dict.fromkeys(problems)))
    return VoucherPayload(
        date=txn.trade_date,
        description=voucher_description(txn),
        external_voucher_number=txn.external_voucher_number,
        postings=tuple(postings),
    )

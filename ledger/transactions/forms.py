"""Forms for recording transactions, journal entries, GL account settings, import and reversal.

Amount fields accept the Norwegian decimal comma and spaces as thousands separators ("1 234,50").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ledger.accounts import ACCOUNT_NUMBERS
from ledger.models import GLAccountSettings, Transaction
from ledger.models.transactions import number_text
from ledger.templatetags.money import format_amount
from ledger.transactions.checks import NOTE_MAX_LENGTH
from ledger.transactions.csv_import import ValueProblem, parse_decimal
from ledger.transactions.dates import ConfirmFarDates, NorwegianDateField
from ledger.transactions.services import journal_line_problems, securities_problems
from ledger.transactions.vouchers import ChartAccount, gl_account_problem


class NorwegianDecimalField(forms.Field):
    """A decimal typed as 1 234,50 or 1234.50; cleaned to Decimal (None when empty).

    A plain Field with a text input rather than a CharField: it cleans to a Decimal, not a str, and
    uses none of CharField's options (max_length, strip, empty_value). A stored value is shown as
    the pages show it (ledger/templatetags/money.py): an amount (`decimals=2`) as 15 750,00, a
    quantity or price as 1 234,5; never rounded (an amount with more decimals shows them all, so
    the øre check can say what is wrong)."""

    def __init__(self, *args: Any, decimals: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.decimals = decimals
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("class", "num")

    def prepare_value(self, value: Any) -> Any:
        if not isinstance(value, Decimal) or not value.is_finite():
            return value
        fraction = format(value, "f").partition(".")[2].rstrip("0")
        if self.decimals is not None and len(fraction) <= self.decimals:
            return format_amount(value, self.decimals)
        return number_text(value)

    def to_python(self, value: Any) -> Decimal | None:
        try:
            return parse_decimal(str(value or ""))
        except ValueProblem as exc:
            raise forms.ValidationError(str(exc)) from None


# A currency exchange moves money between two broker accounts of one portfolio: it comes from a
# broker file (ledger/imports/nordnet.py), never from this form, which names at most one account.
SECURITIES_KINDS = [
    (k, label) for k, label in Transaction.Kind.choices if k not in ("journal", "currency_exchange")
]


class SecuritiesForm(ConfirmFarDates, forms.Form):
    """A securities transaction: purchase, sale, dividend, interest, fee, tax, repayment, switch."""

    far_date_fields = ("trade_date", "settlement_date")

    kind = forms.ChoiceField(label=_("Type"), choices=SECURITIES_KINDS)
    trade_date = NorwegianDateField(label=_("Trade date"), initial=timezone.localdate)
    settlement_date = NorwegianDateField(label=_("Settlement date"), required=False)
    instrument_name = forms.CharField(label=_("Instrument"), max_length=200, required=False)
    isin = forms.CharField(label=_("ISIN"), max_length=12, required=False)
    quantity = NorwegianDecimalField(label=_("Quantity"))
    price = NorwegianDecimalField(label=_("Price"))
    amount = NorwegianDecimalField(label=_("Amount (NOK)"), decimals=2)
    fees = NorwegianDecimalField(label=_("Fees (NOK)"), decimals=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="NOK")
    amount_currency = NorwegianDecimalField(label=_("Amount in currency"), decimals=2)
    to_instrument_name = forms.CharField(label=_("Switched into"), max_length=200, required=False)
    to_isin = forms.CharField(label=_("ISIN switched into"), max_length=12, required=False)
    to_quantity = NorwegianDecimalField(label=_("Quantity switched into"))
    settle_via = forms.ChoiceField(
        label=_("Paid through"), choices=Transaction.SettleVia.choices, initial="bank"
    )
    description = forms.CharField(label=_("Voucher text"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=NOTE_MAX_LENGTH,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["isin"] = (data.get("isin") or "").strip().upper()
        data["to_isin"] = (data.get("to_isin") or "").strip().upper()
        data["currency"] = (data.get("currency") or "NOK").strip().upper()
        data["fees"] = data.get("fees") or Decimal("0.00")
        # Every problem at once: a field that failed to parse keeps its own message, and the
        # others are still checked (an empty form names each missing field, not only the first).
        failed = set(self.errors)
        for name, problem in securities_problems(data).items():
            if name not in failed:
                self.add_error(name if name in self.fields else None, problem)
        self.far_dates_check()
        return data


class JournalForm(ConfirmFarDates, forms.Form):
    """The head of a manual journal entry."""

    far_date_fields = ("trade_date",)

    trade_date = NorwegianDateField(label=_("Date"), initial=timezone.localdate)
    description = forms.CharField(label=_("Voucher text"), max_length=200)
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=NOTE_MAX_LENGTH,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.far_dates_check()
        return self.cleaned_data


class JournalLineForm(forms.Form):
    """One line: account, debit or credit, text, and optional dimensions and VAT code."""

    account_number = forms.IntegerField(
        label=_("Account"), required=False, min_value=ACCOUNT_NUMBERS.first
    )
    debit = NorwegianDecimalField(label=_("Debit"), decimals=2)
    credit = NorwegianDecimalField(label=_("Credit"), decimals=2)
    description = forms.CharField(label=_("Text"), max_length=200, required=False)
    department_number = forms.CharField(label=_("Department"), max_length=40, required=False)
    project_number = forms.CharField(label=_("Project"), max_length=40, required=False)
    vat_code = forms.CharField(label=_("VAT code"), max_length=10, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The inputs sit in a table under column headings, with no <label> each: name every one
        # "Account, line 2". The empty form's template says __number__, which "Add line" fills in.
        index = (self.prefix or "").rsplit("-", 1)[-1]
        number = str(int(index) + 1) if index.isdigit() else "__number__"
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = _("%(field)s, line %(number)s") % {
                "field": field.label,
                "number": number,
            }

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("account_number") and not data.get("debit") and not data.get("credit")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors or self.is_blank():
            return data
        for problem in journal_line_problems(data):
            raise forms.ValidationError(problem)
        return data


class BaseJournalLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        lines = self.lines()
        if len(lines) < 2:
            raise forms.ValidationError(_("A journal entry needs at least two lines."))
        debit = sum((line.get("debit") or Decimal(0) for line in lines), Decimal(0))
        credit = sum((line.get("credit") or Decimal(0) for line in lines), Decimal(0))
        if debit != credit:
            raise forms.ValidationError(
                _("Debit (%(debit)s) and credit (%(credit)s) must be equal.")
                % {"debit": format_amount(debit), "credit": format_amount(credit)}
            )

    def lines(self) -> list[dict[str, Any]]:
        """The non-blank lines in order."""
        return [f.cleaned_data for f in self.forms if f.cleaned_data and not f.is_blank()]


# formset_factory returns a subclass of `formset`, but django-stubs types it as the plain BaseFormSet
# (typeddjango/django-stubs#370, open), which would hide lines().
JournalLineFormSet: type[BaseJournalLineFormSet] = forms.formset_factory(  # type: ignore[assignment]
    JournalLineForm, formset=BaseJournalLineFormSet, extra=0, min_num=2, max_num=100
)


class GLSettingsForm(forms.ModelForm):
    """The account for each kind of posting, and how vouchers reach Tripletex.

    `chart` is the firm's chart of accounts: an account missing from it or inactive there is a
    field error, so settings are never saved with an account Tripletex would refuse. Without a
    chart (it could not be read) the form is never valid."""

    class Meta:
        model = GLAccountSettings
        fields = [*GLAccountSettings.ROLES, "posting_mode"]
        widgets = {"posting_mode": forms.RadioSelect}

    def __init__(
        self, *args: Any, chart: dict[int, ChartAccount] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.chart = chart or {}
        # The same range as a journal line's account: NS 4102 numbers, sub-accounts up to 5 digits.
        out_of_range = _("Account numbers run from 1000 to 99999.")
        for role in GLAccountSettings.ROLES:
            self.fields[role] = forms.IntegerField(
                label=self.fields[role].label,
                min_value=ACCOUNT_NUMBERS.first,
                max_value=ACCOUNT_NUMBERS.last,
                error_messages={"min_value": out_of_range, "max_value": out_of_range},
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        if not self.chart:
            raise forms.ValidationError(
                _(
                    "The firm's chart of accounts could not be read from Tripletex, so the accounts "
                    "cannot be checked. Nothing was saved; try again later."
                )
            )
        for role in GLAccountSettings.ROLES:
            number = self.cleaned_data.get(role)
            if number is not None and (
                problem := gl_account_problem(number=number, chart=self.chart)
            ):
                self.add_error(role, problem)
        return self.cleaned_data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class ReverseForm(ConfirmFarDates, forms.Form):
    far_date_fields = ("date",)

    date = NorwegianDateField(label=_("Reversal date"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.far_dates_check()
        return self.cleaned_data

"""Forms of the import page and the broker accounts page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models import BrokerAccount
from ledger.transactions.vouchers import ChartAccount, gl_account_problem

# A Nordnet export is UTF-16 (two bytes a character): 10,000 rows are some 6 MB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class FileImportForm(forms.Form):
    """A transactions file of any recognised format, and the broker account for a file that does
    not name its own."""

    file = forms.FileField(label=_("File (Nordnet, DNB or our CSV layout)"))
    account = forms.ModelChoiceField(
        label=_("Broker account"),
        queryset=BrokerAccount.objects.none(),
        required=False,
        empty_label=_("As the file says"),
        help_text=_(
            "Only needed for a DNB file or Nordnet's older layout, when the firm has "
            "more than one account at that broker."
        ),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = BrokerAccount.objects.filter(company=company)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


class BrokerAccountForm(forms.ModelForm):
    """A broker account; its cash account must exist and be active in the firm's chart."""

    class Meta:
        model = BrokerAccount
        fields = ["broker", "number", "name", "cash_account", "currency"]

    def __init__(
        self, *args: Any, company: Company, chart: dict[int, ChartAccount], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.company, self.chart = company, chart
        self.fields["cash_account"].help_text = _(
            "From the chart, e.g. a 19xx account for the cash at the broker."
        )
        self.fields["currency"].help_text = _(
            "A portfolio's currency account is a broker account of the same number in its "
            "currency, on a cash account Tripletex keeps in that currency."
        )

    def clean_number(self) -> str:
        number = " ".join(str(self.cleaned_data["number"]).split())
        if not number:
            raise forms.ValidationError(_("Give the account or portfolio number."))
        return number

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data.get("currency") or "NOK").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(
                _("Use a three-letter currency code such as NOK, USD or EUR.")
            )
        return currency

    def clean_cash_account(self) -> int:
        number = int(self.cleaned_data["cash_account"])
        if not self.chart:
            raise forms.ValidationError(
                _("The chart of accounts could not be read from Tripletex; try again.")
            )
        if problem := gl_account_problem(number=number, chart=self.chart):
            raise forms.ValidationError(problem)
        return number

    def clean(self) -> dict[str, Any]:
        """One broker account per portfolio and currency: a Nordnet portfolio's currency
        accounts (valutakontoer) are added as accounts of the same number in another currency,
        each with its own GL cash account (ledger/models/brokers.py)."""
        data = super().clean() or {}
        exists = BrokerAccount.objects.filter(
            company=self.company,
            broker=data.get("broker"),
            number=data.get("number"),
            currency=data.get("currency") or "NOK",
        ).exclude(pk=self.instance.pk)
        if data.get("number") and exists.exists():
            self.add_error(
                "number",
                _("The firm already has this account in %(currency)s.")
                % {"currency": data.get("currency") or "NOK"},
            )
        return data


class CompensationAccountForm(forms.Form):
    """The account a compensation (ERSTATNING) is income on, from the firm's chart."""

    account = forms.TypedChoiceField(
        label=_("Account the compensation is income on"),
        coerce=int,
        help_text=_(
            "The file does not say why the broker paid: e.g. a finance income (80xx), another "
            "operating income (39xx), or the cost it refunds."
        ),
    )

    def __init__(self, *args: Any, accounts: list[ChartAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose an account"))] + [
            (a.number, f"{a.number} {a.name}") for a in accounts
        ]

"""The instrument form: the facts that decide the exemption method, and a person's choice."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ledger.models import Instrument

COUNTRY = re.compile(r"^[A-Z]{2}$")


class InstrumentForm(forms.ModelForm):
    """Name, type, country, low-tax, the 10 % holding, a fund's equity share and the choice."""

    # Longer than the column on purpose: "Norge" gets our message, not a length error.
    country = forms.CharField(
        label=gettext_lazy("country of residence"), max_length=20, required=False
    )
    exemption_override = forms.ChoiceField(
        label=gettext_lazy("Exemption method"),
        required=False,
        choices=[("", gettext_lazy("By the rules"))] + list(Instrument.Exemption.choices),
    )

    class Meta:
        model = Instrument
        fields = [
            "name",
            "kind",
            "country",
            "is_low_tax",
            "holds_ten_percent",
            "equity_share",
            "exemption_override",
        ]

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and not COUNTRY.match(country):
            raise forms.ValidationError(_("Use the two-letter country code, e.g. NO, SE or US."))
        return country

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        needs_share = (
            data.get("kind") == Instrument.Kind.COMBINATION_FUND
            or data.get("exemption_override") == Instrument.Exemption.PARTIAL
        )
        if needs_share and data.get("equity_share") is None:
            self.add_error(
                "equity_share",
                _("A combination fund, or a partly exempt instrument, needs its equity share."),
            )
        return data

"""Forms of the report pack pages: the month and a comment per section; the office batch."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from ledger.models.reporting import COMMENT_MAX_LENGTH, Section

# The section each comment field belongs to, with the help shown under it.
COMMENT_HELP = {
    Section.SUMMARY: _("On the cover: what the reader should know first."),
    Section.KEY_FIGURES: _("Under the key figures."),
    Section.PNL: _("Under the profit and loss."),
    Section.BALANCE: _("Under the balance sheet."),
    Section.HOLDINGS: _("Under the holdings."),
}


def month_choices(months: list[datetime.date]) -> list[tuple[str, str]]:
    """('2026-03', 'mars 2026') for each month, newest first."""
    return [(f"{m:%Y-%m}", date_format(m, "F Y")) for m in sorted(months, reverse=True)]


class MonthForm(forms.Form):
    """The month a pack runs through, one of the months with synced figures."""

    mnd = forms.ChoiceField(label=_("Through month"))

    def __init__(self, *args: object, months: list[datetime.date], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["mnd"].choices = month_choices(months)  # type: ignore[attr-defined]

    def month(self) -> datetime.date:
        value = self.cleaned_data["mnd"]
        return datetime.date(int(value[:4]), int(value[5:7]), 1)


class CommentsForm(MonthForm):
    """The month, and the accountant's comment on each section of the pack."""

    def __init__(self, *args: object, months: list[datetime.date], **kwargs: object) -> None:
        super().__init__(*args, months=months, **kwargs)
        for section in Section:
            self.fields[section.value] = forms.CharField(
                label=section.label,
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                help_text=COMMENT_HELP[section],
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def texts(self) -> dict[str, str]:
        return {section: self.cleaned_data.get(section, "") for section in Section.values}


class BatchForm(forms.Form):
    """An office (or the firms on their own key) and the month of a batch of report packs."""

    office = forms.ChoiceField(label=_("Firms"))
    mnd = forms.RegexField(
        label=_("Through month"),
        regex=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$",
        error_messages={"invalid": _("Choose a month.")},
    )

    def __init__(self, *args: object, offices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["office"].choices = offices  # type: ignore[attr-defined]
        self.fields["mnd"].widget = forms.TextInput(attrs={"type": "month"})

    def month(self) -> datetime.date:
        value = self.cleaned_data["mnd"]
        return datetime.date(int(value[:4]), int(value[5:7]), 1)

"""Dates on our forms mean what was typed: dd.mm.åååå, whatever the browser's language.

A native `<input type="date">` shows and reads the day and month in the order of the browser's
language, not the page's: in an English browser, 01.12 typed day-first became 12 January. So our
date fields are text inputs read by one Norwegian parser (csv_import.parse_date: 31.12.2026,
1.12.2026, 31.12.26, and ISO 2026-12-31, never month-first), shown back as dd.mm.åååå.

A date more than `FAR_DAYS` before today may be a typo (2016 for 2026) or an old trade recorded
late: the form is shown again with the problem and a checkbox confirming that exact date
(`ConfirmFarDates`). A date more than a year ahead is never right for a voucher and is refused
outright by the entry checks (ledger/transactions/checks.py, `date_bounds_problem`), so it is not
offered for confirming here.
"""

from __future__ import annotations

import datetime
from types import MappingProxyType
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from ledger.transactions.csv_import import ValueProblem, parse_date

FAR_DAYS = 365
DISPLAY_FORMAT = "%d.%m.%Y"


def today() -> datetime.date:
    """Today in Oslo (the one place the far-date rule reads the clock; tests replace it)."""
    return timezone.localdate()


class NorwegianDateInput(forms.DateInput):
    """A text input for dd.mm.åååå: the browser's language plays no part."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        defaults = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": _("dd.mm.yyyy"),
            "class": "date",
            "size": "10",
        }
        super().__init__({**defaults, **(attrs or {})}, format=DISPLAY_FORMAT)


class NorwegianDateField(forms.DateField):
    """A date typed day first (see the module); cleaned to a date."""

    widget = NorwegianDateInput
    default_error_messages = {
        "invalid": _("Write the date as dd.mm.yyyy, for example 31.03.2026."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("Day, month, year: dd.mm.yyyy"))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> datetime.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return parse_date(str(value))
        except ValueProblem:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


def is_far(day: datetime.date) -> bool:
    """Whether `day` is more than FAR_DAYS before today (see the module for dates ahead)."""
    return (today() - day).days > FAR_DAYS


class ConfirmFarDates:
    """A form mixin: each field named in `far_date_fields` whose date is far from today is an error
    until the form comes back with `confirm_<field>` set to that very date (ISO), which the
    re-shown form offers as a checkbox under the field (templates/ledger/transactions/_field.html,
    through `far_dates`). Call `far_dates_check()` from `clean()`."""

    far_date_fields: tuple[str, ...] = ()
    far_dates: MappingProxyType[str, datetime.date] | dict[str, datetime.date] = MappingProxyType(
        {}
    )

    def far_dates_check(self: Any) -> None:
        """Add an error to every far date not confirmed; fill `self.far_dates` (name → date)."""
        self.far_dates = {}
        for name in self.far_date_fields:
            day = self.cleaned_data.get(name)
            if not isinstance(day, datetime.date) or not is_far(day):
                continue
            if self.data.get(f"confirm_{name}") == day.isoformat():
                continue
            self.far_dates[name] = day
            self.add_error(
                name,
                _(
                    "%(date)s is more than a year ago. Check the date; if it is right, tick the "
                    "box below it and save again."
                )
                % {"date": date_format(day, "d.m.Y")},
            )

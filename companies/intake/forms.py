"""The public key-request form and its list of people (a key field never renders a value)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from companies.forms import BaseMemberFormSet, MemberForm, key_field
from companies.models import Company, Role, TripletexConnection
from companies.onboarding.verification import org_number_clean

MAX_FIRMS = 25


class KeyRequestForm(forms.Form):
    """Who asks, which firms, which accounting system and which key."""

    contact_name = forms.CharField(label=_("Your name"), max_length=200)
    contact_email = forms.EmailField(
        label=_("Your e-mail"),
        help_text=_("We write to you here when the request arrives and when it is decided."),
    )
    key_type = forms.ChoiceField(
        label=_("Whose key is it?"),
        choices=[
            (TripletexConnection.KeyType.OWN, _("The firm's own key (an employee's API key)")),
            (TripletexConnection.KeyType.OFFICE, _("An accounting office's key for its clients")),
        ],
        initial=TripletexConnection.KeyType.OWN,
        widget=forms.RadioSelect,
    )
    office_name = forms.CharField(
        label=_("Accounting office"),
        required=False,
        max_length=200,
        help_text=_("For an office key; Tripletex's name of the office is used when empty."),
    )
    org_numbers = forms.CharField(
        label=_("Organisation number(s)"),
        max_length=MAX_FIRMS * 12,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "One per line. The firm's own key reaches one firm; an office key can reach several "
            "of the office's clients."
        ),
    )
    accounting_system = forms.ChoiceField(
        label=_("Accounting system"),
        choices=Company.AccountingSystem.choices,
        initial=Company.AccountingSystem.TRIPLETEX,
    )
    note = forms.CharField(
        label=_("Message to us (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The honeypot (companies/intake/bot.py): hidden from people, filled in by bots.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tripletex_key"] = key_field(label=str(_("Tripletex key")), required=True)
        self.order_fields(
            ["contact_name", "contact_email", "key_type", "office_name", "org_numbers"]
            + ["accounting_system", "tripletex_key", "note", "website"]
        )

    def clean_org_numbers(self) -> list[str]:
        raw = [part for part in re.split(r"[\n\r,;]+", self.cleaned_data["org_numbers"])]
        numbers: list[str] = []
        problems: list[str] = []
        for part in (p.strip() for p in raw):
            if not part:
                continue
            try:
                number = org_number_clean(part)
            except ValidationError as exc:
                problems.append(f"{part}: {' '.join(exc.messages)}")
                continue
            if number not in numbers:
                numbers.append(number)
        if problems:
            raise ValidationError(problems)
        if not numbers:
            raise ValidationError(_("Enter at least one organisation number."))
        if len(numbers) > MAX_FIRMS:
            raise ValidationError(
                _("At most %(n)s organisation numbers in one request.") % {"n": MAX_FIRMS}
            )
        return numbers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        numbers = data.get("org_numbers") or []
        if data.get("key_type") == TripletexConnection.KeyType.OWN and len(numbers) > 1:
            self.add_error(
                "org_numbers",
                _("A firm's own key reaches that one firm: enter one organisation number."),
            )
        return data


class IntakeMemberFormSet(BaseMemberFormSet):
    """The people to invite: at least one, and at least one administrator (who then manages the
    firm's users in Dynamik)."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        members = self.members()
        if not members:
            raise ValidationError(_("Enter the e-mail of at least one user."))
        if not any(member.role == Role.ADMIN for member in members):
            raise ValidationError(_("At least one user must be an administrator."))


# formset_factory returns a subclass of `formset`; django-stubs types it as the plain BaseFormSet
# (typeddjango/django-stubs#370, as for companies.forms.MemberFormSet).
MembersFormSet: type[IntakeMemberFormSet] = forms.formset_factory(  # type: ignore[assignment]
    MemberForm, formset=IntakeMemberFormSet, extra=3, max_num=50, validate_max=True
)

"""Staff forms: onboarding a firm, replacing a firm's key, office keys, and adding office clients.

Key fields are password inputs that never render a value: after a failed attempt the form keeps
everything except the key, which staff enter again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from companies.models import Company, OfficeKey, Role, TripletexConnection
from companies.onboarding.verification import (
    APPLICATION_NAME,
    KEY_NAME,
    ClientChoiceNeeded,
    OnboardingError,
    Verified,
    key_verify,
    office_clients_list,
    org_number_clean,
    org_number_taken,
)
from companies.services import NewMember

KEY_HELP = _(
    "The client key (“Klientnøkkel”) created in Tripletex under “Selskap” → "
    "“Ansatte” → the employee → “API-tilgang” → “Ny nøkkel”: "
    "“Tilpasset nøkkel” with “Alle tilganger”, application name "
    "%(app)s, key name %(key)s. The firm needs the “Integrasjoner” module. "
    "It is shown in Tripletex only once and never again here."
) % {"app": APPLICATION_NAME, "key": KEY_NAME}


def key_field(*, label: str, required: bool = False) -> forms.CharField:
    """A password input for a Tripletex key that is never rendered back."""
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=KEY_HELP,
    )


class OrgNumberField(forms.CharField):
    """Accepts "123 456 785" or "123456785"; cleans to 9 digits with a valid MOD11 check digit."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Organisation number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("9 digits; spaces are fine."))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return org_number_clean(value) if value else value


class MemberForm(forms.Form):
    """One user of the firm: an e-mail and a role."""

    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.FINANCE)


class MemberInviteForm(forms.Form):
    """A firm administrator invites a person by e-mail."""

    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ACCOUNTANT)


class BaseMemberFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            email = (form.cleaned_data or {}).get("email", "").lower()
            if email and email in seen:
                raise ValidationError(_("%(email)s is listed twice.") % {"email": email})
            seen.add(email)

    def members(self) -> list[NewMember]:
        """The filled-in rows as NewMember values."""
        return [
            NewMember(email=f.cleaned_data["email"].lower(), role=f.cleaned_data["role"])
            for f in self.forms
            if f.cleaned_data.get("email")
        ]


# formset_factory returns a subclass of `formset`, but django-stubs types it as the plain BaseFormSet
# (typeddjango/django-stubs#370, open), which would hide members().
MemberFormSet: type[BaseMemberFormSet] = forms.formset_factory(  # type: ignore[assignment]
    MemberForm, formset=BaseMemberFormSet, extra=4, max_num=50
)


class TripletexKeyFields(forms.Form):
    """Key type, key, stored office key and (when needed) the chosen office client."""

    key_type = forms.ChoiceField(
        label=_("Key type"),
        choices=TripletexConnection.KeyType.choices,
        initial=TripletexConnection.KeyType.OWN,
        widget=forms.RadioSelect,
    )
    office_key = forms.ModelChoiceField(
        label=_("Stored accounting office key"),
        queryset=OfficeKey.objects.all(),
        required=False,
        empty_label=_("— a new office key, entered below —"),
        help_text=_("An office key is stored once and used for all the office's client firms."),
    )
    office_name = forms.CharField(
        label=_("Accounting office name"),
        required=False,
        max_length=200,
        help_text=_("For a new office key; Tripletex's name of the office is used when empty."),
    )
    # Rendered as radio buttons only when several office clients share the organisation number.
    client_company_id = forms.IntegerField(
        label=_("Tripletex client"), required=False, widget=forms.HiddenInput
    )
    key_required = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tripletex_key"] = key_field(label=self.key_label())
        self.order_fields(
            ["org_number", "name", "accounting_system", "key_type", "tripletex_key", "office_key"]
        )

    def key_label(self) -> str:
        return str(_("Tripletex key"))

    def client_choices(self, candidates: Any) -> None:
        """Ask staff to choose among several office clients with the same organisation number."""
        choices = [(c.id, f"{c.name} (Tripletex id {c.id})") for c in candidates]
        self.fields["client_company_id"].widget = forms.RadioSelect(choices=choices)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        key_type, token = data.get("key_type"), data.get("tripletex_key")
        if key_type == TripletexConnection.KeyType.OWN:
            data["office_key"] = None
            if not token and self.key_required:
                self.add_error("tripletex_key", _("Enter the firm's Tripletex key."))
        elif key_type == TripletexConnection.KeyType.OFFICE:
            if data.get("office_key") and token:
                self.add_error(
                    "tripletex_key",
                    _("Choose a stored office key or enter a new one, not both."),
                )
            elif not data.get("office_key") and not token:
                self.add_error(
                    "office_key", _("Choose a stored office key or enter the office's key.")
                )
        return data


class OnboardingForm(TripletexKeyFields):
    """Everything staff need to onboard a firm (the users come in MemberFormSet)."""

    org_number = OrgNumberField()
    name = forms.CharField(
        label=_("Firm name"),
        required=False,
        max_length=200,
        help_text=_("Filled in from Tripletex when left empty."),
    )
    accounting_system = forms.ChoiceField(
        label=_("Accounting system"),
        choices=Company.AccountingSystem.choices,
        initial=Company.AccountingSystem.TRIPLETEX,
    )

    def clean_org_number(self) -> str:
        org_number = self.cleaned_data["org_number"]
        existing = org_number_taken(org_number=org_number)
        if existing is not None:
            url = reverse("admin:companies_company_change", args=[existing.pk])
            raise ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("A company with this organisation number already exists:"),
                    url,
                    existing.name,
                ),
                code="duplicate",
            )
        return org_number


def _verified_or_error(verify: Callable[[], Verified]) -> Verified:
    """Run a Tripletex verification; its failure becomes a form error (the key never shown)."""
    try:
        return verify()
    except ClientChoiceNeeded as exc:
        choices = ", ".join(f"{c.name}: {c.id}" for c in exc.candidates)
        raise ValidationError(f"{exc.message} {choices}", code=exc.code) from None
    except OnboardingError as exc:
        raise ValidationError([exc.message, *exc.problems], code=exc.code) from None


class CompanyAdminForm(forms.ModelForm):
    """The company change form: name and URL plus a "replace key" field (the key is never shown)."""

    key_type = forms.ChoiceField(
        label=_("Key type"),
        choices=[("", _("— keep the current key —")), *TripletexConnection.KeyType.choices],
        required=False,
    )
    replace_key = forms.CharField(
        label=_("Replace key"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=KEY_HELP,
    )
    office_key = forms.ModelChoiceField(
        label=_("Stored accounting office key"),
        queryset=OfficeKey.objects.all(),
        required=False,
    )
    client_company_id = forms.IntegerField(
        label=_("Tripletex client id"),
        required=False,
        help_text=_("Only needed when several clients of the office key share the number."),
    )
    remove_connection = forms.BooleanField(
        label=_("Remove the Tripletex connection (deletes the key and its sessions)"),
        required=False,
    )

    verified: Verified | None = None

    class Meta:
        model = Company
        fields = ["name", "slug", "accounting_system"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        key_type = data.get("key_type")
        if data.get("remove_connection") and (key_type or data.get("replace_key")):
            raise ValidationError(_("Either replace the key or remove the connection, not both."))
        if key_type == TripletexConnection.KeyType.OWN and not data.get("replace_key"):
            self.add_error("replace_key", _("Enter the new key."))
        if key_type == TripletexConnection.KeyType.OFFICE and not (
            data.get("office_key") or data.get("replace_key")
        ):
            self.add_error("office_key", _("Choose a stored office key or enter the office's key."))
        if data.get("replace_key") and not key_type:
            self.add_error("key_type", _("Choose whose key this is."))
        if key_type and not self.errors:
            self.verified = _verified_or_error(
                lambda: key_verify(
                    org_number=self.instance.org_number,
                    key_type=key_type,
                    token=data.get("replace_key") or "",
                    office_key=data.get("office_key"),
                    client_company_id=data.get("client_company_id"),
                )
            )
        return data


class OfficeKeyAdminForm(forms.ModelForm):
    """An accounting office key: a name and the key (required when adding, optional to replace)."""

    key = forms.CharField(
        label=_("Key"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "The accounting office's client key. Clients get access to it in Tripletex under "
            "“Klient” → “Tilganger” → “Legg til API-nøkkel”."
        ),
    )

    verified: Verified | None = None

    class Meta:
        model = OfficeKey
        fields = ["name"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and not data.get("key"):
            self.add_error("key", _("Enter the accounting office's key."))
        if data.get("key") and not self.errors:
            self.verified = _verified_or_error(lambda: office_clients_list(token=data["key"])[0])
            known = self.instance.tripletex_company_id
            if known and self.verified.office_company_id != known:
                # Its clients' connections would silently point at another office's access.
                raise ValidationError(
                    _("This key belongs to %(office)s, not to this accounting office.")
                    % {"office": self.verified.office_name},
                    code="other_office",
                )
        return data


class OfficeClientsForm(forms.Form):
    """Pick the office clients to create as firms."""

    clients = forms.TypedMultipleChoiceField(
        label=_("Clients"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["clients"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = choices

"""Forms of the group pages: a group's name and subsidiaries, and one elimination pair."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.models import Company
from ledger.models import EliminationPair


def _firm_choices(firms: list[Company]) -> list[tuple[int, str]]:
    return [(f.pk, f"{f.name} ({f.org_number})") for f in firms]


class MembersForm(forms.Form):
    """The subsidiaries, among the firms the person may open."""

    members = forms.TypedMultipleChoiceField(
        label=_("Subsidiaries"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one subsidiary.")},
    )

    def __init__(self, *args: object, candidates: list[Company], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["members"].choices = _firm_choices(candidates)  # type: ignore[attr-defined]


class GroupCreateForm(MembersForm):
    name = forms.CharField(label=_("Group name"), max_length=200)
    field_order = ["name", "members"]


class PairForm(forms.Form):
    """One pair: an account of one firm against an account of another."""

    kind = forms.ChoiceField(label=_("Kind"), choices=EliminationPair.Kind.choices)
    firm_a = forms.TypedChoiceField(label=_("Firm (debit side)"), coerce=int)
    account_a = forms.IntegerField(label=_("Account"), min_value=1000, max_value=8999)
    firm_b = forms.TypedChoiceField(label=_("Firm (credit side)"), coerce=int)
    account_b = forms.IntegerField(label=_("Account"), min_value=1000, max_value=8999)

    def __init__(self, *args: object, firms: list[Company], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("firm_a", "firm_b"):
            self.fields[name].choices = _firm_choices(firms)  # type: ignore[attr-defined]

"""The staff admin in Norwegian: every model it lists and every field it can show has a bokmål
name, and its pages show no English field or model names."""

import pytest
from django.contrib import admin
from django.utils import translation
from django.utils.functional import Promise

# Words that are the same in both languages.
SAME_IN_BOTH = {"status", "ISIN", "Tripletex", "type", "Bank"}
# Never shown: an invitation's link is kept only as its SHA-256, and no admin page lists it.
NEVER_SHOWN = {"companies.Invitation.token_hash"}


def _labels():
    for model in admin.site._registry:
        meta = model._meta
        yield f"{meta.label} (model)", meta.verbose_name
        yield f"{meta.label} (model, plural)", meta.verbose_name_plural
        for field in meta.get_fields():
            if getattr(field, "auto_created", False) or not hasattr(field, "verbose_name"):
                continue
            if field.name in ("id", "password") or f"{meta.label}.{field.name}" in NEVER_SHOWN:
                continue
            yield f"{meta.label}.{field.name}", field.verbose_name


def test_every_admin_model_and_field_has_a_norwegian_name():
    untranslated = []
    for where, label in _labels():
        if not isinstance(label, Promise):
            untranslated.append(f"{where}: {label!r} (not marked for translation)")
            continue
        with translation.override("en"):
            english = str(label)
        with translation.override("nb"):
            norwegian = str(label)
        if norwegian == english and english not in SAME_IN_BOTH:
            untranslated.append(f"{where}: {english!r}")
    assert untranslated == [], "\n".join(untranslated)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/ledger/transaction/",
        "/admin/ledger/syncrun/",
        "/admin/ledger/bookingattempt/",
        "/admin/ledger/reversal/",
    ],
)
def test_admin_pages_show_no_english_model_names(client, staff, path):
    client.force_login(staff)
    html = client.get(path).content.decode()
    for english in ("Booking attempts", "Sync runs", ">Transactions<", "Reversals"):
        assert english not in html, (path, english)

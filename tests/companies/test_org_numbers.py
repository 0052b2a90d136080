"""Organisation numbers: 9 digits with a MOD11 check digit, spaces allowed, unique across firms."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from companies.onboarding.verification import org_number_clean
from companies.services import company_create


@pytest.mark.parametrize("value", ["923609016", "923 609 016", " 923 609 016 "])
def test_valid_org_number_is_stored_as_nine_digits(value):
    assert org_number_clean(value) == "923609016"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("923609017", "org_checksum"),
        ("92360901A", "org_letters"),
        ("ABC DEF GHI", "org_letters"),
        ("92360901", "org_length"),
        ("9236090160", "org_length"),
        ("923 609 01", "org_length"),
    ],
)
def test_invalid_org_number_has_a_specific_reason(value, code):
    with pytest.raises(ValidationError) as excinfo:
        org_number_clean(value)

    assert excinfo.value.code == code


def test_two_firms_cannot_share_an_org_number(acme):
    with pytest.raises(IntegrityError):
        company_create(org_number=acme.org_number, name="Someone Else AS")

"""Replacing a period's stored postings (ledger/sync/posting_replace.py), on whichever database
the tests run: exactly the given postings afterwards, others' periods untouched, moves by id."""

import datetime
from decimal import Decimal

from django.utils import timezone
from django_scopes import scope

from ledger.models import Posting
from ledger.sync.posting_replace import postings_replace
from tripletex.schemas import Posting as ApiPosting

MARCH, APRIL, MAY = (datetime.date(2026, m, 1) for m in (3, 4, 5))


def posting(ident: int, day: datetime.date, amount: str, **extra) -> ApiPosting:
    fields = {
        "id": ident,
        "date": day,
        "description": "",
        "account_id": 11,
        "account_number": 6800,
        "account_name": "",
        "amount": Decimal(amount),
        "amount_gross": None,
        "voucher_id": 900 + ident,
        "voucher_number": ident,
        "voucher_year": None,
        "department_id": None,
        "project_id": None,
    }
    fields.update(extra)
    return ApiPosting(**fields)


def stored(company) -> dict[int, tuple]:
    with scope(company=company):
        rows = Posting.objects.filter(company=company).values_list(
            "tripletex_id", "date", "amount", "description", "department_id"
        )
        return {ident: tuple(rest) for ident, *rest in rows}


def test_a_period_holds_exactly_the_given_postings_afterwards(acme, bergen):
    now = timezone.now()
    with scope(company=acme):
        postings_replace(
            company=acme,
            date_from=MARCH,
            date_to=MAY,
            postings=[
                posting(1, MARCH, "10.00"),
                posting(2, APRIL, "-10.00", department_id=501),
                posting(3, APRIL + datetime.timedelta(days=3), "5.50"),
            ],
            synced_at=now,
        )
    with scope(company=bergen):
        postings_replace(
            company=bergen,
            date_from=MARCH,
            date_to=MAY,
            postings=[posting(1, MARCH, "99.00")],
            synced_at=now,
        )

    # April again: posting 3 is gone, 2 changed, 4 is new, and 1 moved in from March.
    with scope(company=acme):
        written, dropped = postings_replace(
            company=acme,
            date_from=APRIL,
            date_to=MAY,
            postings=[
                posting(1, APRIL, "10.00"),
                posting(2, APRIL, "-12.00", description="Kontor\x00rekvisita"),
                posting(4, APRIL + datetime.timedelta(days=9), "2.00"),
            ],
            synced_at=now,
        )

    assert (written, dropped) == (3, 1)
    assert stored(acme) == {
        1: (APRIL, Decimal("10.00"), "", None),
        2: (APRIL, Decimal("-12.00"), "Kontorrekvisita", None),
        4: (APRIL + datetime.timedelta(days=9), Decimal("2.00"), "", None),
    }
    assert stored(bergen) == {1: (MARCH, Decimal("99.00"), "", None)}


def test_an_empty_pull_empties_the_period_and_only_it(acme):
    now = timezone.now()
    with scope(company=acme):
        postings_replace(
            company=acme,
            date_from=MARCH,
            date_to=MAY,
            postings=[posting(1, MARCH, "1.00"), posting(2, APRIL, "-1.00")],
            synced_at=now,
        )
        assert postings_replace(
            company=acme, date_from=APRIL, date_to=MAY, postings=[], synced_at=now
        ) == (0, 1)
    assert set(stored(acme)) == {1}

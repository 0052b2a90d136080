"""The booking log on a transaction's page says what each run did in Norwegian words, never the
stored code ("book", "resolve", "reverse"), and every action the booking code records has a label."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope

from ledger.models import BookingAttempt
from tests.ledger.support import record

LEDGER = Path(__file__).resolve().parents[2] / "ledger"


def _log_actions(html: str) -> list[str]:
    """The "Handling" column of the booking log, top to bottom."""
    table = html[html.index('class="table tx-log"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td[^>]*>[^<]*</td><td[^>]*>\d+</td><td>([^<]*)</td>", table)
    return [row.strip() for row in rows]


@pytest.mark.django_db
def test_the_booking_log_names_each_action_in_norwegian(client, fiona, acme):
    txn = record(acme)
    with scope(company=acme):
        for number, action in enumerate(["book", "resolve", "reverse"], start=1):
            BookingAttempt.objects.create(
                company=acme, transaction=txn, attempt=number, action=action
            )
    client.force_login(fiona)
    page = client.get(
        reverse("ledger:transaction_detail", kwargs={"company_slug": acme.slug, "pk": txn.pk})
    )
    assert page.status_code == 200
    # Newest first.
    assert _log_actions(page.content.decode()) == [
        "Tilbakeføring",
        "Kontroll etter uklart svar",
        "Bokføring",
    ]


def test_every_action_the_booking_code_records_has_a_label():
    recorded = set()
    for source in LEDGER.rglob("*.py"):
        recorded |= set(re.findall(r'\baction="([a-z-]+)"', source.read_text()))
    assert recorded, "no action found in the booking code: the pattern is out of date"
    assert recorded <= set(BookingAttempt.Action.values), recorded - set(
        BookingAttempt.Action.values
    )


@pytest.mark.django_db
def test_the_staff_admin_shows_the_actions_in_words_too(client, staff, acme):
    txn = record(acme)
    with scope(company=acme):
        BookingAttempt.objects.create(company=acme, transaction=txn, attempt=1, action="resolve")
    client.force_login(staff)
    page = client.get(reverse("admin:ledger_transaction_change", args=[txn.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kontroll etter uklart svar" in html
    assert not re.search(r">\s*resolve\s*<", html)

"""A batch of report packs for the 20 firms of an accounting office: one PDF per firm, each stored
with its firm, the batch's progress page and JSON, and nobody else's batch to see."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_set_office_key, office_key_set
from companies.services import company_create, membership_set
from ledger.models import ReportBatch, ReportPack
from tests.ledger.figures_data import month, seed_changes

pytestmark = pytest.mark.django_db
MARCH = month(2025, 3)


def _org(i: int) -> str:
    """Valid organisation numbers (mod 11) from 910 000 004 up."""
    n = 910_000_000
    found = []
    while len(found) <= i:
        digits = str(n)
        weights = [3, 2, 7, 6, 5, 4, 3, 2]
        rest = 11 - sum(int(d) * w for d, w in zip(digits[:8], weights, strict=True)) % 11
        check = 0 if rest == 11 else rest
        if check != 10 and check == int(digits[8]):
            found.append(digits)
        n += 1
    return found[i]


@pytest.fixture
def office_firms(anders):
    office = office_key_set(
        office_key=None, name="Regnskapskontoret", token="office-token", by=None
    )
    firms = []
    for i in range(20):
        firm = company_create(org_number=_org(100 + i), name=f"Firma {i:02d} AS")
        connection_set_office_key(company=firm, office_key=office, client_company_id=i, by=None)
        membership_set(company=firm, user=anders, role="accountant")
        with scope(company=firm):
            seed_changes(
                firm,
                {
                    3000: {MARCH: Decimal(-1000 - i)},
                    6300: {MARCH: Decimal(400)},
                    1920: {MARCH: Decimal(600 + i)},
                },
            )
        firms.append(firm)
    return office, firms


def test_a_batch_for_twenty_firms(
    client, anders, bob, office_firms, tasks_eager, django_capture_on_commit_callbacks
):
    office, firms = office_firms
    client.force_login(anders)
    new = client.get(reverse("office_packs:batch_new"))
    assert new.status_code == 200
    assert "Regnskapskontoret" in new.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("office_packs:batch_new"),
            {"office": f"office-{office.pk}", "mnd": "2025-03"},
        )
    assert response.status_code == 302
    with scopes_disabled():
        batch = ReportBatch.objects.get()
        packs = list(ReportPack.objects.filter(batch=batch).select_related("company"))
    assert batch.total == 20
    assert sorted(p.company.name for p in packs) == sorted(f.name for f in firms)
    assert {p.status for p in packs} == {ReportPack.Status.DONE}
    assert all(p.pdf and bytes(p.pdf).startswith(b"%PDF-") for p in packs)
    status = client.get(reverse("office_packs:batch_status", kwargs={"batch_id": batch.pk}))
    body = status.json()
    assert body["counts"]["done"] == 20
    assert body["counts"]["finished"] == 20
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.content.decode().count('data-pack="') == 20
    # Each PDF is its firm's: downloadable under that firm's slug only.
    first = packs[0]
    own = reverse(
        "ledger:pack_pdf", kwargs={"company_slug": first.company.slug, "pack_id": first.pk}
    )
    other = reverse(
        "ledger:pack_pdf", kwargs={"company_slug": packs[1].company.slug, "pack_id": first.pk}
    )
    assert client.get(own).status_code == 200
    assert client.get(other).status_code == 404
    # Someone else cannot see the batch.
    client.force_login(bob)
    assert client.get(response["Location"]).status_code == 404


def test_a_bad_batch_request_changes_nothing(client, anders, office_firms):
    client.force_login(anders)
    url = reverse("office_packs:batch_new")
    for data in (
        {"office": "office-999999", "mnd": "2025-03"},
        {"office": "own", "mnd": "2025-13"},
    ):
        assert client.post(url, data).status_code == 400
    with scopes_disabled():
        assert not ReportBatch.objects.exists()
        assert not ReportPack.objects.exists()

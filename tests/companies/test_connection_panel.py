"""The firm page's Tripletex connection panel: connected / not verified / broken, reason and when."""

import re

import pytest

from companies.credentials import connection_mark, connection_set_own_key
from companies.models import TripletexConnection
from tests.conftest import PASSWORD


def panel(client, user, company) -> str:
    client.login(username=user.email, password=PASSWORD)
    response = client.get(f"/c/{company.slug}/")
    assert response.status_code == 200
    match = re.search(
        r'<section class="panel connection-panel".*?</section>', response.content.decode(), re.S
    )
    assert match, "no connection panel on the firm page"
    return match.group(0)


def test_not_connected(client, acme, anders):
    html = panel(client, anders, acme)

    assert 'data-status="none"' in html
    assert 'data-testid="connection-reason"' not in html


@pytest.mark.parametrize(
    ("status", "badge"),
    [
        (TripletexConnection.Status.CONNECTED, "badge ok"),
        (TripletexConnection.Status.NOT_VERIFIED, "badge warn"),
        (TripletexConnection.Status.BROKEN, "badge bad"),
    ],
)
def test_status_badge_reason_and_when(client, acme, anders, status, badge):
    connection_set_own_key(company=acme, token="a-key-for-the-panel-test", by=None)
    connection_mark(company=acme, status=status, reason="Reason R-17")

    html = panel(client, anders, acme)

    assert f'data-status="{status}"' in html
    assert badge in html
    assert "Reason R-17" in html
    assert re.search(r"\d{4}", html)  # when it changed
    assert "a-key-for-the-panel-test" not in html


def test_coverage_problems_are_listed(client, acme, anders):
    connection_set_own_key(company=acme, token="a-key-for-the-panel-test", by=None)
    connection_mark(company=acme, status=TripletexConnection.Status.CONNECTED)
    TripletexConnection.objects.filter(company=acme).update(coverage_problems=["Problem P-3"])

    html = panel(client, anders, acme)

    assert 'data-testid="connection-problems"' in html
    assert "Problem P-3" in html

"""Admin pages: staff only, keys write-only (summary, replace, remove), office keys and their clients."""

import pytest
from django.contrib.admin.models import LogEntry

from companies.credentials import connection_set_own_key, office_key_set
from companies.models import AuditEvent, Company, Membership, OfficeKey, TripletexConnection
from tests.conftest import make_user
from tripletex.sandbox import demo

# Session-cache files stay with the test: each test's sandbox is fresh.
pytestmark = pytest.mark.usefixtures("private_var_dir")


@pytest.fixture
def readonly_holding(db, staff):
    from companies.services import company_create

    company = company_create(org_number=demo.HOLDING.org_number, name=demo.HOLDING.name)
    connection_set_own_key(company=company, token=demo.READONLY_TOKEN, by=staff)
    return company


@pytest.fixture
def office_key(staff):
    return office_key_set(office_key=None, name="Tallknuserne", token=demo.OFFICE_TOKEN, by=staff)


def admin_urls(company, office_key):
    return [
        "/admin/",
        "/admin/companies/company/",
        "/admin/companies/company/onboard/",
        f"/admin/companies/company/{company.pk}/change/",
        "/admin/companies/officekey/",
        f"/admin/companies/officekey/{office_key.pk}/change/",
        f"/admin/companies/officekey/{office_key.pk}/clients/",
        "/admin/companies/tripletexconnection/",
        "/admin/companies/auditevent/",
        "/admin/companies/user/",
        "/admin/companies/membership/",
    ]


@pytest.mark.usefixtures("tripletex_waits_recorded")
def test_admin_pages_are_staff_only(client, readonly_holding, office_key, alice, staff, settings):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"  # the clients page must not need it
    for url in admin_urls(readonly_holding, office_key):
        client.logout()
        anonymous = client.get(url)
        assert anonymous.status_code == 302, url
        assert anonymous.url.startswith("/admin/login/"), url

        client.force_login(alice)  # an admin of a firm, but not staff
        member = client.get(url)
        assert member.status_code == 302, url
        assert member.url.startswith("/admin/login/"), url

        client.force_login(staff)
        assert client.get(url).status_code == 200, url


def test_staff_without_permissions_cannot_use_the_key_pages(client, readonly_holding, office_key):
    clerk = make_user("clerk@dynamik.no", is_staff=True)
    client.force_login(clerk)

    assert client.get(f"/admin/companies/company/{readonly_holding.pk}/change/").status_code == 403
    assert client.get(f"/admin/companies/officekey/{office_key.pk}/clients/").status_code == 403


def change_data(company, **overrides):
    data = {
        "name": company.name,
        "slug": company.slug,
        "accounting_system": "tripletex",
        "key_type": "",
        "replace_key": "",
        "office_key": "",
        "client_company_id": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_company_page_shows_only_the_last_four_characters(client, staff, readonly_holding):
    client.force_login(staff)

    body = client.get(f"/admin/companies/company/{readonly_holding.pk}/change/").content.decode()

    assert demo.READONLY_TOKEN not in body
    assert f"•••• {demo.READONLY_TOKEN[-4:]}" in body
    assert staff.email in body
    assert 'name="replace_key"' in body


def test_replacing_the_key_verifies_it_first(client, staff, readonly_holding, tripletex_sandbox):
    client.force_login(staff)
    url = f"/admin/companies/company/{readonly_holding.pk}/change/"
    before = TripletexConnection.objects.get(company=readonly_holding).token_encrypted

    wrong = client.post(
        url, change_data(readonly_holding, key_type="own", replace_key=demo.OPERATING_TOKEN)
    )

    assert wrong.status_code == 200
    assert wrong.context["adminform"].form.non_field_errors()
    assert TripletexConnection.objects.get(company=readonly_holding).token_encrypted == before
    assert demo.OPERATING_TOKEN not in wrong.content.decode()

    right = client.post(
        url, change_data(readonly_holding, key_type="own", replace_key=demo.HOLDING_TOKEN)
    )

    assert right.status_code == 302
    connection = TripletexConnection.objects.get(company=readonly_holding)
    assert connection.token_last4 == demo.HOLDING_TOKEN[-4:]
    assert connection.status == TripletexConnection.Status.CONNECTED
    assert connection.coverage_problems == []
    assert AuditEvent.objects.filter(
        company=readonly_holding, action="key.replaced", actor=staff
    ).exists()
    for entry in LogEntry.objects.all():
        assert demo.HOLDING_TOKEN not in entry.change_message
        assert demo.HOLDING_TOKEN not in entry.object_repr


def test_removing_the_connection_from_the_company_page(client, staff, readonly_holding):
    client.force_login(staff)

    response = client.post(
        f"/admin/companies/company/{readonly_holding.pk}/change/",
        change_data(readonly_holding, remove_connection="on"),
    )

    assert response.status_code == 302
    assert not TripletexConnection.objects.filter(company=readonly_holding).exists()
    assert AuditEvent.objects.filter(company=readonly_holding, action="key.removed").exists()


def _memberships(company, roles):
    """The company page's inline rows: {membership: role} as posted."""
    data = {
        "memberships-TOTAL_FORMS": str(len(roles)),
        "memberships-INITIAL_FORMS": str(len(roles)),
    }
    for n, (membership, role) in enumerate(roles.items()):
        data[f"memberships-{n}-id"] = str(membership.pk)
        data[f"memberships-{n}-company"] = str(company.pk)
        data[f"memberships-{n}-role"] = role
    return data


def test_membership_changes_are_audited(client, staff, acme, alice, fiona):
    client.force_login(staff)
    alice_m = Membership.objects.get(user=alice, company=acme)
    fiona_m = Membership.objects.get(user=fiona, company=acme)
    data = change_data(acme, **_memberships(acme, {alice_m: "admin", fiona_m: "accountant"}))

    response = client.post(f"/admin/companies/company/{acme.pk}/change/", data)

    assert response.status_code == 302
    assert Membership.objects.get(pk=fiona_m.pk).role == "accountant"
    event = AuditEvent.objects.get(company=acme, action="membership.role_changed")
    assert event.actor == staff
    assert fiona.email in event.detail


def test_the_company_page_keeps_an_administrator(client, staff, acme, alice, fiona):
    client.force_login(staff)
    alice_m = Membership.objects.get(user=alice, company=acme)
    fiona_m = Membership.objects.get(user=fiona, company=acme)
    demote = _memberships(acme, {alice_m: "finance", fiona_m: "finance"})
    remove = {
        **_memberships(acme, {alice_m: "admin", fiona_m: "finance"}),
        "memberships-0-DELETE": "on",
    }

    for rows in (demote, remove):
        response = client.post(
            f"/admin/companies/company/{acme.pk}/change/", change_data(acme, **rows)
        )
        assert response.status_code == 200
        assert "minst én administrator" in response.content.decode()
    assert Membership.objects.get(pk=alice_m.pk).role == "admin"


def test_audit_log_is_read_only(client, staff, readonly_holding):
    client.force_login(staff)
    event = AuditEvent.objects.filter(company=readonly_holding).first()

    assert client.get("/admin/companies/auditevent/add/").status_code == 403
    page = client.get(f"/admin/companies/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="action"' not in page.content
    assert client.post(f"/admin/companies/auditevent/{event.pk}/delete/").status_code == 403


def test_adding_an_office_key_verifies_and_stores_it(client, staff, tripletex_sandbox):
    client.force_login(staff)

    response = client.post(
        "/admin/companies/officekey/add/", {"name": "Tallknuserne", "key": demo.OFFICE_TOKEN}
    )

    assert response.status_code == 302
    office_key = OfficeKey.objects.get()
    assert office_key.org_number == demo.OFFICE.org_number
    assert office_key.tripletex_company_id == demo.OFFICE.company_id
    assert office_key.token_last4 == demo.OFFICE_TOKEN[-4:]
    page = client.get(f"/admin/companies/officekey/{office_key.pk}/change/").content.decode()
    assert demo.OFFICE_TOKEN not in page
    assert 'data-testid="office-add-clients"' in page


def test_a_wrong_office_key_is_not_stored(client, staff, tripletex_sandbox):
    client.force_login(staff)

    response = client.post(
        "/admin/companies/officekey/add/", {"name": "Tallknuserne", "key": "wrong-office-key"}
    )

    assert response.status_code == 200
    assert not OfficeKey.objects.exists()


def test_add_clients_from_office_key_creates_the_selected_firms(
    client, staff, tripletex_sandbox, office_key
):
    client.force_login(staff)
    url = f"/admin/companies/officekey/{office_key.pk}/clients/"

    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="office-client-{demo.CLIENT_A.company_id}"' in body
    assert f'data-testid="office-client-{demo.CLIENT_B.company_id}"' in body
    assert "924 500 034" in body

    response = client.post(url, {"clients": [demo.CLIENT_A.company_id, demo.CLIENT_B.company_id]})

    assert response.status_code == 302
    created = Company.objects.order_by("org_number")
    assert [c.org_number for c in created] == [demo.CLIENT_A.org_number, demo.CLIENT_B.org_number]
    for company in created:
        connection = company.tripletex
        assert connection.office_key == office_key
        assert connection.status == TripletexConnection.Status.CONNECTED
    assert {c.tripletex.tripletex_company_id for c in created} == {
        demo.CLIENT_A.company_id,
        demo.CLIENT_B.company_id,
    }
    again = client.get(url).content.decode()
    assert again.count('data-testid="office-client-existing"') == 2
    assert 'name="clients"' not in again


def test_office_key_action_leads_to_the_clients_page(client, staff, office_key):
    client.force_login(staff)

    response = client.post(
        "/admin/companies/officekey/",
        {"action": "add_clients_action", "_selected_action": [office_key.pk]},
    )

    assert response.status_code == 302
    assert response.url == f"/admin/companies/officekey/{office_key.pk}/clients/"


@pytest.mark.usefixtures("tripletex_waits_recorded")
def test_office_clients_page_explains_when_tripletex_is_down(client, staff, office_key, settings):
    settings.TRIPLETEX_BASE_URL = "http://127.0.0.1:9/v2"
    client.force_login(staff)

    page = client.get(f"/admin/companies/officekey/{office_key.pk}/clients/")

    assert page.status_code == 200
    assert b'data-testid="office-clients-error"' in page.content


def test_an_office_key_cannot_be_replaced_by_another_companys_key(client, staff, tripletex_sandbox):
    client.force_login(staff)
    client.post(
        "/admin/companies/officekey/add/", {"name": "Tallknuserne", "key": demo.OFFICE_TOKEN}
    )
    office_key = OfficeKey.objects.get()
    stored = office_key.token_encrypted

    response = client.post(
        f"/admin/companies/officekey/{office_key.pk}/change/",
        {"name": "Tallknuserne", "key": demo.HOLDING_TOKEN},
    )

    assert response.status_code == 200
    office_key.refresh_from_db()
    assert office_key.token_encrypted == stored

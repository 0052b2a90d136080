"""A firm's administrators manage its people: invite by e-mail, change roles, remove.
The company always keeps an administrator, and nobody reaches another company's members."""

import pytest
from django.core import mail
from django.urls import reverse

from companies.models import AuditEvent, Invitation, Membership, Role, User

pytestmark = pytest.mark.django_db


def _members_url(company) -> str:
    return reverse("companies:members", kwargs={"company_slug": company.slug})


def _change_url(company, membership) -> str:
    return reverse(
        "companies:member_change", kwargs={"company_slug": company.slug, "pk": membership.pk}
    )


def _role(company, user) -> str | None:
    found = Membership.objects.filter(company=company, user=user).first()
    return found.role if found else None


def test_inviting_sends_the_link_and_adds_nobody_yet(
    client, alice, acme, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_members_url(acme), {"email": " Kari@Acme.no ", "role": "finance"})
    assert response.status_code == 302
    assert not User.objects.filter(email="kari@acme.no").exists()  # made when she accepts
    invitation = Invitation.objects.get(company=acme)
    assert (invitation.email, invitation.role) == ("kari@acme.no", Role.FINANCE)
    (message,) = mail.outbox
    assert message.to == ["kari@acme.no"]
    assert "/konto/invitasjon/" in message.body
    page = client.get(_members_url(acme)).content.decode()
    assert "Invitasjon sendt til kari@acme.no." in page
    assert "Invitasjonen er ikke tatt i bruk" in page
    assert AuditEvent.objects.filter(company=acme, action="invitation.sent").exists()


def test_inviting_twice_is_refused(client, alice, acme, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_members_url(acme), {"email": "kari@acme.no", "role": "finance"})
        response = client.post(_members_url(acme), {"email": "KARI@acme.no", "role": "admin"})
    assert response.status_code == 400
    assert "er allerede invitert" in response.content.decode()
    assert Invitation.objects.filter(company=acme).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"email": "not-an-email", "role": "finance"}, "gyldig e-postadresse"),
        ({"email": "ny@acme.no", "role": "owner"}, "Velg et gyldig valg"),
        ({"email": "FIONA@acme.no", "role": "admin"}, "er allerede bruker i dette selskapet"),
    ],
)
def test_bad_invitations_say_why_and_change_nothing(client, alice, acme, fiona, data, problem):
    client.force_login(alice)
    before = list(Membership.objects.order_by("pk").values_list("user_id", "role"))
    response = client.post(_members_url(acme), data)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert list(Membership.objects.order_by("pk").values_list("user_id", "role")) == before
    assert not User.objects.filter(email="ny@acme.no").exists()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_roles_change_and_the_last_administrator_stays(client, alice, acme, fiona):
    client.force_login(alice)
    fiona_m = Membership.objects.get(company=acme, user=fiona)
    client.post(_change_url(acme, fiona_m), {"action": "role", "role": "admin"})
    assert _role(acme, fiona) == Role.ADMIN
    # With two administrators alice may step down; fiona, now alone, may not.
    alice_m = Membership.objects.get(company=acme, user=alice)
    client.post(_change_url(acme, alice_m), {"action": "role", "role": "finance"})
    assert _role(acme, alice) == Role.FINANCE
    client.force_login(fiona)
    response = client.post(_change_url(acme, fiona_m), {"action": "role", "role": "accountant"})
    assert response.status_code == 302
    assert _role(acme, fiona) == Role.ADMIN
    page = client.get(_members_url(acme)).content.decode()
    assert "Selskapet må ha minst én administrator." in page
    response = client.post(_change_url(acme, fiona_m), {"action": "role", "role": "owner"})
    assert _role(acme, fiona) == Role.ADMIN


def test_removing_a_member_takes_their_access_not_their_account(client, alice, acme, anders):
    client.force_login(alice)
    anders_m = Membership.objects.get(company=acme, user=anders)
    client.post(_change_url(acme, anders_m), {"action": "remove"})
    assert _role(acme, anders) is None
    assert User.objects.filter(pk=anders.pk).exists()
    assert AuditEvent.objects.filter(company=acme, action="membership.removed").exists()
    client.force_login(anders)
    assert client.get(f"/c/{acme.slug}/").status_code == 404
    # Nobody removes themselves (and so the last administrator cannot go either).
    client.force_login(alice)
    alice_m = Membership.objects.get(company=acme, user=alice)
    client.post(_change_url(acme, alice_m), {"action": "remove"})
    assert _role(acme, alice) == Role.ADMIN


def test_only_administrators_and_only_their_own_company(client, acme, bergen, alice, fiona, bob):
    bob_m = Membership.objects.get(company=bergen, user=bob)
    client.force_login(alice)
    # Bergen's member through Acme's URL: not found, and untouched.
    response = client.post(_change_url(acme, bob_m), {"action": "remove"})
    assert response.status_code == 404
    assert _role(bergen, bob) is not None
    client.force_login(fiona)
    assert (
        client.post(_members_url(acme), {"email": "x@acme.no", "role": "admin"}).status_code == 403
    )
    alice_m = Membership.objects.get(company=acme, user=alice)
    assert client.post(_change_url(acme, alice_m), {"action": "remove"}).status_code == 403
    assert not Invitation.objects.filter(email="x@acme.no").exists()

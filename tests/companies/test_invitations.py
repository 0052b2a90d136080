"""The invitation e-mail and its one-time link to choose a password."""

import re

from django.core import mail

from companies.invitations import invitation_send
from companies.models import User

NEW_PASSWORD = "fjellvik-lyngen-otter-77"


def invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/konto/invitasjon/\S+/)", message.body).group(1)


def test_invitation_link_sets_password_once(client, acme, staff):
    user = User.objects.create_user(email="ny@acme.no", password=None)
    invitation_send(user=user, company=acme, by=staff)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ny@acme.no"]
    assert acme.name in message.body
    assert message.alternatives  # an HTML part too
    path = invitation_path(message)

    landing = client.get(path)
    assert landing.status_code == 302  # the token moves into the session, out of the URL
    form_page = client.get(landing.url)
    assert form_page.status_code == 200
    assert b'data-testid="invitation-form"' in form_page.content
    done = client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session.get("_auth_user_id") == str(user.pk)  # logged in straight away

    client.logout()
    reused = client.get(path, follow=True)
    assert reused.status_code == 200
    assert b'data-testid="invitation-invalid"' in reused.content
    assert b'data-testid="invitation-form"' not in reused.content


def test_mismatched_passwords_keep_the_link_usable(client, acme):
    user = User.objects.create_user(email="ny@acme.no", password=None)
    invitation_send(user=user, company=acme)
    landing = client.get(invitation_path(mail.outbox[0]))

    response = client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": "x"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_tampered_link_is_refused(client, acme):
    user = User.objects.create_user(email="ny@acme.no", password=None)
    invitation_send(user=user, company=acme)
    path = invitation_path(mail.outbox[0])
    bad = re.sub(r"/([^/]+)/$", "/0-0000000000000000/", path)

    response = client.get(bad)

    assert response.status_code == 200
    assert b'data-testid="invitation-invalid"' in response.content


def test_staff_can_resend_invitations_to_users_without_a_password(client, staff, acme, alice):
    from companies.models import AuditEvent
    from companies.services import membership_set

    waiting = User.objects.create_user(email="venter@acme.no", password=None)
    membership_set(company=acme, user=waiting, role="finance")
    client.force_login(staff)

    response = client.post(
        "/admin/companies/user/",
        {"action": "send_invitations", "_selected_action": [waiting.pk, alice.pk]},
    )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["venter@acme.no"]]  # alice has a password already
    assert AuditEvent.objects.filter(action="user.invited", actor=staff, company=acme).exists()

"""Invitations: the e-mail and its link, and access only after the person accepts.

An invitation is always an invitation (issue 15, item 6): inviting an address with an account and
one without gives the inviter the same page, the same status, the same e-mail and the same work;
neither gets access before accepting; withdrawing a pending invitation kills its link.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.invitations import InvitationError, invitation_accept, invitation_create
from companies.models import AuditEvent, Invitation, Membership, Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fjellvik-lyngen-otter-77"


def invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/konto/invitasjon/\S+/)", message.body).group(1)


def _members_url(company) -> str:
    return reverse("companies:members", kwargs={"company_slug": company.slug})


def _invite(company, email, role="finance", by=None, capture=None):
    with capture(execute=True):
        return invitation_create(company=company, email=email, role=role, by=by)


def _answer(page, email: str) -> str:
    """The success message and the invitation's row for `email`, with the address taken out."""
    html = page.content.decode()
    message = re.search(r'<div class="messages".*?</div>', html, re.S)
    row = re.search(
        rf'<tr data-testid="invitation" data-email="{re.escape(email)}">.*?</tr>', html, re.S
    )
    assert message is not None
    assert row is not None
    text = message.group(0) + row.group(0)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r"<td>[^<]*\d\d:\d\d[^<]*</td>", "<td>when</td>", text)
    text = re.sub(r"/invitasjoner/\d+/", "/invitasjoner/<pk>/", text)
    return text.replace(email, "<email>")


def _invite_through_page(client, company, email, capture):
    with capture(execute=True), CaptureQueriesContext(connection) as queries:
        response = client.post(_members_url(company), {"email": email, "role": "accountant"})
    page = client.get(response.url)
    return response, page, len(queries)


# ---- the same answer for every address ----------------------------------------------------------


def test_known_and_unknown_addresses_get_the_same_answer(
    client, alice, acme, bob, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    unknown = "nobody-yet@example.no"
    known_response, known_page, known_queries = _invite_through_page(
        client, acme, bob.email, django_capture_on_commit_callbacks
    )
    unknown_response, unknown_page, unknown_queries = _invite_through_page(
        client, acme, unknown, django_capture_on_commit_callbacks
    )

    assert known_response.status_code == unknown_response.status_code == 302
    assert known_response.url == unknown_response.url
    # What the page after it says about the address: the message and its row, word for word.
    assert _answer(known_page, bob.email) == _answer(unknown_page, unknown)
    # The same work, query for query (the deterministic side of "the same time").
    assert known_queries == unknown_queries
    # The same e-mail apart from the address and the link.
    known_mail, unknown_mail = mail.outbox
    assert known_mail.to == [bob.email]
    assert unknown_mail.to == [unknown]
    assert known_mail.subject == unknown_mail.subject

    def body(m, email):
        return re.sub(r"/konto/invitasjon/\S+/", "<link>", m.body).replace(email, "<email>")

    assert body(known_mail, bob.email) == body(unknown_mail, unknown)
    # Neither address got an account, and neither is a member.
    assert not User.objects.filter(email=unknown).exists()
    assert not Membership.objects.filter(company=acme, user=bob).exists()


def test_the_firm_sees_only_what_it_typed_until_acceptance(
    client, alice, acme, bob, django_capture_on_commit_callbacks
):
    bob.last_name = "Bergersen"
    bob.last_login = timezone.now() - timedelta(days=2)
    bob.save()
    client.force_login(alice)
    _invite_through_page(client, acme, bob.email, django_capture_on_commit_callbacks)

    page = client.get(_members_url(acme)).content.decode()

    assert 'data-testid="invitation" data-email="bob@bergen.no"' in page
    assert 'data-testid="member" data-email="bob@bergen.no"' not in page
    assert "Bergersen" not in page
    assert "Bob" not in page


def test_no_access_before_accepting(client, alice, acme, bob, django_capture_on_commit_callbacks):
    _invite(acme, bob.email, "admin", alice, django_capture_on_commit_callbacks)

    client.force_login(bob)
    assert client.get(f"/c/{acme.slug}/").status_code == 404
    assert not Membership.objects.filter(company=acme, user=bob).exists()


# ---- accepting ----------------------------------------------------------------------------------


def test_a_new_person_chooses_a_password_and_becomes_a_member(
    client, acme, alice, django_capture_on_commit_callbacks
):
    _invite(acme, "ny@acme.no", "accountant", alice, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.to == ["ny@acme.no"]
    assert acme.name in message.body
    assert "alice@acme.no" in message.body  # who invites
    assert message.alternatives  # an HTML part too
    path = invitation_path(message)
    assert not User.objects.filter(email="ny@acme.no").exists()

    landing = client.get(path)
    assert landing.status_code == 302  # the token moves into the session, out of the URL
    assert path.split("/")[-2] not in landing.url
    form_page = client.get(landing.url)
    assert b'data-testid="invitation-form"' in form_page.content
    done = client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done.url == f"/c/{acme.slug}/"
    user = User.objects.get(email="ny@acme.no")
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(company=acme, user=user).role == Role.ACCOUNTANT
    assert client.session.get("_auth_user_id") == str(user.pk)  # logged in straight away
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED
    assert AuditEvent.objects.filter(company=acme, action="invitation.accepted").exists()

    client.logout()
    reused = client.get(path, follow=True)
    assert b'data-testid="invitation-invalid"' in reused.content
    assert b'data-testid="invitation-form"' not in reused.content


def test_mismatched_passwords_keep_the_link_usable(
    client, acme, django_capture_on_commit_callbacks
):
    _invite(acme, "ny@acme.no", capture=django_capture_on_commit_callbacks)
    landing = client.get(invitation_path(mail.outbox[0]))

    response = client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": "x"})

    assert response.status_code == 200
    assert not User.objects.filter(email="ny@acme.no").exists()
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_an_existing_user_logs_in_then_accepts(
    client, acme, alice, bob, django_capture_on_commit_callbacks
):
    _invite(acme, bob.email, "accountant", alice, django_capture_on_commit_callbacks)
    landing = client.get(invitation_path(mail.outbox[0]))
    anonymous = client.get(landing.url).content.decode()
    assert 'data-state="log_in"' in anonymous
    assert 'data-testid="invitation-form"' not in anonymous  # no password to choose
    # A password posted anyway changes nothing.
    client.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    bob.refresh_from_db()
    assert bob.check_password(PASSWORD)

    login = client.post(
        reverse("login") + "?next=" + landing.url,
        {"username": bob.email, "password": PASSWORD, "next": landing.url},
    )
    assert login.status_code == 302
    client.force_login(bob)  # and past two-step login (an admin of Bergen)
    ask = client.get(landing.url).content.decode()
    assert 'data-state="answer"' in ask
    assert not Membership.objects.filter(company=acme, user=bob).exists()

    done = client.post(landing.url, {"answer": "accept"})

    assert done.url == f"/c/{acme.slug}/"
    assert Membership.objects.get(company=acme, user=bob).role == Role.ACCOUNTANT
    assert client.get(f"/c/{acme.slug}/").status_code == 200


def test_an_existing_user_may_decline(client, acme, alice, bob, django_capture_on_commit_callbacks):
    _invite(acme, bob.email, "admin", alice, django_capture_on_commit_callbacks)
    client.force_login(bob)
    landing = client.get(invitation_path(mail.outbox[0]))

    client.post(landing.url, {"answer": "decline"})

    assert not Membership.objects.filter(company=acme, user=bob).exists()
    assert Invitation.objects.get().status == Invitation.Status.DECLINED


def test_someone_logged_in_with_another_address_cannot_accept(
    client, acme, alice, bob, django_capture_on_commit_callbacks
):
    _invite(acme, "kari@acme.no", capture=django_capture_on_commit_callbacks)
    client.force_login(bob)
    landing = client.get(invitation_path(mail.outbox[0]))

    page = client.get(landing.url).content.decode()
    client.post(landing.url, {"answer": "accept"})

    assert 'data-state="other_account"' in page
    assert not Membership.objects.filter(company=acme, user=bob).exists()
    with pytest.raises(InvitationError):
        invitation_accept(invitation=Invitation.objects.get(), user=bob)


def test_an_expired_link_is_refused(client, acme, settings, django_capture_on_commit_callbacks):
    invitation = _invite(acme, "ny@acme.no", capture=django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    )

    response = client.get(invitation_path(mail.outbox[0]))

    assert b'data-testid="invitation-invalid"' in response.content


def test_tampered_link_is_refused(client, acme, django_capture_on_commit_callbacks):
    _invite(acme, "ny@acme.no", capture=django_capture_on_commit_callbacks)
    path = invitation_path(mail.outbox[0])

    response = client.get(re.sub(r"/([^/]+)/$", "/not-the-token/", path))

    assert b'data-testid="invitation-invalid"' in response.content
    assert Invitation.objects.get().token_hash not in path  # only the hash is stored


def test_the_plain_text_part_has_no_html_entities(acme, alice, django_capture_on_commit_callbacks):
    acme.name = "Berg & Sønn's <Holding> AS"
    acme.save()
    _invite(acme, "ny@acme.no", by=alice, capture=django_capture_on_commit_callbacks)
    (message,) = mail.outbox

    assert "Berg & Sønn's <Holding> AS" in message.body
    assert "Berg & Sønn's <Holding> AS" in message.subject
    assert "&amp;" not in message.body
    assert "&#x27;" not in message.body
    assert "&lt;" in message.alternatives[0][0]  # the HTML part stays escaped


# ---- the firm withdraws or sends again ----------------------------------------------------------


def _invitation_url(company, invitation) -> str:
    return reverse(
        "companies:invitation_change", kwargs={"company_slug": company.slug, "pk": invitation.pk}
    )


def test_removing_a_pending_invitee_revokes_the_link(
    client, acme, alice, django_capture_on_commit_callbacks
):
    invitation = _invite(acme, "ny@acme.no", by=alice, capture=django_capture_on_commit_callbacks)
    path = invitation_path(mail.outbox[0])
    other = client.__class__()
    landing = other.get(path)  # opened before the removal, answered after it
    client.force_login(alice)

    response = client.post(_invitation_url(acme, invitation), {"action": "revoke"})

    assert response.status_code == 302
    assert Invitation.objects.get().status == Invitation.Status.REVOKED
    assert b'data-testid="invitation-invalid"' in other.get(path).content
    answer = other.post(landing.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert b'data-testid="invitation-invalid"' in answer.content
    assert not User.objects.filter(email="ny@acme.no").exists()
    assert AuditEvent.objects.filter(company=acme, action="invitation.revoked").exists()
    assert 'data-email="ny@acme.no"' not in client.get(_members_url(acme)).content.decode()


def test_sending_again_replaces_the_link(client, acme, alice, django_capture_on_commit_callbacks):
    invitation = _invite(acme, "ny@acme.no", by=alice, capture=django_capture_on_commit_callbacks)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_invitation_url(acme, invitation), {"action": "resend"})

    first, second = (invitation_path(m) for m in mail.outbox)
    assert first != second
    visitor = client.__class__()
    assert b'data-testid="invitation-invalid"' in visitor.get(first).content
    assert visitor.get(second).status_code == 302


def test_another_companys_invitation_is_not_found(
    client, acme, bergen, alice, bob, django_capture_on_commit_callbacks
):
    invitation = _invite(bergen, "ny@bergen.no", by=bob, capture=django_capture_on_commit_callbacks)
    client.force_login(alice)

    response = client.post(_invitation_url(acme, invitation), {"action": "revoke"})

    assert response.status_code == 404
    assert Invitation.objects.get().status == Invitation.Status.PENDING


# ---- staff --------------------------------------------------------------------------------------


def test_staff_invite_and_withdraw_in_the_admin(
    client, staff, acme, bob, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/companies/invitation/add/",
            {"company": acme.pk, "email": bob.email, "role": "finance"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert [m.to for m in mail.outbox] == [[bob.email]]
    assert not Membership.objects.filter(company=acme, user=bob).exists()
    page = client.get(f"/admin/companies/invitation/{invitation.pk}/change/").content.decode()
    assert invitation.token_hash not in page

    client.post(
        "/admin/companies/invitation/",
        {"action": "revoke_invitations", "_selected_action": [invitation.pk]},
    )
    assert Invitation.objects.get().status == Invitation.Status.REVOKED


def test_staff_cannot_add_members_directly(client, staff, acme, alice, bob):
    client.force_login(staff)
    assert client.get("/admin/companies/membership/add/").status_code == 403
    page = client.get(f"/admin/companies/company/{acme.pk}/change/").content.decode()
    assert "memberships-TOTAL_FORMS" in page
    assert "memberships-__prefix__" not in page  # no empty row to add someone with


def test_staff_cannot_take_the_last_administrator(client, staff, acme, alice):
    client.force_login(staff)
    membership = Membership.objects.get(company=acme, user=alice)

    response = client.post(
        f"/admin/companies/membership/{membership.pk}/change/", {"role": "finance"}
    )

    assert response.status_code == 200  # the form says why
    assert "minst én administrator" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    delete = client.get(f"/admin/companies/membership/{membership.pk}/delete/")
    assert delete.status_code == 403

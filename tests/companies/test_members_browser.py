"""A company's people in Chromium: the administrator reads the members page, invites a colleague,
changes a role and removes a member, and a newly invited person accepts by choosing a password
from the invitation link and lands logged in with the company in view."""

import re

import pytest
from django.core import mail

from companies.invitations import invitation_create
from companies.models import Invitation, Membership, User
from companies.services import membership_set
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.mfa import enrol_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "fjellvik-lyngen-otter-77"


def _member_rows(page) -> dict[str, list[str]]:
    """The members table as {e-mail: [e-mail, name, role, last login]} (the role as chosen)."""
    out = {}
    for row in page.locator("tr[data-testid=member]").all():
        texts = [t.strip() for t in row.locator("td").all_inner_texts()]
        role = row.locator("[data-testid=member-role] option:checked").inner_text()
        out[texts[0]] = [texts[0], texts[1], role, texts[3]]
    return out


def test_admin_sees_the_members_and_their_roles(page, acme, bergen, alice, fiona, anders, bob):
    log_in(page, alice.email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/c/{acme.slug}/")
    page.click(".companybar nav.tabs >> text=Brukere")
    page.wait_for_url(f"**/c/{acme.slug}/brukere/")
    assert page.locator(".companybar nav.tabs a[aria-current=page]").inner_text() == "Brukere"
    save_screenshot(page, "members")

    rows = _member_rows(page)
    assert list(rows) == ["alice@acme.no", "anders@acme.no", "fiona@acme.no"]  # by e-mail
    assert rows["alice@acme.no"][1:3] == ["Alice", "Administrator"]
    assert rows["fiona@acme.no"][1:3] == ["Fiona", "Økonomi"]
    assert rows["anders@acme.no"][1:3] == ["Anders", "Regnskapsfører"]
    assert rows["alice@acme.no"][3] != "–"  # she has just logged in
    assert rows["anders@acme.no"][3] == "–"
    assert "bob@bergen.no" not in page.content()  # another company's people stay hidden

    # A role given in the staff admin shows on the next visit.
    membership_set(company=acme, user=anders, role="finance")
    page.reload()
    assert (
        page.locator("tr[data-email='anders@acme.no'] [data-testid=member-role]").input_value()
        == "finance"
    )

    # Alice invites a colleague: an e-mail with the link and a row saying it is pending (no
    # account and no access until kari accepts).
    page.fill("#id_email", "kari@acme.no")
    page.select_option("#id_role", "accountant")
    page.click("[data-testid=invite-submit]")
    page.wait_for_selector(".message.success")
    assert "Invitasjon sendt til kari@acme.no." in page.inner_text(".messages")
    kari_row = "tr[data-testid=invitation][data-email='kari@acme.no']"
    assert "Invitasjonen er ikke tatt i bruk" in page.inner_text(kari_row)
    assert [m.to for m in mail.outbox] == [["kari@acme.no"]]
    assert not User.objects.filter(email="kari@acme.no").exists()
    save_screenshot(page, "members-invited")

    # A bad e-mail is refused with a message, and nothing is added.
    page.fill("#id_email", "ikke-en-adresse")
    page.click("[data-testid=invite-submit]")
    assert "gyldig e-postadresse" in page.inner_text("[data-testid=invite]")
    assert not User.objects.filter(email="ikke-en-adresse").exists()

    # She makes anders an accountant again, then removes him (after confirming).
    anders_row = "tr[data-email='anders@acme.no']"
    page.select_option(f"{anders_row} [data-testid=member-role]", "accountant")
    page.click(f"{anders_row} [data-testid=member-role-save]")
    page.wait_for_selector(".message.success")
    assert Membership.objects.get(company=acme, user=anders).role == "accountant"
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(f"{anders_row} [data-testid=member-remove]")
    assert Membership.objects.filter(company=acme, user=anders).exists()  # dismissed
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"{anders_row} [data-testid=member-remove]")
    page.wait_for_selector(".message.success")
    assert not Membership.objects.filter(company=acme, user=anders).exists()
    assert page.locator(anders_row).count() == 0
    # Her own row has no remove button.
    assert page.locator("tr[data-email='alice@acme.no'] [data-testid=member-remove]").count() == 0
    save_screenshot(page, "members-managed")

    # Another company's members page is simply not there for alice.
    response = page.goto(f"/c/{bergen.slug}/brukere/")
    assert response.status == 404


def test_members_page_is_closed_to_other_roles(page, acme, alice, fiona):
    log_in(page, fiona.email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/c/{acme.slug}/")
    assert page.locator(".companybar nav.tabs >> text=Brukere").count() == 0
    response = page.goto(f"/c/{acme.slug}/brukere/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Ikke tillatt"
    assert "alice@acme.no" not in page.content()
    save_screenshot(page, "members-forbidden")


def _invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/konto/invitasjon/\S+/)", message.body).group(1)


def test_invited_person_sets_a_password_and_lands_in_the_company(page, acme, bergen, alice):
    invitation_create(company=acme, email="kari@acme.no", role="finance", by=alice)
    invitation = Invitation.objects.get()
    # The e-mail goes out on commit (a transactional test: the create above has committed).
    assert [m.to for m in mail.outbox] == [["kari@acme.no"]]
    path = _invitation_path(mail.outbox[0])

    page.goto(path)
    page.wait_for_selector("[data-testid=invitation-form]")
    assert "kari@acme.no" in page.inner_text("[data-testid=invitation]")
    assert page.url.endswith("/konto/invitasjon/")
    assert path.split("/")[-2] not in page.url  # the token moved into the session
    save_screenshot(page, "invitation-form")

    # Two different passwords: explained on the page, nothing stored, the link still works.
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD + "x")
    page.click("[data-testid=invitation-form] button[type=submit]")
    error = page.locator("#id_new_password2 ~ p.message.error")
    error.wait_for()
    assert error.inner_text().strip()
    save_screenshot(page, "invitation-mismatch")
    assert not User.objects.filter(email="kari@acme.no").exists()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING

    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("[data-testid=invitation-form] button[type=submit]")
    # A finance user sets up two-step login before anything else.
    page.wait_for_url("**/konto/tofaktor/ny/**")
    enrol_in_browser(page)
    page.wait_for_url(f"**/c/{acme.slug}/")
    assert "Acme Holding AS" in page.locator("[data-testid=company-name]").inner_text()
    save_screenshot(page, "invitation-done")
    kari = User.objects.get(email="kari@acme.no")
    assert kari.check_password(NEW_PASSWORD)
    assert kari.last_login is not None
    page.goto("/")
    companies = page.locator("[data-testid=company-row]")
    assert companies.count() == 1
    assert companies.first.get_attribute("data-company") == acme.slug
    assert "Økonomi" in companies.first.inner_text()
    assert page.goto(f"/c/{bergen.slug}/").status == 404
    assert Membership.objects.filter(user=kari).count() == 1

    # The link works once: opened again (logged out), it says so and offers no form.
    page.context.clear_cookies()
    page.goto(path)
    page.wait_for_selector("[data-testid=invitation-invalid]")
    assert page.locator("[data-testid=invitation-form]").count() == 0
    save_screenshot(page, "invitation-used")

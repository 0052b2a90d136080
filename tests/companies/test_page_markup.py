"""What every page gives assistive technology (issue 18): a skip link to the main content, the
banner, navigation, main and footer landmarks with the firm's heading block inside the banner,
one <h1> naming the page, the firm in the title, flash messages in a live region on a wrapper (a
list item takes no role), and a company switcher that acts only on "Gå"."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_firm_page_has_a_skip_link_landmarks_and_one_h1(client, alice, acme):
    html = _page(
        client, alice, reverse("companies:company_home", kwargs={"company_slug": acme.slug})
    )
    body = html[html.index("<body>") :]
    # The skip link is the first thing in the body, pointing at <main id="main">.
    assert re.match(r'<body>\s*<a class="skip-link" href="#main">Hopp til hovedinnhold</a>', body)
    assert '<main class="page" id="main" tabindex="-1">' in html
    # The firm's heading block is inside the banner (<header>), not outside every landmark.
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert 'data-testid="company-name">Acme Holding AS<' in header
    assert 'class="tabs"' in header
    assert html.count("<h1") == 1
    assert "<h1>Oversikt</h1>" in html
    assert "<title>Oversikt · Acme Holding AS · Dynamik</title>" in html


def test_the_switcher_has_a_go_button_and_no_autosubmit(client, alice, acme):
    html = _page(
        client, alice, reverse("companies:company_home", kwargs={"company_slug": acme.slug})
    )
    switcher = html[
        html.index('class="switcher"') : html.index("</form>", html.index('class="switcher"'))
    ]
    assert "data-autosubmit" not in switcher
    assert (
        '<button type="submit" class="button small switcher-go" data-testid="switcher-go">Gå</button>'
        in switcher
    )
    assert "<noscript>" not in switcher


def test_flash_messages_are_a_live_region_on_a_wrapper():
    request = RequestFactory().get("/")
    request.session = {}
    storage = FallbackStorage(request)
    storage.add(constants.SUCCESS, "Saved.")
    html = render_to_string("_messages.html", {"messages": storage})
    assert re.search(r'<div class="messages" role="status" aria-live="polite" tabindex="-1"', html)
    assert '<li class="message success">Saved.</li>' in html
    assert '<li class="message success" role=' not in html


def test_the_members_page_has_one_h1_and_named_tables(client, alice, acme):
    html = _page(client, alice, reverse("companies:members", kwargs={"company_slug": acme.slug}))
    assert html.count("<h1") == 1
    assert "<h1>Brukere</h1>" in html
    assert '<caption class="visually-hidden">Brukere</caption>' in html


def _summary(html: str) -> str:
    """The error summary's markup (it is on the page exactly once)."""
    assert html.count("data-error-summary") == 1
    start = html.index('<div class="error-summary"')
    return html[start : html.index("</div>", start)]


def test_an_invitation_link_that_cannot_be_used_is_an_error_summary_with_feil_in_the_title(client):
    response = client.get(reverse("invitation_open", kwargs={"token": "no-such-token"}))
    html = response.content.decode()
    assert re.search(r"<title>\s*Feil: Invitasjon · Dynamik\s*</title>", html)
    summary = _summary(html)
    assert 'role="alert"' in summary
    assert "Invitasjonen kunne ikke åpnes" in summary
    assert "Denne lenken er brukt, trukket tilbake eller utløpt." in summary
    assert 'role="alert"' not in html.replace(summary, "")


def test_the_key_request_lists_every_problem_in_the_shared_summary(client):
    response = client.post(reverse("key_request"), {"users-TOTAL_FORMS": "1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r"<title>\s*Feil: ", html)
    summary = _summary(html)
    # The bot check's reason (the form was not loaded from the page) and the advice about the key.
    assert "<li>" in summary
    assert "Av sikkerhetshensyn blir nøkkelen ikke tatt vare på" in summary
    assert 'role="alert"' not in html.replace(summary, "")


def test_a_paused_address_gets_feil_in_the_title_and_the_reason_in_the_summary(client, monkeypatch):
    from companies.intake import views as intake_views

    class Paused:
        def is_blocked(self, *, email: str, address: str) -> bool:
            return True

    monkeypatch.setattr(intake_views, "intake_throttle", Paused)
    response = client.post(reverse("key_request"), {})
    html = response.content.decode()
    assert response.status_code == 429
    assert re.search(r"<title>\s*Feil: ", html)
    summary = _summary(html)
    assert "Forespørselen ble ikke sendt" in summary
    assert 'data-testid="key-request-throttled"' in html


def test_a_wrong_two_step_code_is_in_the_shared_summary_with_feil_in_the_title(
    client, alice, settings
):
    from tests.companies.test_mfa import VERIFY, password_login
    from tests.mfa import enrol

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    enrol(alice)
    password_login(client, alice)
    response = client.post(VERIFY, {"code": "000000", "next": "/"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"<title>\s*Feil: Totrinnsinnlogging · Dynamik\s*</title>", html)
    summary = _summary(html)
    assert 'role="alert"' in summary
    assert "<li>" in summary
    assert 'role="alert"' not in html.replace(summary, "")

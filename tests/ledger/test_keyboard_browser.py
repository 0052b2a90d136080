"""Usable by keyboard and screen reader, in Chromium.

* The walk with the keyboard alone (Tab, Enter, Space, arrows, typing): log in → firm → P&L →
  open a group → drill down → record a purchase → book it, where a real Celery worker books it into
  the sandbox and the page announces the result in its live status region. On the way: the
  company switcher does not navigate on ArrowDown, the skip link jumps to the main content,
  focus lands on the message after a save.
* A date typed 01.12.2026 in an English browser is 1 December.
* At 200 % zoom (a 720 px wide window) neither the firm page nor the sync page scrolls sideways.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.credentials import connection_mark, tripletex_client_for
from ledger.booking import tasks as booking_tasks
from ledger.models import SyncRun, Transaction
from ledger.transactions import dates
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD
from tests.ledger.figures_data import seed_from_tripletex
from tests.ledger.support import reload, vouchers_with
from tests.mfa import enrol, totp_code
from tests.processes import broker_connection, celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _send_to(queue: str):
    def delay(**kwargs):
        with broker_connection("filesystem://") as conn:
            booking_tasks.transaction_book_task.apply_async(
                kwargs=kwargs, queue=queue, connection=conn
            )

    return delay


@pytest.fixture
def keyboard_firm(sandbox_acme, tripletex_sandbox, fiona):
    """Acme on the sandbox's holding company with synced figures and a sync run; fiona (finance)
    records and books."""
    connection_mark(company=sandbox_acme, status="connected")
    today = tripletex_sandbox.store.today()
    with scope(company=sandbox_acme):
        seed_from_tripletex(
            sandbox_acme,
            tripletex_client_for(sandbox_acme),
            datetime.date(today.year - 1, 1, 1),
            today.replace(day=1),
        )
        SyncRun.objects.create(
            company=sandbox_acme,
            trigger="schedule",
            status="succeeded",
            finished_at=timezone.now(),
        )
    return sandbox_acme


def _active(page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement.matches(s)", selector)


def tab_to(page, selector: str, *, limit: int = 80) -> int:
    """Press Tab until the focused element matches `selector`; the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _active(page, selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def _enter_and_wait(page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def _type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_keyboard_walk_from_login_to_booked(
    page, keyboard_firm, fiona, tripletex_sandbox, monkeypatch
):
    company = keyboard_firm
    device = enrol(fiona)
    with celery_worker(broker_url="filesystem://") as worker:
        monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", _send_to(worker.queue))

        # Log in: the e-mail field has focus; type, Tab, type, Enter; then the code.
        page.goto("/konto/logg-inn/")
        assert _active(page, "#id_username")
        page.keyboard.type(fiona.email)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        _enter_and_wait(page)
        assert _active(page, "#id_code")
        page.keyboard.type(totp_code(device))
        _enter_and_wait(page)
        assert page.url.endswith("/")

        # The switcher: ArrowDown only moves the choice (no request, same document); Enter goes.
        tab_to(page, "#switcher-company")
        url = page.url
        switches = []
        page.on("request", lambda r: switches.append(r.url) if "bytt-selskap" in r.url else None)
        page.evaluate("() => { window.stillHere = true; }")
        page.keyboard.press("ArrowDown")
        assert page.locator("#switcher-company").input_value() == company.slug
        page.wait_for_timeout(500)  # time for a submit to start, had ArrowDown sent one
        assert switches == [], "the switcher navigated on ArrowDown"
        assert page.url == url
        assert page.evaluate("() => window.stillHere === true")
        _enter_and_wait(page)
        assert page.url.endswith(f"/c/{company.slug}/")

        # Firm → P&L through its tab.
        tab_to(page, f'nav.tabs a[href="/c/{company.slug}/resultat/"]')
        _enter_and_wait(page)
        assert "/resultat/" in page.url

        # The skip link is the first Tab stop; it moves focus to the main content, so the first
        # group is reached in fewer presses than through the top bar, the firm bar and the tabs.
        page.keyboard.press("Tab")
        assert _active(page, ".skip-link")
        assert page.evaluate("() => document.activeElement.textContent") == "Hopp til hovedinnhold"
        save_screenshot(page, "keyboard-skip-link")
        page.keyboard.press("Enter")
        assert _active(page, "#main")
        via_skip = tab_to(page, '[data-group-toggle="opex"]')
        page.reload()
        without = tab_to(page, '[data-group-toggle="opex"]')
        assert via_skip + 1 < without, (via_skip, without)

        # Open a group: the toggle is a button, and Space opens it (not scrolls the page).
        toggle = page.locator('[data-group-toggle="opex"]')
        assert toggle.evaluate("(e) => e.tagName") == "BUTTON"
        assert toggle.get_attribute("aria-expanded") == "false"
        controls = toggle.get_attribute("aria-controls")
        assert page.locator(f"#{controls}").get_attribute("data-group") == "opex"
        page.keyboard.press("Space")
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.locator('tbody[data-group="opex"] tr.row-account').first.is_visible()
        save_screenshot(page, "keyboard-group-open")

        # Drill down from the group's first account amount.
        tab_to(page, 'tbody[data-group="opex"] tr.row-account td a')
        _enter_and_wait(page)
        assert "/posteringer/" in page.url

        # Record a purchase: Transactions tab → New securities transaction → type → Enter.
        tab_to(page, f'nav.tabs a[href="/c/{company.slug}/transaksjoner/"]')
        _enter_and_wait(page)
        tab_to(page, "[data-testid=new-transaction]")
        _enter_and_wait(page)
        _type_into(page, "#id_instrument_name", "Equinor ASA")
        _type_into(page, "#id_isin", "NO0010096985")
        _type_into(page, "#id_quantity", "100")
        _type_into(page, "#id_amount", "25 000,00")
        _enter_and_wait(page)  # Enter in a text field submits the form
        assert page.locator("[data-testid=preview]").is_visible()
        # After the save, focus is on the message saying so (a live region).
        assert _active(page, "[data-messages]")
        assert page.locator("[data-messages]").get_attribute("role") == "status"
        assert "Lagret" in page.locator("[data-messages]").inner_text()

        # Book: the result is said in the live status region, and focus goes there.
        tab_to(page, "[data-testid=book]")
        _enter_and_wait(page)
        region = page.locator("[data-booking-status]")
        assert region.get_attribute("role") == "status"
        page.locator("[data-booking-announce]").filter(has_text="Bokført").wait_for(timeout=60_000)
        assert _active(page, "[data-booking-status]")
        announced = region.inner_text()
        save_screenshot(page, "keyboard-booked")

    with scopes_disabled():
        txn = Transaction.objects.get(company=company)
    row = reload(txn)
    assert row.status == "booked"
    assert f"Bilag {row.voucher_number}/{row.voucher_year}" in announced
    assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def _purchase_form(page, company, day: str) -> None:
    page.goto(f"/c/{company.slug}/transaksjoner/ny/")
    page.click("#id_trade_date")
    page.keyboard.press("Control+A")
    page.keyboard.type(day)
    page.fill("#id_instrument_name", "Equinor ASA")
    page.fill("#id_quantity", "10")
    page.fill("#id_amount", "2 500,00")
    with page.expect_navigation():
        page.click("[data-testid=save]")


def _only_transaction(company) -> Transaction:
    with scopes_disabled():
        return Transaction.objects.get(company=company)


def test_a_date_typed_day_first_in_an_english_browser_is_that_day(
    browser, live_server, fiona, acme, local_cache, monkeypatch
):
    monkeypatch.setattr(dates, "today", lambda: datetime.date(2026, 11, 20))
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    try:
        assert page.evaluate("() => navigator.language") == "en-US"
        log_in(page, fiona.email, PASSWORD)
        page.goto(f"/c/{acme.slug}/transaksjoner/ny/")
        field = page.locator("#id_trade_date")
        assert field.get_attribute("type") == "text"  # not the browser's own date input
        _purchase_form(page, acme, "01.12.2026")
        assert page.locator("[data-testid=preview]").is_visible()
        assert page.locator("[data-testid=preview-date]").inner_text() == "01.12.2026"
        save_screenshot(page, "date-en-us-saved")
    finally:
        context.close()
    assert _only_transaction(acme).trade_date == datetime.date(2026, 12, 1)


def test_a_date_far_from_today_is_saved_once_confirmed(page, fiona, acme, local_cache, monkeypatch):
    monkeypatch.setattr(dates, "today", lambda: datetime.date(2026, 11, 20))
    log_in(page, fiona.email, PASSWORD)
    _purchase_form(page, acme, "01.12.2024")
    # Not saved: the summary has focus, the title says so, and the box confirms this date.
    summary = page.locator("[data-error-summary]")
    assert summary.get_attribute("role") == "alert"
    assert _active(page, "[data-error-summary]")
    assert page.title().startswith("Feil: ")
    assert "01.12.2024 er mer enn ett år siden" in summary.inner_text()
    save_screenshot(page, "date-far-confirm")
    with scopes_disabled():
        assert not Transaction.objects.filter(company=acme).exists()
    # The summary's link takes focus to the field; the box is right under it.
    summary.locator('a[href="#id_trade_date"]').click()
    assert _active(page, "#id_trade_date")
    page.check("[data-testid=confirm-date-trade_date]")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert page.locator("[data-testid=preview]").is_visible()
    assert _only_transaction(acme).trade_date == datetime.date(2024, 12, 1)


def test_no_sideways_scrolling_at_200_percent_zoom(browser, live_server, anders, acme):
    """A 1440 px screen at 200 % zoom is a 720 px wide window: the firm page and the sync page fit
    it, the sync log scrolling inside its own box."""
    with scope(company=acme):
        for n in range(3):
            SyncRun.objects.create(
                company=acme,
                trigger="manual",
                status="failed",
                finished_at=timezone.now(),
                error="Tripletex svarte ikke: " + "forbindelsen ble brutt underveis " * 6 + str(n),
            )
    context = browser.new_context(
        base_url=live_server.url, locale="nb-NO", viewport={"width": 720, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, anders.email, PASSWORD)
        for path, name in (
            (f"/c/{acme.slug}/", "zoom-firm"),
            (f"/c/{acme.slug}/synk/", "zoom-sync"),
        ):
            page.goto(path)
            page.locator("[data-testid=sync-log]").wait_for()
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            save_screenshot(page, name)
            assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"
            wrapper = page.locator("[data-testid=sync-log]").locator("xpath=..")
            assert wrapper.get_attribute("tabindex") == "0"  # the keyboard can scroll it too
    finally:
        context.close()

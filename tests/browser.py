"""Playwright driving Debian's Chromium (/usr/bin/chromium) against pytest-django's live server.

Playwright never downloads a browser here. Without Chromium the browser tests skip with a reason,
unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

from tests.requirements import missing

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test.

    From its first call until it stops, Playwright's sync API marks its event loop as running in
    this thread. Django then refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and keeps
    the thread's database connections apart from the ones it uses without a loop. Starting
    Playwright per test keeps all of that to the browser tests; a session-wide one would leave it
    on for every test after the first browser test.
    """
    if not CHROMIUM.exists():
        missing("browser", f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # Connections opened while the loop ran are invisible once it stops: close them now.
        connections.close_all()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context on the live server, Norwegian locale; a screenshot is kept on failure."""
    context = browser.new_context(
        base_url=live_server.url, locale="nb-NO", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def save_screenshot(page, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, email: str, password: str) -> None:
    """Log in through the login form, and through the second step for a user who has or needs
    one: their authenticator is set up beforehand and its current code typed in (tests/mfa.py)."""
    from tests.mfa import complete_browser_login, enrol_if_needed

    device = enrol_if_needed(email)
    page.goto("/konto/logg-inn/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    complete_browser_login(page, device)

"""Helpers for the browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against
pytest-django's live server. The `browser` and `page` fixtures are in tests/conftest.py.

Playwright never downloads a browser here. Without Chromium the browser tests skip with a reason,
unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

import os
from pathlib import Path

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

"""Two-step login in tests: a user's authenticator, its codes, and a test client whose logins finish
the second step.

Nothing here turns two-step login off. `MfaClient.force_login` / `.login` enrol a user who has or
needs a second factor (a real authenticator, confirmed with a real code through the enrolment
service) and then store the device in the session exactly as `django_otp.login` does after a
correct code, just as Django's `force_login` stores the user without the password form. Tests of
the second step itself use `force_login(user, mfa=False)` or the login pages.
"""

from __future__ import annotations

import base64
import time

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp

from companies.mfa import (
    mfa_enrolled,
    mfa_enrolment_confirm,
    mfa_enrolment_device,
    mfa_required,
)
from companies.models import User
from companies.twofactor.models import Authenticator


def totp_code(device: Authenticator) -> str:
    """The code an authenticator app shows now, or the next step's code when this step's was used
    already (the server takes each step once, and one step either side)."""
    device.refresh_from_db()
    while True:
        now = (int(time.time()) - device.t0) // device.step
        step = max(now, device.last_t + 1)
        if step <= now + device.drift + device.tolerance:
            return str(hotp(device.bin_key, step, digits=device.digits)).zfill(device.digits)
        time.sleep(1)


def enrol(user: User) -> Authenticator:
    """The user's confirmed authenticator; set up (as on the enrolment page) if they have none."""
    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        return device
    device = mfa_enrolment_device(user=user)
    codes = mfa_enrolment_confirm(user=user, device=device, code=totp_code(device))
    assert codes, "enrolment with the app's own code failed"
    return device


def enrol_if_needed(email: str) -> Authenticator | None:
    """For a login by e-mail: the authenticator the user will be asked for, if any."""
    user = User.objects.filter(email=email.lower()).first()
    if user is None or not (mfa_required(user=user) or mfa_enrolled(user=user)):
        return None
    return enrol(user)


class MfaClient(Client):
    """django.test.Client whose logins also pass two-step login for users who have or need it."""

    def force_login(self, user: User, backend: str | None = None, *, mfa: bool = True) -> None:
        super().force_login(user, backend)
        if mfa:
            self._verify(user)

    def login(self, *, mfa: bool = True, **credentials: object) -> bool:
        if not super().login(**credentials):
            return False
        if mfa:
            self._verify(User.objects.get(pk=self.session[SESSION_KEY]))
        return True

    def _verify(self, user: User) -> None:
        if not (mfa_required(user=user) or mfa_enrolled(user=user)):
            return
        device = enrol(user)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def code_from_typed_key(typed_key: str, step: int | None = None) -> str:
    """What an authenticator app shows at time step `step` (default: now) for a key typed into it
    from the enrolment page: computed from the page's key alone, not from the database."""
    secret = typed_key.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time()) // 30 if step is None else step
    return str(hotp(key, step, digits=6)).zfill(6)


def enrol_in_browser(page) -> tuple[str, int]:
    """On the enrolment page: type the shown key's current code, then continue past the recovery
    codes. Returns the key and the time step used (the next login needs a later one)."""
    typed_key = page.locator("[data-testid=mfa-key]").inner_text()
    step = int(time.time()) // 30
    page.fill("#id_code", code_from_typed_key(typed_key, step))
    page.click("[data-testid=mfa-submit]")
    page.locator("[data-testid=mfa-recovery-code]").first.wait_for()
    with page.expect_navigation():
        page.click("[data-testid=mfa-continue]")
    return typed_key, step


def complete_browser_login(page, device: Authenticator | None) -> None:
    """After the password form was sent: type the authenticator's code on the second step."""
    if device is None or "/konto/tofaktor/kode/" not in page.url:
        return
    page.fill("#id_code", totp_code(device))
    with page.expect_navigation():
        page.click("[data-testid=mfa-submit]")

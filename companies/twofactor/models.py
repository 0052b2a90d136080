"""The second factor's devices (django-otp `Device`s) without a plaintext secret in the database.

django-otp's own `TOTPDevice` keeps the authenticator's key as hex in a column, and its
`StaticToken` each recovery code as typed. Here:

- `Authenticator` (TOTP) keeps the key encrypted with FIELD_ENCRYPTION_KEYS (companies.crypto,
  the MultiFernet that guards the Tripletex keys; `manage.py rotate_encryption_keys` re-encrypts
  it). `key` decrypts it on use. The code check is django-otp's: its `TOTP` class
  (django_otp.oath, RFC 6238) with `TOTPDevice.verify_token`'s bookkeeping (django-otp 1.7:
  `last_t` so a code works once, drift, ThrottlingMixin's growing delay), and the otpauth:// URL
  is built as `TOTPDevice.config_url` builds it. django-otp's own plugins (otp_totp, otp_static)
  are not installed, so no model that stores a secret in plaintext exists.
- `RecoveryCodes` keeps each one-time code only as an HMAC-SHA256 keyed with SECRET_KEY
  (`django.utils.crypto.salted_hmac`, the keyed hash Django's own tokens use): the codes are shown
  once and never again, a code typed in is hashed and looked up, and a used code is deleted as
  django-otp's `StaticDevice` does. Codes made under a SECRET_KEY now in SECRET_KEY_FALLBACKS keep
  working. Without SECRET_KEY, a copy of the database does not give the codes.

django-otp finds these models as it finds its own (every installed `Device` subclass), so
`django_otp.login`, `OTPMiddleware` and `devices_for_user` work with them unchanged.
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from companies.crypto import decrypt, encrypt

RECOVERY_CODE_SALT = "dynamik.twofactor.recovery-code"


def new_encrypted_key() -> str:
    """A new random TOTP key (20 bytes, django-otp's default size), encrypted."""
    return encrypt(random_hex(20))


# models.Model and models.Manager are named again (Device and DeviceManager already are ones)
# because django-otp ships no type information: so mypy's Django plugin sees a model and a manager.
class Devices(DeviceManager, models.Manager[Any]):
    """django-otp's DeviceManager (devices_for_user)."""


class Authenticator(TimestampMixin, ThrottlingMixin, Device, models.Model):
    """An authenticator app (TOTP); its key is stored only encrypted."""

    key_encrypted = models.TextField(default=new_encrypted_key, editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    objects = Devices()

    class Meta(Device.Meta):
        verbose_name = "authenticator"

    def __str__(self) -> str:
        return f"authenticator {self.pk} of user {self.user_id}"

    @property
    def key(self) -> str:
        """The key as hex, decrypted (KeyDecryptError when no configured key opens it)."""
        return decrypt(self.key_encrypted)

    @key.setter
    def key(self, hex_key: str) -> None:
        unhexlify(hex_key.encode())  # a hex string, as django-otp's key field requires
        self.key_encrypted = encrypt(hex_key)

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """True when `token` is the app's code now (or within `tolerance` steps, drift allowed)
        and newer than the last one accepted; as django-otp's TOTPDevice.verify_token."""
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        try:
            code = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(code, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app reads from the QR code (Key Uri Format)."""
        label = str(self.user.get_username())
        params = urlencode(
            {
                "secret": b32encode(self.bin_key),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        if issuer:
            label = f"{issuer}:{label}"
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"


def recovery_code_hashes(code: str) -> list[str]:
    """The stored forms `code` may have: its HMAC under SECRET_KEY, then under each fallback."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        salted_hmac(RECOVERY_CODE_SALT, code, secret=secret, algorithm="sha256").hexdigest()
        for secret in secrets
    ]


class RecoveryCodes(TimestampMixin, ThrottlingMixin, Device, models.Model):
    """A user's set of one-time recovery codes, each stored as a keyed hash."""

    objects = Devices()

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def __str__(self) -> str:
        return f"recovery codes {self.pk} of user {self.user_id}"

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1))

    def codes_set(self, codes: list[str]) -> None:
        """Store these codes (as hashes) in place of any the device had."""
        self.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=self, code_hash=recovery_code_hashes(code)[0]) for code in codes
        )

    def verify_token(self, token: Any) -> bool:
        """True (and the code used up) when `token` is one of the codes; as StaticDevice does."""
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        match = self.codes.filter(code_hash__in=recovery_code_hashes(str(token))).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, as its keyed hash (never the code)."""

    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk}"

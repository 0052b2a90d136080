"""Encryption of stored Tripletex keys: MultiFernet over FIELD_ENCRYPTION_KEYS, independent of SECRET_KEY.

The first key encrypts; every key decrypts, so keys can be rotated (`manage.py rotate_encryption_keys`).
A value that no key decrypts raises KeyDecryptError: callers fail closed and never use ciphertext.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


class KeyDecryptError(Exception):
    """A stored key could not be decrypted with any of FIELD_ENCRYPTION_KEYS."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


@sensitive_variables("plaintext")
def encrypt(plaintext: str) -> str:
    """Encrypt with the first key; returns a Fernet token as text."""
    return fernet().encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt(ciphertext: str) -> str:
    """Decrypt with any configured key. Raises KeyDecryptError."""
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise KeyDecryptError(
            "the stored key cannot be decrypted with the configured keys"
        ) from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key (a no-op in effect when it already is). Raises KeyDecryptError."""
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise KeyDecryptError(
            "the stored key cannot be decrypted with the configured keys"
        ) from exc


def is_current(ciphertext: str) -> bool:
    """True when the first (current) key decrypts the value, i.e. rotation has nothing to do."""
    try:
        Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True

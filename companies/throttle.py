"""Counts failed logins per e-mail and per client address in the cache, and blocks for a while."""

import hashlib
from dataclasses import dataclass

from django.core.cache import BaseCache


@dataclass(frozen=True)
class LoginThrottle:
    cache: BaseCache
    attempts: int
    seconds: int

    def keys_for(self, *, email: str, address: str) -> list[str]:
        """Cache keys for the e-mail and the address (hashed: no personal data in cache key names)."""
        values = [("email", email.strip().lower()), ("addr", address)]
        return [
            "login-fail:" + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]
            for kind, value in values
            if value
        ]

    def is_blocked(self, keys: list[str]) -> bool:
        """True when any key has reached the limit within the window."""
        counts = self.cache.get_many(keys)
        return any(count >= self.attempts for count in counts.values())

    def record_failure(self, keys: list[str]) -> None:
        """Count one failure on every key; the window starts at the first failure."""
        for key in keys:
            if self.cache.add(key, 1, timeout=self.seconds):
                continue
            try:
                self.cache.incr(key)
            except ValueError:  # expired between add() and incr()
                self.cache.add(key, 1, timeout=self.seconds)

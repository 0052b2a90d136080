"""One login throttle for every door: failures per account-at-an-address and per address.

Every door that takes a secret (the site login and with it the staff admin's, the second-factor
code, an invitation link) counts its failures here and asks here before it looks at the secret:

- **per account**: `LOGIN_THROTTLE_ACCOUNT_ATTEMPTS` failures for one e-mail *from one address*
  pause that e-mail at that address. This is django-axes' "lockout by combination of user and IP"
  (`AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]`, axes/helpers.py
  `get_client_parameters`): someone who knows an e-mail can no longer lock its owner out, because
  the owner logs in from another address.
- **per address**: `LOGIN_THROTTLE_ADDRESS_ATTEMPTS` failures from one address, whatever the
  e-mails, pause that address; higher than the account figure because an office shares one.

A count expires `LOGIN_THROTTLE_SECONDS` after its last failure (axes' cache handler also touches
the key on every failure, axes/handlers/cache.py). A successful login clears only its
account-at-address count: clearing the address count too would let an attacker with one valid
account reset it between guesses at others.

Why not django-axes itself (8.x supports Django 5.2): it compares the largest of its counts with a
single `AXES_FAILURE_LIMIT` (`get_failures` takes `max()` over the keys), so the two figures above
cannot differ, and it counts only failures that reach `authenticate()`, not codes or links.

The client address is REMOTE_ADDR, or, when the request comes from a proxy named in
`TRUSTED_PROXIES`, the address that proxy put in X-Forwarded-For (`TRUSTED_PROXY_COUNT` proxies
in a chain, each appending what it saw; anything further left was written by the client).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, cache
from django.http import HttpRequest


@dataclass(frozen=True)
class LoginThrottle:
    cache: BaseCache
    account_attempts: int
    address_attempts: int
    seconds: int
    # Another rule's counts (the key intake's submissions, companies/intake/) live under their own
    # name, so they never pause a login.
    namespace: str = "login-fail"

    @classmethod
    def from_settings(cls) -> LoginThrottle:
        """The throttle with the figures in settings, counting in the default cache."""
        return cls(
            cache=cache,
            account_attempts=settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS,
            address_attempts=settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS,
            seconds=settings.LOGIN_THROTTLE_SECONDS,
        )

    def _keys(self, *, email: str, address: str) -> dict[str, int]:
        """Cache key -> limit. Hashed: no e-mail or address in key names."""
        email = email.strip().lower()
        keys = {}
        if email:
            keys[_key(self.namespace, "account", f"{email}\x00{address}")] = self.account_attempts
        if address:
            keys[_key(self.namespace, "address", address)] = self.address_attempts
        return keys

    def is_blocked(self, *, email: str, address: str) -> bool:
        """True while the e-mail at this address, or the address itself, has reached its limit."""
        keys = self._keys(email=email, address=address)
        counts = self.cache.get_many(list(keys))
        return any(counts.get(key, 0) >= limit for key, limit in keys.items())

    def record_failure(self, *, email: str, address: str) -> None:
        """Count one failure for the e-mail at this address and for the address."""
        for key in self._keys(email=email, address=address):
            if self.cache.add(key, 1, timeout=self.seconds):
                continue
            try:
                self.cache.incr(key)
            except ValueError:  # expired between add() and incr()
                self.cache.add(key, 1, timeout=self.seconds)
            else:
                self.cache.touch(key, timeout=self.seconds)

    def record_success(self, *, email: str, address: str) -> None:
        """Forget the e-mail's failures at this address (the address's own count stays)."""
        email = email.strip().lower()
        if email:
            self.cache.delete(_key(self.namespace, "account", f"{email}\x00{address}"))


def _key(namespace: str, kind: str, value: str) -> str:
    return f"{namespace}:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def is_trusted_proxy(address: str) -> bool:
    """True when `address` (a REMOTE_ADDR) is one of TRUSTED_PROXIES: only then are the
    X-Forwarded-* headers of its request believed (here and in dynamik.middleware)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's IP address: from X-Forwarded-For only when a trusted proxy sent the request."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count < 1 or not is_trusted_proxy(remote):
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < count:
        return remote  # the proxy did not add what it should: misconfigured, fall back
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

"""How hard a Tripletex call is retried, shared by the client's reads and session creation.

A 429 waits for the window to end: Tripletex's X-Rate-Limit-Reset when the answer has one, else the
last reset the rate limiter saw (429s may come without the header, tripletex-api2#103), else an
exponential backoff from 2 s. Timeouts, connection errors and 5xx back off from 0.5 s. Every delay
is capped, stretched by random jitter, and the retries of one call share a total time budget.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis

from .errors import TripletexError, TripletexRateLimited, TripletexUnavailable

logger = logging.getLogger(__name__)


def backoff(
    retry: int, *, base: float, cap: float, jitter: float = 0.25, at_least: float = 0.0
) -> float:
    """The one backoff rule: `base * 2**retry` (at least `at_least`), stretched by up to `jitter`
    at random so workers do not retry in lockstep, and capped last, so no delay exceeds `cap`.

    Used by the client's retries, session creation, and the booking and sync task retries."""
    delay = max(at_least, base * 2.0**retry) * (1 + random.random() * jitter)
    return min(cap, delay)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a read is retried: attempts, exponential delays with jitter, a total time budget."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 90.0
    # 429 without X-Rate-Limit-Reset and no recent reset known: 2 s, 4 s, ... up to 60 s.
    rate_limit_base_delay: float = 2.0
    rate_limit_max_delay: float = 60.0
    # Each delay is stretched by up to this fraction at random, so workers do not retry in lockstep.
    jitter: float = 0.25

    def backoff(self, retry: int, *, base: float, cap: float) -> float:
        """The delay before retry number `retry` (0-based)."""
        return backoff(retry, base=base, cap=cap, jitter=self.jitter)

    def allows(self, attempt: int, spent: float, delay: float) -> bool:
        """True if attempt number `attempt` (1-based) may be followed by one after `delay` s."""
        return attempt < self.max_attempts and spent + delay <= self.total_budget

    def delay_after(
        self,
        error: TripletexError,
        attempt: int,
        *,
        is_read: bool,
        known_reset: Callable[[], float | None],
    ) -> float | None:
        """Seconds to wait before retrying after attempt `attempt` failed, or None: no retry.

        `known_reset` gives the seconds left in the last rate-limit window the limiter saw."""
        if isinstance(error, TripletexRateLimited):
            # A 429 is refused before anything happens, so even a write may wait and go again.
            if error.retry_after is not None:
                return error.retry_after * (1 + random.random() * self.jitter)
            known = None
            with limiter_errors_ignored():
                known = known_reset()
            if known is not None:
                error.retry_after = known
                return known * (1 + random.random() * self.jitter)
            return self.backoff(
                attempt - 1, base=self.rate_limit_base_delay, cap=self.rate_limit_max_delay
            )
        if is_read and isinstance(error, TripletexUnavailable):
            return self.backoff(attempt - 1, base=self.base_delay, cap=self.max_delay)
        return None


@contextlib.contextmanager
def limiter_errors_ignored() -> Iterator[None]:
    """Log and swallow a rate limiter failure: it only spares Tripletex, it must not fail a call."""
    try:
        yield
    except (redis.RedisError, OSError) as exc:
        logger.warning("Tripletex rate limiter unavailable, calling without it: %r", exc)

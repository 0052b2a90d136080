"""Client-side view of Tripletex's rate limit, shared by everyone who calls with one employee token.

Tripletex counts calls per employee per API consumer and reports the budget in `X-Rate-Limit-Limit`,
`-Remaining` and `-Reset` (seconds left in the window). Every client company reached through one
accounting-office key shares that budget, so the key here is a hash of the employee token, never the
company. Once the budget is spent Tripletex answers 429 to everything until the window ends, and
those 429s may lack `X-Rate-Limit-Reset` (tripletex-api2#103): we remember the last reset we saw.

Implementations: in memory (one process), Redis (web + workers), files (embedded mode, one machine).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import redis
from redis.typing import EncodableT, FieldT

Sleep = Callable[[float], None]


class RateLimiter(Protocol):
    """What the client needs from a rate limiter."""

    def before_call(self, key: str, *, sleep: Sleep | None = None) -> float:
        """Wait while the budget is (nearly) spent and the window open; return seconds waited."""
        ...

    def after_response(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """Record the X-Rate-Limit-* headers (and a 429) of a response."""
        ...

    def reset_in(self, key: str) -> float | None:
        """Seconds until the last known window ends, or None when unknown or already over."""
        ...


@dataclass
class _State:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # wall-clock epoch seconds, comparable across processes

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset_at": self.reset_at}


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _LimiterBase:
    """The decisions; subclasses only store and lock the per-key state."""

    def __init__(
        self,
        *,
        floor: int = 5,
        max_wait: float = 60.0,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Stop a few calls early: other workers may be mid-flight with the same budget.
        self.floor = floor
        # Never park a caller longer than this at once; a later 429 tells us if the window is long.
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        raise NotImplementedError

    def _load(self, key: str) -> _State:
        raise NotImplementedError

    def _save(self, key: str, state: _State) -> None:
        raise NotImplementedError

    def _reserve(self, key: str, now: float) -> float:
        with self._locked(key):
            state = self._load(key)
            if state.remaining is None:
                return 0.0
            reset_at = state.reset_at
            if reset_at is not None and reset_at > now and state.remaining <= self.floor:
                return min(reset_at - now, self.max_wait)
            # Count our own call now, so parallel callers see the budget shrink before answers come.
            state.remaining -= 1
            self._save(key, state)
            return 0.0

    def before_call(self, key: str, *, sleep: Sleep | None = None) -> float:
        """Wait while the budget is (nearly) spent and the window open; return seconds waited."""
        wait = self._reserve(key, self._clock())
        if wait <= 0:
            return 0.0
        (sleep or self._sleep)(wait)
        return wait

    def after_response(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """Record the X-Rate-Limit-* headers (and a 429) of a response."""
        limit = _header_number(headers, "X-Rate-Limit-Limit")
        remaining = _header_number(headers, "X-Rate-Limit-Remaining")
        reset = _header_number(headers, "X-Rate-Limit-Reset")
        if status != 429 and limit is None and remaining is None and reset is None:
            return
        now = self._clock()
        with self._locked(key):
            state = self._load(key)
            if limit is not None:
                state.limit = int(limit)
            if remaining is not None:
                state.remaining = int(remaining)
            if reset is not None:
                state.reset_at = now + reset
            if status == 429:
                # The window is spent whatever the headers say; keep the last known reset.
                state.remaining = 0
            self._save(key, state)

    def reset_in(self, key: str) -> float | None:
        """Seconds until the last known window ends, or None when unknown or already over."""
        with self._locked(key):
            reset_at = self._load(key).reset_at
        if reset_at is None:
            return None
        left = reset_at - self._clock()
        return left if left > 0 else None


class MemoryRateLimiter(_LimiterBase):
    """Per-process limiter, for tests and single-process use."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with self._lock:
            yield

    def _load(self, key: str) -> _State:
        state = self._states.get(key, _State())
        return _State(**state.as_dict())

    def _save(self, key: str, state: _State) -> None:
        self._states[key] = state


# Atomic check-and-count: decide to wait, or take one call off the shared budget.
_RESERVE_LUA = """
local remaining = redis.call('HGET', KEYS[1], 'remaining')
if not remaining then return '0' end
local reset_at = redis.call('HGET', KEYS[1], 'reset_at')
local now = tonumber(ARGV[1])
if reset_at and tonumber(reset_at) > now and tonumber(remaining) <= tonumber(ARGV[2]) then
  return tostring(tonumber(reset_at) - now)
end
redis.call('HINCRBY', KEYS[1], 'remaining', -1)
return '0'
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisRateLimiter(_LimiterBase):
    """Limiter shared by every process through one Redis hash per employee token."""

    def __init__(self, client: redis.Redis, *, prefix: str = "tripletex:ratelimit:", **kw: Any):
        super().__init__(**kw)
        self._redis = client
        self._prefix = prefix
        self._reserve_script = client.register_script(_RESERVE_LUA)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        # Single Redis commands and the Lua script are atomic; the read-modify-write in
        # after_response may race, and the last answer from Tripletex winning is what we want.
        yield

    def _reserve(self, key: str, now: float) -> float:
        wait = float(self._reserve_script(keys=[self._prefix + key], args=[now, self.floor]))
        return min(wait, self.max_wait)

    def _load(self, key: str) -> _State:
        raw = self._redis.hgetall(self._prefix + key)
        values = {_text(k): _text(v) for k, v in raw.items()}
        return _State(
            limit=int(values["limit"]) if "limit" in values else None,
            remaining=int(values["remaining"]) if "remaining" in values else None,
            reset_at=float(values["reset_at"]) if "reset_at" in values else None,
        )

    def _save(self, key: str, state: _State) -> None:
        mapping: dict[FieldT, EncodableT] = {
            k: v for k, v in state.as_dict().items() if v is not None
        }
        if not mapping:
            return
        name = self._prefix + key
        ttl = 3600 + max(0, int((state.reset_at or 0) - self._clock()))
        with self._redis.pipeline() as pipe:
            pipe.hset(name, mapping=mapping)
            pipe.expire(name, ttl)
            pipe.execute()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive fcntl lock on `path` (created if missing); works across processes and threads."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old or the new file, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class FileRateLimiter(_LimiterBase):
    """Limiter shared by processes on one machine (embedded mode without Redis)."""

    def __init__(self, directory: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with file_lock(self._dir / f"{key}.lock"):
            yield

    def _load(self, key: str) -> _State:
        try:
            data = json.loads((self._dir / f"{key}.json").read_bytes())
            return _State(**{k: data.get(k) for k in ("limit", "remaining", "reset_at")})
        except (FileNotFoundError, ValueError, TypeError):
            return _State()

    def _save(self, key: str, state: _State) -> None:
        # Rewritten in place: every reader holds the same lock, and a file torn by a crash reads
        # as "budget unknown", which the next response's headers put right.
        (self._dir / f"{key}.json").write_bytes(json.dumps(state.as_dict()).encode())

"""Tripletex sandbox: a local stand-in for the Tripletex API v2 (imports no Django).

`SandboxServer(db_path, host, port).start()` serves `/v2` in a background thread (`.base_url`,
`.faults`, `.store`, `.stop()`). Modules: `server` (HTTP, auth, rate limits), `endpoints`
(one handler per operation, voucher validation), `api` (errors, request context, JSON, and the
`Server` protocol handlers are typed with), `store` (SQLite data: `schema`, `seeding` and
`queries` with the balance semantics), `entities` (Tripletex-shaped dicts), `fields`
(`fields=` projection), `seed` (deterministic demo ledgers), `faults` (knobs), `demo` (fixed
companies and tokens), `cli` (options shared with `manage.py tripletex_sandbox`).
"""

from .faults import Faults
from .server import SandboxServer
from .store import Store

__all__ = ["Faults", "SandboxServer", "Store"]

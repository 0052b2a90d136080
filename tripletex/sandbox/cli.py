"""Command-line options of the sandbox, shared by `python -m tripletex.sandbox` and manage.py.

The Django command only supplies the default database path (<VAR_DIR>/sandbox.sqlite3); the
rest lives here so that benchmarks can start the sandbox without Django.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from .faults import Faults
from .server import SandboxServer


def add_arguments(parser: argparse.ArgumentParser, *, default_db: str | None = None) -> None:
    """Register the sandbox options on an argparse parser."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--db", default=default_db, required=default_db is None)
    parser.add_argument("--reset", action="store_true", help="recreate the database")
    parser.add_argument("--admin", action="store_true", help="enable /_sandbox/* endpoints")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of GETs that 500")
    parser.add_argument("--rate-limit", type=int, default=None, help="calls per window")
    parser.add_argument("--rate-window", type=float, default=None, help="window in seconds")
    parser.add_argument("--omit-reset-on-429", action="store_true")


def faults_from(options: dict[str, Any]) -> Faults:
    """Fault knobs from parsed options."""
    faults = Faults(
        latency_ms=options.get("latency_ms") or 0,
        error_rate=options.get("error_rate") or 0.0,
        omit_reset_on_429=bool(options.get("omit_reset_on_429")),
    )
    if options.get("rate_limit") is not None:
        faults.rate_limit = options["rate_limit"]
    if options.get("rate_window") is not None:
        faults.rate_window = options["rate_window"]
    return faults


def run(options: dict[str, Any], out: Any = None) -> None:
    """Build the server from options, announce its URL and serve until interrupted."""
    out = out or sys.stdout
    server = SandboxServer(
        Path(options["db"]),
        options.get("host") or "127.0.0.1",
        int(options["port"]) if options.get("port") is not None else 8765,
        reset=bool(options.get("reset")),
        admin=bool(options.get("admin")),
        faults=faults_from(options),
    )
    # Tests and the benchmark parse this line to learn the port when --port 0 was given.
    out.write(f"Tripletex sandbox listening on {server.base_url}\n")
    out.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m tripletex.sandbox`."""
    parser = argparse.ArgumentParser(prog="python -m tripletex.sandbox")
    add_arguments(parser)
    run(vars(parser.parse_args(argv)))

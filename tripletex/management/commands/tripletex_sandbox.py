"""`manage.py tripletex_sandbox`: serve the local Tripletex stand-in on /v2."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tripletex.sandbox import cli


class Command(BaseCommand):
    help = "Serve the Tripletex sandbox (a local stand-in for the Tripletex API v2)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Sandbox options; the database defaults to <VAR_DIR>/sandbox.sqlite3."""
        cli.add_arguments(parser, default_db=str(settings.VAR_DIR / "sandbox.sqlite3"))

    def handle(self, *args: Any, **options: Any) -> None:
        """Serve until SIGINT or SIGTERM."""
        # SIGTERM (honcho, test teardown) should stop as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        cli.run(options, out=self.stdout)

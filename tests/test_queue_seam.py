"""The enqueue seam finds every task by name in a process that is not a worker (the web server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_web_process_knows_every_task_the_services_enqueue():
    script = (
        "import django; django.setup()\n"
        "from celery import current_app\n"
        "from ledger import queue\n"
        "names = [queue.BOOK_TRANSACTION, queue.BOOK_BATCH, queue.RESOLVE_STUCK_BOOKINGS,"
        " queue.SYNC_RUN]\n"
        "missing = [n for n in names if n not in current_app.tasks]\n"
        "print('missing', missing)\n"
        "raise SystemExit(1 if missing else 0)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dynamik.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr

"""Start real processes for tests (a Celery worker, a throw-away redis-server) against the test
database, and stop them."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def redis_url_or_none() -> str | None:
    """The Redis to test against: REDIS_URL, else a server answering on 127.0.0.1:6379, else None."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return url
    except OSError:
        return None


def test_database_url() -> str:
    """A DATABASE_URL that points a child process at the database the tests are using."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The test process's environment plus the test database, for a child process."""
    env = dict(os.environ)
    env.update(DATABASE_URL=test_database_url(), DYNAMIK_VAR_DIR=str(settings.VAR_DIR))
    env.update(extra)
    return env


def batch_queue_of(queue: str) -> str:
    """The batch queue that goes with the interactive queue `queue`: the configured one for the
    test process's own queue, else `<queue>-batch` (dynamik/settings.py derives it the same way
    when a child process is given only CELERY_QUEUE)."""
    if queue == settings.CELERY_QUEUE:
        return settings.CELERY_BATCH_QUEUE
    return f"{queue}-batch"


def worker_command(
    queue: str,
    *,
    pool: str,
    concurrency: int,
    loglevel: str,
    hostname: str | None = None,
    extra: tuple[str, ...] = (),
    consume: tuple[str, ...] | None = None,
) -> list[str]:
    """The command line of a `celery worker` for the app whose interactive queue is `queue`: it
    consumes that queue and its batch queue, or only the queues named in `consume`."""
    queues = consume if consume is not None else (queue, batch_queue_of(queue))
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dynamik",
        "worker",
        "-Q",
        ",".join(queues),
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        *extra,
        "--hostname",
        hostname or f"{queue}@%h",
    ]


@contextlib.contextmanager
def celery_worker(
    *,
    broker_url: str,
    queue: str | None = None,
    concurrency: int = 1,
    beat: bool = False,
    consume: tuple[str, ...] | None = None,
    pool: str = "prefork",
    name: str = "",
) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process whose interactive queue is `queue` (its batch queue goes with
    it, `batch_queue_of`); it consumes both, or only `consume`. Terminated (then killed) on exit.

    The worker's own settings name the same queues, so what it routes (the booking sweep it sends
    when it connects, the syncs its beat dispatches) lands on queues it consumes. `proc.queue` is
    the interactive queue, `proc.batch_queue` the batch queue."""
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    batch_queue = batch_queue_of(queue)
    hostname = f"{queue}{'-' + name if name else ''}@%h"
    args = worker_command(
        queue,
        pool=pool,
        concurrency=concurrency,
        loglevel="INFO",
        consume=consume,
        hostname=hostname,
    )
    if beat:
        args += ["--beat", "--schedule", str(Path(settings.VAR_DIR) / f"beat-{queue}")]
    log = Path(settings.VAR_DIR) / f"worker-{queue}{'-' + name if name else ''}.log"
    env = child_env(
        CELERY_BROKER_URL=broker_url, CELERY_QUEUE=queue, CELERY_BATCH_QUEUE=batch_queue
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    proc.queue = queue  # type: ignore[attr-defined]
    proc.batch_queue = batch_queue  # type: ignore[attr-defined]
    proc.log_path = log  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen, *, timeout: float = 10) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def broker_connection(broker_url: str):
    """A kombu connection to the broker a test worker consumes; the filesystem broker's folders
    are the ones settings give a worker process (under VAR_DIR/broker)."""
    from kombu import Connection

    if broker_url.startswith("filesystem://"):
        folder = str(Path(settings.VAR_DIR) / "broker")
        # Under Redis settings nothing else creates it before the worker starts.
        Path(folder, "control").mkdir(parents=True, exist_ok=True)
        options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "control_folder": folder + "/control",
            "store_processed": False,
        }
        return Connection(broker_url, transport_options=options)
    return Connection(broker_url)


class RedisServer:
    """A throw-away redis-server on a free 127.0.0.1 port that keeps nothing (no RDB, no AOF):
    `kill()` it with SIGKILL and `start()` it again, empty, on the same port."""

    def __init__(self, log_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log = Path(log_dir) / f"redis-{self.port}.log"
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--logfile", str(self._log)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)

    def stop(self) -> None:
        if self._proc is not None:
            stop_process_group(self._proc)


@contextlib.contextmanager
def redis_server(*, started: bool = True) -> Iterator[RedisServer]:
    """A RedisServer (started unless `started=False`), stopped on exit. Skips the test, saying
    why, when redis-server is not installed (`apt-get install redis-server`); fails it instead with
    REQUIRE_REDIS=1 (CI)."""
    from tests.requirements import missing

    if shutil.which("redis-server") is None:
        missing("redis", "redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(Path(settings.VAR_DIR))
    try:
        if started:
            server.start()
        yield server
    finally:
        server.stop()

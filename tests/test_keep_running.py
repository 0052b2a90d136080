"""scripts/keep-running (the worker and beat of `make run`): a command that dies is started again
after a back-off, and SIGTERM/SIGINT stop the command and the script for good."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.processes import ROOT, stop_process_group, wait_for

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts" / "keep-running"
# A child that notes each start and its SIGTERM, then runs until stopped.
LONG_RUNNING = 'echo "start $$" >> "$LOG"; trap \'echo stopped >> "$LOG"; exit 0\' TERM; ' + (
    "while :; do sleep 0.1; done"
)


def _start(tmp_path: Path, script: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "runs.log"
    env = dict(os.environ, LOG=str(log), KEEP_RUNNING_MAX_DELAY="1")
    # Ctrl-C in a terminal reaches the script with SIGINT at its default disposition; a test run
    # started as a background job has SIGINT ignored, which the script would inherit and could not
    # trap (bash). A Python handler for the moment of the fork gives the child the default.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with (tmp_path / "stderr.log").open("wb") as err:
            proc = subprocess.Popen(
                [str(SCRIPT), "sh", "-c", script], env=env, stderr=err, start_new_session=True
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    return proc, log


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_command_that_dies_is_started_again_then_sigterm_stops_the_loop(tmp_path):
    proc, log = _start(tmp_path, 'echo start >> "$LOG"; exit 3')
    try:
        wait_for(lambda: len(_lines(log)) >= 3, timeout=15, what="three starts")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        stop_process_group(proc)
    err = (tmp_path / "stderr.log").read_text()
    assert "sh exited with status 3; starting it again in 1s" in err
    starts = len(_lines(log))
    time.sleep(1.5)  # longer than the back-off: nothing starts it again
    assert len(_lines(log)) == starts


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_running_command_and_the_script(tmp_path, sig):
    proc, log = _start(tmp_path, LONG_RUNNING)
    try:
        wait_for(lambda: _lines(log), timeout=10, what="the command to start")
        child = int(_lines(log)[0].split()[1])
        proc.send_signal(sig)
        assert proc.wait(5) == 0
    finally:
        stop_process_group(proc)
    assert _lines(log) == [f"start {child}", "stopped"]  # stopped by SIGTERM, not restarted
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_a_command_killed_outright_is_started_again(tmp_path):
    proc, log = _start(tmp_path, LONG_RUNNING)
    try:
        wait_for(lambda: _lines(log), timeout=10, what="the command to start")
        first = int(_lines(log)[0].split()[1])
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(_lines(log)) >= 2, timeout=10, what="a second start")
        second = int(_lines(log)[1].split()[1])
        assert second != first
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        stop_process_group(proc)
    assert _lines(log)[-1] == "stopped"

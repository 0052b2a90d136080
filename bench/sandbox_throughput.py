"""Throughput of the Tripletex sandbox: 8 keep-alive clients hammer GET /balanceSheet.

Starts the sandbox in a subprocess on 127.0.0.1 (free port, temporary database), creates one
session per client, pulls monthly balance sheets for ~10 s and prints requests/s, p50/p95
latency and the error count. Run: `.venv/bin/python bench/sandbox_throughput.py [--seconds N]`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tripletex.sandbox import demo  # noqa: E402
from tripletex.sandbox.store import oslo_today  # noqa: E402

FIELDS = "account(id,number,name),balanceIn,balanceChange,balanceOut,startDate,endDate"


def start_sandbox(db: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m tripletex.sandbox` on a free port; returns (process, base URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tripletex.sandbox", "--port", "0", "--db", str(db), "--reset"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://\S+/v2)", line)
    if match is None:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return proc, match.group(1)


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU seconds of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def months() -> list[tuple[str, str]]:
    """Every month of the previous and current year up to now, as (dateFrom, dateTo)."""
    today = oslo_today()
    out = []
    for year in (today.year - 1, today.year):
        for month in range(1, 13):
            start = date(year, month, 1)
            if start > today:
                break
            end = date(year + month // 12, month % 12 + 1, 1)
            out.append((start.isoformat(), end.isoformat()))
    return out


def client(base: str, token: str, stop_at: float, latencies: list[float], errors: list[int]):
    """One keep-alive client: pull random monthly balance sheets until stop_at."""
    http = requests.Session()
    created = http.put(
        f"{base}/token/session/:create",
        params={
            "consumerToken": demo.CONSUMER_TOKEN,
            "employeeToken": token,
            "expirationDate": date(oslo_today().year + 1, 1, 1).isoformat(),
        },
        timeout=10,
    )
    http.auth = ("0", created.json()["value"]["token"])
    ranges = months()
    rng = random.Random(token)
    while time.monotonic() < stop_at:
        date_from, date_to = rng.choice(ranges)
        started = time.perf_counter()
        try:
            resp = http.get(
                f"{base}/balanceSheet",
                params={"dateFrom": date_from, "dateTo": date_to, "fields": FIELDS},
                timeout=10,
            )
            resp.json()
            ok = resp.status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.perf_counter() - started)
        if not ok:
            errors.append(1)


def main() -> None:
    """Run the benchmark and print figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_sandbox(Path(tmp) / "bench.sqlite3")
        try:
            tokens = [demo.HOLDING_TOKEN, demo.OPERATING_TOKEN] + [
                demo.bench_token(n) for n in range(1, args.clients - 1)
            ]
            latencies: list[float] = []
            errors: list[int] = []
            stop_at = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=client, args=(base, t, stop_at, latencies, errors))
                for t in tokens[: args.clients]
            ]
            started = time.monotonic()
            cpu_before = cpu_seconds(proc.pid)
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            cpu_after = cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000 if ordered else 0.0
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000 if ordered else 0.0
    report = [
        f"clients:      {args.clients} keep-alive sessions, GET /balanceSheet (monthly)",
        f"requests:     {len(latencies)} in {elapsed:.1f} s",
        f"throughput:   {len(latencies) / elapsed:.0f} requests/s",
        f"latency p50:  {p50:.1f} ms",
        f"latency p95:  {p95:.1f} ms",
        f"errors:       {len(errors)}",
    ]
    if cpu_before is not None and cpu_after is not None and latencies:
        # CPU per request does not depend on what else runs on the machine.
        per_request = (cpu_after - cpu_before) / len(latencies) * 1000
        report.append(f"server CPU:   {per_request:.2f} ms per request")
    report.append(f"load average: {os.getloadavg()[0]:.1f} (other work competes for the cores)")
    sys.stdout.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()

"""Client overhead per call against the Tripletex sandbox: TripletexClient.balance_sheet versus raw
`requests` + json for the same monthly GET /balanceSheet, one keep-alive connection each, in turn.

Run: .venv/bin/python bench/client_vs_sandbox.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tripletex.client import TripletexClient  # noqa: E402
from tripletex.sandbox import SandboxServer, demo  # noqa: E402
from tripletex.sandbox.faults import Faults  # noqa: E402

FIELDS = "account(id,number,name),balanceIn,balanceChange,balanceOut,startDate,endDate"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        faults = Faults(rate_limit=10**9)
        server = SandboxServer(Path(tmp) / "sandbox.sqlite3", faults=faults).start()
        try:
            run(server, calls)
        finally:
            server.stop()


def run(server: SandboxServer, calls: int) -> None:
    client = TripletexClient(
        base_url=server.base_url,
        consumer_token=demo.CONSUMER_TOKEN,
        employee_token=demo.HOLDING_TOKEN,
    )
    month = server.store.today().replace(day=1) - timedelta(days=60)
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    rows = client.balance_sheet(date_from=start, date_to=end)  # warm up, creates the session
    token = client._shared.sessions.current().token
    raw = requests.Session()
    raw.auth = ("0", token)
    params = {"dateFrom": start.isoformat(), "dateTo": end.isoformat(), "fields": FIELDS}

    def raw_call() -> None:
        response = raw.get(f"{server.base_url}/balanceSheet", params=params, timeout=30)
        response.raise_for_status()
        response.json()

    def client_call() -> None:
        client.balance_sheet(date_from=start, date_to=end)

    raw_times, client_times = [], []
    for _ in range(calls):
        for fn, out in ((raw_call, raw_times), (client_call, client_times)):
            began = time.perf_counter()
            fn()
            out.append(time.perf_counter() - began)

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    print(f"monthly /balanceSheet, {len(rows)} account rows, {calls} calls each")
    print(
        f"  raw requests+json   p50 {ms(raw_times, 50):6.2f} ms   p95 {ms(raw_times, 95):6.2f} ms"
    )
    print(
        f"  TripletexClient     p50 {ms(client_times, 50):6.2f} ms   p95 {ms(client_times, 95):6.2f} ms"
    )
    overhead = statistics.median(client_times) - statistics.median(raw_times)
    print(f"  client overhead per call (median difference): {overhead * 1000:.2f} ms")
    print(f"  Tripletex calls counted by the client: {client.stats.calls}")


if __name__ == "__main__":
    main()

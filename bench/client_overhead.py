"""How much time TripletexClient adds per call on top of raw requests + json.

Runs a tiny HTTP/1.1 server on 127.0.0.1 that answers like Tripletex (no other network), then
times, per call: raw `requests` GET + json.loads; the client's GET (auth, limiter, session,
Decimal parsing, dataclasses); and the pure CPU parts (from_api, payload build + exact encoding).

Run: .venv/bin/python bench/client_overhead.py [--calls N] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tripletex.client import TripletexClient  # noqa: E402
from tripletex.schemas import (  # noqa: E402
    Account,
    PostingPayload,
    VoucherPayload,
    decode_json,
    encode_json,
)


def _accounts_body(rows: int) -> bytes:
    values = [
        {
            "id": 1000 + i,
            "number": 1000 + i,
            "name": f"Konto {i}",
            "type": "ASSETS" if i % 2 else "OPERATING_EXPENSES",
            "isInactive": False,
            "vatLocked": False,
            "vatType": {"id": 0},
            "requiresDepartment": False,
            "requiresProject": False,
            "ledgerType": "GENERAL",
        }
        for i in range(rows)
    ]
    return json.dumps({"fullResultSize": rows, "from": 0, "count": rows, "values": values}).encode()


def _handler(accounts: bytes) -> type[BaseHTTPRequestHandler]:
    session = json.dumps({"value": {"token": "benchsession", "expirationDate": "2999-01-01"}})
    small = json.dumps(
        {"value": {"id": 1, "number": 7, "year": 2025, "date": "2025-03-31", "postings": []}}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a pooled connection to Tripletex
        # One send per answer: split header/body writes meet delayed ACKs and cost ~40 ms each.
        disable_nagle_algorithm = True
        wbufsize = -1

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Rate-Limit-Remaining", "1000000")
            self.send_header("X-Rate-Limit-Reset", "60")
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:  # noqa: N802
            self._send(session.encode())

        def do_GET(self) -> None:  # noqa: N802
            self._send(small if self.path.startswith("/v2/ledger/voucher/") else accounts)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _measure(
    variants: dict[str, Callable[[], object]], calls: int
) -> dict[str, tuple[float, float]]:
    """Median and mean µs per call of each variant, run round-robin so load noise hits all alike."""
    for fn in variants.values():
        for _ in range(min(50, calls)):
            fn()  # warm up connections and caches
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(calls):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1e6)
    return {name: (statistics.median(v), statistics.mean(v)) for name, v in samples.items()}


def main() -> None:
    """Start the local server, time each variant, print µs per call."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=50, help="accounts per response")
    args = parser.parse_args()

    body = _accounts_body(args.rows)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(body))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v2"
    try:
        raw = requests.Session()

        def raw_call() -> object:
            response = raw.get(
                base + "/ledger/account",
                params={"fields": "id,number", "from": "0", "count": "1000"},
                auth=("0", "benchsession"),
                timeout=(5, 5),
            )
            return json.loads(response.content)

        def raw_small() -> object:
            response = raw.get(
                base + "/ledger/voucher/1",
                params={"fields": "id,number"},
                auth=("0", "benchsession"),
                timeout=(5, 5),
            )
            return json.loads(response.content)

        client = TripletexClient(
            base_url=base, consumer_token="bench-consumer", employee_token="bench-employee"
        )
        rows = decode_json(body)["values"]
        payload = VoucherPayload(
            date=date(2025, 3, 31),
            description="Bench",
            external_voucher_number="BENCH-1",
            postings=tuple(
                PostingPayload(row=i + 1, account_id=1000 + i, amount_gross=Decimal(sign) * 125)
                for i, sign in enumerate(("1.10", "-1.10") * 5)
            ),
        )
        results = _measure(
            {
                "raw requests GET small object": raw_small,
                "client.voucher_get() small object": lambda: client.voucher_get(1),
                "raw requests GET + json.loads": raw_call,
                "client.accounts() (one page)": client.accounts,
                f"parse only: decode_json + {args.rows} Account.from_api": lambda: [
                    Account.from_api(r) for r in decode_json(body)["values"]
                ],
                f"parse only: {args.rows} Account.from_api": lambda: [
                    Account.from_api(r) for r in rows
                ],
                "build only: 10-line VoucherPayload.to_api + encode_json": lambda: encode_json(
                    payload.to_api()
                ),
            },
            args.calls,
        )
    finally:
        server.shutdown()
        server.server_close()

    out = sys.stdout.write
    out(f"{args.calls} calls each, {args.rows} accounts per response, 127.0.0.1 keep-alive\n")
    width = max(len(name) for name in results)
    for name, (median, mean) in results.items():
        out(f"  {name:<{width}}  median {median:9.1f} µs   mean {mean:9.1f} µs\n")
    fixed = results["client.voucher_get() small object"][0]
    fixed -= results["raw requests GET small object"][0]
    page = results["client.accounts() (one page)"][0] - results["raw requests GET + json.loads"][0]
    out(f"  client overhead per call, small object (median): {fixed:9.1f} µs\n")
    out(f"  client overhead per call, {args.rows}-row page (median): {page:9.1f} µs\n")


if __name__ == "__main__":
    main()

"""Sandbox state survives restarts, `--reset` recreates it, and the command serves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.sandbox.support import create_session_token
from tripletex.sandbox import SandboxServer, demo

ROOT = Path(__file__).resolve().parents[2]


def _book(server: SandboxServer) -> int:
    token = create_session_token(server, demo.HOLDING_TOKEN)
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 7770)["id"]
    body = {
        "date": server.store.today().isoformat(),
        "externalVoucherNumber": "APP-PERSIST-1",
        "postings": [
            {"row": 1, "account": {"id": fee}, "amountGross": 42},
            {"row": 2, "account": {"id": bank}, "amountGross": -42},
        ],
    }
    resp = requests.post(
        f"{server.base_url}/ledger/voucher", json=body, auth=("0", token), timeout=10
    )
    assert resp.status_code == 201
    return int(resp.json()["value"]["id"])


def test_state_persists_across_restart_and_reset_wipes_it(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    server = SandboxServer(db).start()
    try:
        voucher_id = _book(server)
        token = create_session_token(server, demo.HOLDING_TOKEN)
        postings = len(server.store.all_postings(demo.HOLDING.company_id))
    finally:
        server.stop()
    server = SandboxServer(db).start()
    try:
        assert server.store.voucher(demo.HOLDING.company_id, voucher_id) is not None
        assert len(server.store.all_postings(demo.HOLDING.company_id)) == postings
        # Sessions persist too, like Tripletex's (they live until their expiry date).
        who = requests.get(
            f"{server.base_url}/token/session/>whoAmI", auth=("0", token), timeout=10
        )
        assert who.status_code == 200
    finally:
        server.stop()
    server = SandboxServer(db, reset=True).start()
    try:
        assert server.store.voucher(demo.HOLDING.company_id, voucher_id) is None
        assert len(server.store.all_postings(demo.HOLDING.company_id)) < postings
    finally:
        server.stop()


def test_seed_is_identical_for_two_fresh_databases(tmp_path):
    first = SandboxServer(tmp_path / "a.sqlite3")
    second = SandboxServer(tmp_path / "b.sqlite3")
    try:
        for company in demo.DEMO_COMPANIES:
            assert first.store.all_postings(company.company_id) == second.store.all_postings(
                company.company_id
            )
    finally:
        first.stop()
        second.stop()


@pytest.mark.slow
def test_management_command_serves(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "tripletex_sandbox",
            "--port",
            "0",
            "--db",
            str(tmp_path / "cmd.sqlite3"),
            "--reset",
            "--latency-ms",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v2)", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        base = match.group(1)
        with requests.Session() as http:
            created = http.put(
                f"{base}/token/session/:create",
                params={
                    "consumerToken": demo.CONSUMER_TOKEN,
                    "employeeToken": demo.OPERATING_TOKEN,
                    "expirationDate": "2999-01-01",
                },
                timeout=10,
            )
            assert created.status_code == 200
            http.auth = ("0", created.json()["value"]["token"])
            who = http.get(f"{base}/token/session/%3EwhoAmI", timeout=10)
            assert who.json()["value"]["companyId"] == demo.OPERATING.company_id
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode in (0, -15)


def test_default_db_path_uses_var_dir():
    from django.conf import settings
    from django.core.management import load_command_class

    command = load_command_class("tripletex", "tripletex_sandbox")
    parser = command.create_parser("manage.py", "tripletex_sandbox")
    options = parser.parse_args([])
    assert options.db == str(settings.VAR_DIR / "sandbox.sqlite3")
    assert options.port == 8765
    assert options.host == "127.0.0.1"

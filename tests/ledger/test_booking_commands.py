"""manage.py book_transactions books synchronously, one line per transaction, safe to rerun."""

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from companies.credentials import connection_set_own_key
from ledger.transactions.vouchers import gl_settings_get
from tests.ledger.support import record, reload, vouchers_with
from tripletex.sandbox import demo

pytestmark = pytest.mark.django_db


def test_book_transactions_books_each_ready_row_once(sandbox_acme, tripletex_sandbox, capsys):
    rows = [record(sandbox_acme), record(sandbox_acme)]
    call_command("book_transactions", sandbox_acme.org_number)
    out = capsys.readouterr().out
    assert out.count(": booked voucher ") == 2
    assert "Done: 2 booked." in out
    call_command("book_transactions", "--all")
    assert "nothing to book" in capsys.readouterr().out
    for txn in rows:
        row = reload(txn)
        assert row.status == "booked"
        assert len(vouchers_with(tripletex_sandbox, row.external_voucher_number)) == 1


def test_book_transactions_needs_a_company():
    with pytest.raises(CommandError):
        call_command("book_transactions")
    with pytest.raises(CommandError, match="Unknown"):
        call_command("book_transactions", "000000000")


def test_book_transactions_says_when_a_voucher_waits_for_approval(sandbox_acme, capsys):
    connection_set_own_key(company=sandbox_acme, token=demo.READONLY_TOKEN, by=None)
    with scope(company=sandbox_acme):
        gl = gl_settings_get(company=sandbox_acme)
        gl.posting_mode = "approval"
        gl.save()
    txn = record(sandbox_acme)
    call_command("book_transactions", sandbox_acme.org_number)
    out = capsys.readouterr().out
    temp = reload(txn).voucher_temp_number
    assert f": booked awaiting approval in Tripletex, temporary number {temp}" in out

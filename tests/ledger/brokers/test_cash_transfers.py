"""Deposits and withdrawals between the firm's bank and a broker account, and any transaction of
a broker account: always balanced, the broker's cash account in place of the bank."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import BrokerAccount, GLAccountSettings, Transaction
from ledger.transactions.vouchers import VoucherBuildError, build_lines

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)
BROKER = BrokerAccount(pk=1, broker="nordnet", number="12345678", cash_account=1921)


def _txn(kind: str, amount: Decimal, **extra) -> Transaction:
    return Transaction(
        kind=kind, amount=amount, fees=extra.pop("fees", D("0.00")), broker_account=BROKER, **extra
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(["cash_deposit", "cash_withdrawal"]), amount=money)
def test_a_cash_transfer_moves_money_between_the_bank_and_the_broker_account(kind, amount):
    lines = build_lines(txn=_txn(kind, amount), gl=GLAccountSettings())
    sign = 1 if kind == "cash_deposit" else -1
    assert [(x.row, x.account_number, x.amount) for x in lines] == [
        (1, 1921, sign * amount),
        (2, 1920, -sign * amount),
    ]


def test_a_cash_transfer_without_a_broker_account_is_not_a_voucher():
    with pytest.raises(VoucherBuildError):
        build_lines(txn=Transaction(kind="cash_deposit", amount=D("10.00")), gl=GLAccountSettings())


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(amount=money, fees=money, tax=money)
def test_a_dividend_with_tax_withheld_balances_or_is_refused(amount, fees, tax):
    txn = _txn("dividend", amount, fees=fees, tax_withheld=tax, instrument_name="X")
    try:
        lines = build_lines(txn=txn, gl=GLAccountSettings())
    except VoucherBuildError:
        assert tax > amount
        return
    assert sum(x.amount for x in lines) == 0
    assert {x.account_number: x.amount for x in lines}[8071] == -amount
    if amount - fees - tax:
        assert {x.account_number: x.amount for x in lines}[1921] == amount - fees - tax

"""The exemption method (fritaksmetoden) per instrument: the default each rule gives, a person's
override, and gains, losses and dividends posted inside and outside the method (a fund's result
split by its equity share), with the outside accounts proposed from the firm's chart or the inside
ones standing in when the chart has none."""

from datetime import date
from decimal import Decimal

import pytest
from django_scopes import scope

from ledger.holdings.exemption import (
    exemption_default,
    exemption_ruling,
    fund_inside_share,
    inside_share_for,
    instrument_for,
)
from ledger.models import GLAccountSettings, Instrument, Transaction
from ledger.transactions.vouchers import (
    ChartAccount,
    build_lines,
    gl_account_propose,
    voucher_preview,
)
from tests.ledger.support import record

D = Decimal
Kind = Instrument.Kind
State = GLAccountSettings.RoleState


def _instrument(**facts) -> Instrument:
    return Instrument(key="X", name="X", **facts)


@pytest.mark.parametrize(
    ("facts", "exemption", "share"),
    [
        # A Norwegian or other EEA company: inside.
        ({"country": "NO"}, "inside", D("1")),
        ({"country": "SE"}, "inside", D("1")),
        # An EEA low-tax company is inside only when really established there: outside by default.
        ({"country": "IE", "is_low_tax": True}, "outside", D("0")),
        # A small holding outside the EEA: outside; 10 % for two years: inside; low-tax: outside.
        ({"country": "US"}, "outside", D("0")),
        ({"country": "US", "holds_ten_percent": True}, "inside", D("1")),
        ({"country": "KY", "is_low_tax": True, "holds_ten_percent": True}, "outside", D("0")),
        # Switzerland is not in the EEA.
        ({"country": "CH"}, "outside", D("0")),
        # Funds by their equity share: more than 80 % is all, less than 20 % none, between split.
        ({"kind": Kind.EQUITY_FUND, "country": "NO"}, "inside", D("1")),
        (
            {"kind": Kind.COMBINATION_FUND, "country": "NO", "equity_share": D("92")},
            "inside",
            D("1"),
        ),
        (
            {"kind": Kind.COMBINATION_FUND, "country": "NO", "equity_share": D("60")},
            "partial",
            D("0.6"),
        ),
        (
            {"kind": Kind.COMBINATION_FUND, "country": "NO", "equity_share": D("80")},
            "partial",
            D("0.8"),
        ),
        (
            {"kind": Kind.COMBINATION_FUND, "country": "NO", "equity_share": D("15")},
            "outside",
            D("0"),
        ),
        ({"kind": Kind.COMBINATION_FUND, "country": "NO"}, "outside", D("0")),
        (
            {"kind": Kind.INTEREST_FUND, "country": "NO", "equity_share": D("100")},
            "outside",
            D("0"),
        ),
        ({"kind": Kind.EQUITY_FUND, "country": "US"}, "outside", D("0")),
        ({"kind": Kind.OTHER, "country": "NO"}, "outside", D("0")),
    ],
)
def test_the_default_follows_the_rules(facts, exemption, share):
    ruling = exemption_default(_instrument(**facts))
    assert (ruling.exemption, ruling.inside_share) == (exemption, share)
    assert ruling.reason


def test_a_person_can_override_the_rule_and_the_fund_thresholds_are_the_acts():
    us = _instrument(country="US", exemption_override="inside")
    assert (exemption_ruling(us).exemption, exemption_ruling(us).inside_share) == ("inside", 1)
    assert exemption_ruling(us).is_override
    partial = _instrument(country="NO", equity_share=D("35"), exemption_override="partial")
    assert exemption_ruling(partial).inside_share == D("0.35")
    # The override equal to the rule is just the rule.
    assert not exemption_ruling(_instrument(country="NO", exemption_override="inside")).is_override
    assert [fund_inside_share(D(p)) for p in ("80.01", "80", "20", "19.99")] == [
        D("1"),
        D("0.8"),
        D("0.2"),
        D("0"),
    ]
    assert fund_inside_share(None) is None


def _sale(**extra) -> Transaction:
    return Transaction(
        kind="sale",
        trade_date=date(2026, 3, 2),
        instrument_name="Fund",
        quantity=D("10"),
        amount=D("1500.00"),
        fees=D("20.00"),
        **extra,
    )


def _outside_gl() -> GLAccountSettings:
    return GLAccountSettings(profit_outside=8078, loss_outside=8178, dividend_outside=8074)


def test_a_sale_outside_the_method_posts_its_gain_and_loss_to_the_outside_accounts():
    gl = _outside_gl()
    # Proceeds 1 500,00 - fees 20,00 = 1 480,00; cost 1 000,00: gain 480,00, all outside.
    gain = build_lines(txn=_sale(), gl=gl, cost=D("1000.00"), inside_share=D("0"))
    assert [(line.account_number, line.amount) for line in gain] == [
        (1920, D("1480.00")),
        (1810, D("-1000.00")),
        (8078, D("-480.00")),
    ]
    # Cost 2 000,00: loss 520,00 outside (deductible).
    loss = build_lines(txn=_sale(), gl=gl, cost=D("2000.00"), inside_share=D("0"))
    assert [(line.account_number, line.amount) for line in loss][-1] == (8178, D("520.00"))
    # Inside (the default share 1): the inside accounts, as before.
    inside = build_lines(txn=_sale(), gl=gl, cost=D("1000.00"))
    assert [(line.account_number, line.amount) for line in inside][-1] == (8077, D("-480.00"))


def test_a_combination_funds_gain_is_split_by_its_equity_share():
    # Gain 1 480,00 - 1 000,33 = 479,67. 60 % inside: 479,67 x 0,6 = 287,802 -> 287,80 (to the øre,
    # half up); outside the rest: 479,67 - 287,80 = 191,87. The voucher still balances.
    lines = build_lines(txn=_sale(), gl=_outside_gl(), cost=D("1000.33"), inside_share=D("0.6"))
    assert [(line.account_number, line.amount) for line in lines] == [
        (1920, D("1480.00")),
        (1810, D("-1000.33")),
        (8077, D("-287.80")),
        (8078, D("-191.87")),
    ]
    assert sum(line.amount for line in lines) == 0


def test_a_dividend_outside_the_method_and_the_fallback_when_the_chart_has_no_outside_account():
    dividend = Transaction(
        kind="dividend", trade_date=date(2026, 5, 4), instrument_name="Apple", amount=D("1000.00")
    )
    # 40 % inside: 400,00 to 8071, 600,00 to the outside dividend account.
    lines = build_lines(txn=dividend, gl=_outside_gl(), inside_share=D("0.4"))
    assert [(line.account_number, line.amount) for line in lines] == [
        (1920, D("1000.00")),
        (8071, D("-400.00")),
        (8074, D("-600.00")),
    ]
    # The defaults: no outside dividend account, so 8071 takes all of it in one line.
    lines = build_lines(txn=dividend, gl=GLAccountSettings(), inside_share=D("0"))
    assert [(line.account_number, line.amount) for line in lines] == [
        (1920, D("1000.00")),
        (8071, D("-1000.00")),
    ]


def _chart(names: dict[int, str]) -> dict[int, ChartAccount]:
    return {n: ChartAccount(id=n, number=n, name=name) for n, name in names.items()}


def test_outside_roles_are_proposed_from_the_chart_or_stand_in_with_the_inside_accounts():
    chart = _chart(
        {
            8071: "Aksjeutbytte",
            8074: "Aksjeutbytte, utenfor fritaksmetoden",
            8077: "Gevinst ved realisasjon av aksjer/andeler, innenfor fritaksmetoden",
            8078: "Gevinst ved realisasjon av aksjer/andeler, utenfor fritaksmetoden",
            8177: "Tap ved realisasjon av aksjer/andeler, innenfor fritaksmetoden",
        }
    )
    found = {
        role: (p.number, p.state)
        for role in ("profit_outside", "loss_outside", "dividend_outside")
        for p in [gl_account_propose(role=role, chart=chart)]
    }
    assert found == {
        "profit_outside": (8078, State.DEFAULT),
        # No 8178: the inside loss account stands in, and the settings page says so.
        "loss_outside": (8177, State.FALLBACK),
        # No default number: the 807x account whose name says "utenfor" is found.
        "dividend_outside": (8074, State.NEAREST),
    }
    # An inside role never takes an outside account.
    assert gl_account_propose(role="dividend", chart=chart).number == 8071


@pytest.mark.django_db
def test_the_preview_posts_by_the_stored_instrument_and_an_unknown_one_by_its_isin(acme):
    dividend = record(
        acme,
        kind="dividend",
        instrument_name="Apple Inc.",
        isin="US0378331005",
        quantity=None,
        price=None,
        amount=D("1000.00"),
        fees=D("0"),
    )
    with scope(company=acme):
        gl = GLAccountSettings.objects.get_or_create(company=acme)[0]
        gl.dividend_outside = 8074
        gl.save()
        # No record yet: a share resident where its ISIN says (US), a small holding: outside.
        assert instrument_for(company=acme, txn=dividend).pk is None
        assert inside_share_for(company=acme, txn=dividend) == 0
        lines = [
            (line.account_number, line.amount)
            for line in voucher_preview(company=acme, txn=dividend).lines
        ]
        assert lines == [(1920, D("1000.00")), (8074, D("-1000.00"))]
        # A person says the firm has held 10 % for two years: inside.
        Instrument.objects.create(
            company=acme,
            key=dividend.instrument_key,
            name="Apple Inc.",
            country="US",
            holds_ten_percent=True,
        )
        lines = [
            (line.account_number, line.amount)
            for line in voucher_preview(company=acme, txn=dividend).lines
        ]
        assert lines == [(1920, D("1000.00")), (8071, D("-1000.00"))]

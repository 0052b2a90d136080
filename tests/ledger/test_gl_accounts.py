"""GL accounts from the firm's own chart: each role proposed (the default, else the nearest fitting
account of the same group, else flagged), the settings page showing proposed vs confirmed and never
saving an account the chart lacks, the firm page's warning, booking held back with the reason, and
the proposal made at onboarding."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.onboarding.saving import firm_onboard
from ledger.booking.protocol import booking_queue
from ledger.models import GLAccountSettings, LedgerAccount, Transaction
from ledger.models.transactions import GL_DEFAULTS
from ledger.transactions.tasks import gl_accounts_propose_task
from ledger.transactions.vouchers import (
    ROLE_FIT,
    ChartAccount,
    chart_fetch,
    gl_account_propose,
    gl_booking_problems,
    gl_settings_get,
    gl_settings_propose,
    roles_for,
)
from tests.ledger.support import record, reload
from tripletex.sandbox import demo

D = Decimal
State = GLAccountSettings.RoleState

# A firm's chart that lacks 8160 and 8071 (and the other new defaults but 8177): an older NS 4102
# chart as many firms still have it, with a currency-gain account and a tax-deduction bank account
# that must never be taken for a gain on shares or the trading bank.
OLD_CHART = {
    1810: "Markedsbaserte aksjer og verdipapirfondsandeler",
    1880: "Andre finansielle instrumenter",
    1920: "Bankinnskudd",
    1930: "Bankinnskudd, sparekonto",
    1950: "Bankinnskudd for skattetrekk",
    2220: "Langsiktig lån fra kredittinstitusjon",
    8040: "Renteinntekt tilbakebetalt skatt skattefri",
    8050: "Annen renteinntekt",
    8060: "Valutagevinst (agio)",
    8070: "Gevinst ved realisasjon av aksjer",
    8170: "Annen finanskostnad",
    8177: "Tap ved realisasjon av aksjer/andeler, innenfor fritaksmetoden",
    8300: "Betalbar skatt",
    8320: "Endring utsatt skatt",
}


def _chart(
    names: dict[int, str], inactive: frozenset[int] = frozenset()
) -> dict[int, ChartAccount]:
    return {
        n: ChartAccount(id=10_000 + n, number=n, name=name, is_inactive=n in inactive)
        for n, name in names.items()
    }


def _synced(company, names: dict[int, str]) -> None:
    """The firm's chart as the sync stores it (fresh, so chart_known reads it)."""
    with scope(company=company):
        LedgerAccount.objects.bulk_create(
            LedgerAccount(
                company=company, tripletex_id=n, number=n, name=name, synced_at=timezone.now()
            )
            for n, name in names.items()
        )


def _url(name, company):
    return reverse(f"ledger:{name}", kwargs={"company_slug": company.slug})


def test_gl_defaults_proposed_from_a_chart_that_lacks_8160_and_8071():
    chart = _chart(OLD_CHART)
    proposed = {role: gl_account_propose(role=role, chart=chart) for role in GL_DEFAULTS}
    found = {role: (p.number, p.state) for role, p in proposed.items()}
    assert found == {
        "bank": (1920, State.DEFAULT),
        "securities": (1810, State.DEFAULT),
        "repayment": (1810, State.DEFAULT),
        # 8077 is missing: the nearest gain account of 807x, never 8060 Valutagevinst.
        "profit": (8070, State.NEAREST),
        # The loss default 8177 is there; that 8160 (Valutatap) is missing does not matter.
        "loss": (8177, State.DEFAULT),
        # No dividend account in 807x or 80xx: flagged, never 8040 or 8070.
        "dividend": (8071, State.FLAGGED),
        "interest": (8050, State.DEFAULT),
        "instrument_loan": (2220, State.DEFAULT),
        "withholding_tax": (8300, State.DEFAULT),
        "fund_switch": (1880, State.NEAREST),
        "fees": (8170, State.NEAREST),
        # No account outside the exemption method: the inside proposals stand in (flagged with
        # the dividend, which has none).
        "profit_outside": (8070, State.FALLBACK),
        "loss_outside": (8177, State.FALLBACK),
        "dividend_outside": (8071, State.FLAGGED),
    }
    assert proposed["profit"].name == "Gevinst ved realisasjon av aksjer"


def test_an_inactive_default_gives_way_to_the_nearest_fitting_account_of_the_group():
    chart = _chart(OLD_CHART, inactive=frozenset({1920, 8177}))
    bank = gl_account_propose(role="bank", chart=chart)
    # 1930 rather than 1950, the tax-deduction account, though both are in 19xx.
    assert (bank.number, bank.state) == (1930, State.NEAREST)
    loss = gl_account_propose(role="loss", chart=chart)
    assert (loss.number, loss.state) == (8177, State.FLAGGED)
    outside = {**OLD_CHART, 8178: "Tap ved realisasjon av aksjer/andeler, utenfor fritaksmetoden"}
    with_outside = _chart(outside, frozenset({8177}))
    # 8178 is outside the exemption method: never the inside loss, but the outside one's default.
    assert gl_account_propose(role="loss", chart=with_outside).state == State.FLAGGED
    assert gl_account_propose(role="loss_outside", chart=with_outside).number == 8178


def test_every_role_has_a_fit_and_every_transaction_type_its_roles():
    assert set(ROLE_FIT) == set(GL_DEFAULTS) == set(GLAccountSettings.ROLES)
    assert roles_for("sale") == (
        "bank",
        "securities",
        "profit",
        "loss",
        "profit_outside",
        "loss_outside",
    )
    assert roles_for("dividend", "loan") == (
        "instrument_loan",
        "dividend",
        "fees",
        "dividend_outside",
    )
    assert roles_for("journal") == ()


@pytest.mark.django_db
def test_the_defaults_exist_in_the_sandbox_chart_under_names_that_fit_their_roles(sandbox_acme):
    """The demo cannot hide a wrong default: each default is in the sandbox's chart, and its name
    says it does the role's job (8160 named "Tap ved realisasjon av aksjer" once did)."""
    from companies.credentials import tripletex_client_for

    with scope(company=sandbox_acme):
        chart = chart_fetch(company=sandbox_acme, client=tripletex_client_for(sandbox_acme))
    for role, number in GL_DEFAULTS.items():
        if role == "dividend_outside":
            # No source names an account for dividends outside the exemption method and the
            # sandbox has none: the dividend account stands in, and the settings page says so.
            assert gl_account_propose(role=role, chart=chart).state == State.FALLBACK
            continue
        assert ROLE_FIT[role].fits(chart[number].name), (role, number, chart[number].name)
        assert gl_account_propose(role=role, chart=chart).state == State.DEFAULT
    assert chart[8160].name == "Valutatap (disagio)"
    assert not ROLE_FIT["loss"].fits(chart[8160].name)


@pytest.mark.django_db
def test_proposals_are_saved_but_never_replace_a_confirmed_role(acme):
    chart = _chart(OLD_CHART)
    with scope(company=acme):
        gl = gl_settings_get(company=acme)
        gl.fees, gl.role_states = 7770, {"fees": State.CONFIRMED}
        gl.save()
        gl_settings_propose(company=acme, gl=gl, chart=chart)
        gl = GLAccountSettings.objects.get(company=acme)
    assert (gl.profit, gl.role_state("profit")) == (8070, State.NEAREST)
    assert (gl.dividend, gl.role_state("dividend")) == (8071, State.FLAGGED)
    assert (gl.fees, gl.role_state("fees")) == (7770, State.CONFIRMED)


@pytest.mark.django_db
def test_settings_page_proposes_from_the_synced_chart_and_shows_proposed_vs_confirmed(
    client, fiona, acme, local_cache
):
    _synced(acme, OLD_CHART)
    client.force_login(fiona)
    page = client.get(_url("gl_settings", acme))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-role="profit"' in html
    form = page.context["form"]
    assert (form["profit"].value(), form["dividend"].value()) == (8070, 8071)
    states = {field.name: state for field, _a, _p, state, _l in page.context["rows"]}
    assert states["profit"] == "nearest"
    assert states["bank"] == "default"
    assert states["dividend"] == "flagged"
    assert "Foreslått: nærmeste konto i samme gruppe" in html
    assert "Ingen passende konto i kontoplanen" in html
    assert "Konto 8071 finnes ikke i Tripletex." in html

    # Choosing an existing account for the flagged role and saving confirms every role.
    data = {role: form[role].value() for role in form.fields}
    data["dividend"] = 8050
    data["dividend_outside"] = 8050  # it stood in for the flagged dividend account too
    response = client.post(_url("gl_settings", acme), data)
    assert response.status_code == 302
    with scope(company=acme):
        gl = GLAccountSettings.objects.get(company=acme)
    assert gl.dividend == 8050
    assert gl.role_states == dict.fromkeys(GLAccountSettings.ROLES, "confirmed")
    page = client.get(_url("gl_settings", acme)).content.decode()
    assert page.count('data-state="confirmed"') == len(GLAccountSettings.ROLES)


@pytest.mark.django_db
def test_settings_with_a_missing_or_inactive_account_are_refused_and_nothing_is_saved(
    client, fiona, acme, local_cache
):
    _synced(acme, {**OLD_CHART, 8071: "Aksjeutbytte fra norske selskaper"})
    with scope(company=acme):
        LedgerAccount.objects.filter(company=acme, number=1930).update(is_active=False)
    client.force_login(fiona)
    form = client.get(_url("gl_settings", acme)).context["form"]
    data = {role: form[role].value() for role in form.fields}
    with scope(company=acme):
        before = GLAccountSettings.objects.values().get(company=acme)
    for role, bad, message in (
        ("fees", 9999, "Konto 9999 finnes ikke i Tripletex."),
        ("bank", 1930, "Konto 1930 er inaktiv i Tripletex."),
    ):
        response = client.post(_url("gl_settings", acme), {**data, role: bad})
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html
        assert "Kontoinnstillingene er lagret." not in html
        assert "errorlist" in html
        with scope(company=acme):
            assert GLAccountSettings.objects.values().get(company=acme) == before


@pytest.mark.django_db
def test_settings_are_not_saved_when_the_chart_cannot_be_read(client, fiona, acme, local_cache):
    client.force_login(fiona)
    form = client.get(_url("gl_settings", acme)).context["form"]
    data = {role: form[role].value() for role in form.fields}
    response = client.post(_url("gl_settings", acme), {**data, "fees": 7770})
    assert response.status_code == 200
    assert "kontoene kan ikke kontrolleres" in response.content.decode()
    with scope(company=acme):
        assert GLAccountSettings.objects.get(company=acme).fees == GL_DEFAULTS["fees"]


@pytest.mark.django_db
def test_firm_page_warns_while_a_role_a_type_uses_has_no_valid_account(
    client, anders, fiona, acme, local_cache
):
    _synced(acme, OLD_CHART)
    home = reverse("companies:company_home", kwargs={"company_slug": acme.slug})
    client.force_login(anders)  # an accountant sees the warning, without the settings link
    html = client.get(home).content.decode()
    assert 'data-testid="gl-warning"' in html
    assert 'data-testid="gl-warning-role" data-role="dividend"' in html
    assert html.count('data-testid="gl-warning-role"') == 1
    assert "Konto 8071 finnes ikke i Tripletex." in html
    assert "Holdt tilbake: Utbytte." in html
    assert _url("gl_settings", acme) not in html

    client.force_login(fiona)
    assert _url("gl_settings", acme) in client.get(home).content.decode()
    with scope(company=acme):
        gl = GLAccountSettings.objects.get(company=acme)
        gl.dividend = gl.dividend_outside = 8050
        gl.save()
    assert 'data-testid="gl-warning"' not in client.get(home).content.decode()


@pytest.mark.django_db
def test_booking_a_type_whose_role_has_no_account_is_held_back_with_the_reason(acme, local_cache):
    # Recorded before the chart was known (entry then refuses a role without an account,
    # tests/ledger/test_entry_checks.py); the chart read since lacks the dividend account.
    dividend = record(
        acme, kind="dividend", quantity=None, price=None, amount=D("1200.00"), fees=D("0")
    )
    purchase = record(acme)
    _synced(acme, OLD_CHART)
    with scope(company=acme):
        assert gl_booking_problems(company=acme, txn=purchase) == []
        counts = booking_queue(
            company=acme, transaction_ids=[dividend.pk, purchase.pk], enqueue=False
        )
    assert counts["queued"] == 1
    assert counts["rejected"] == 1
    held = reload(dividend)
    assert held.status == Transaction.Status.REJECTED
    assert held.cost_basis is None
    # One message per role without an account (the fees role's default is missing too);
    # stored as said at the click (English outside a request here; bokmål for people).
    assert any(
        "«Dividend»" in m and "Account 8071 does not exist in Tripletex." in m
        for m in held.messages
    )
    assert reload(purchase).status == Transaction.Status.QUEUED


@pytest.mark.django_db
def test_a_flagged_role_holds_booking_back_even_when_no_chart_is_known_now(acme, local_cache):
    with scope(company=acme):
        gl = gl_settings_get(company=acme)
        gl.role_states = {"dividend": State.FLAGGED}
        gl.save()
        txn = Transaction(company=acme, kind="dividend", trade_date=date(2026, 1, 5))
        assert gl_booking_problems(company=acme, txn=txn)
        txn.kind = "interest"
        assert gl_booking_problems(company=acme, txn=txn) == []


@pytest.mark.django_db(transaction=True)
def test_onboarding_proposes_every_role_from_the_firms_chart(
    tripletex_sandbox, private_var_dir, django_capture_on_commit_callbacks, monkeypatch
):
    # The worker's part, run here: onboarding enqueues the task by its name after commit.
    sent = []

    def run_now(**kwargs):
        sent.append(kwargs)
        return gl_accounts_propose_task.apply(kwargs=kwargs)

    monkeypatch.setattr(gl_accounts_propose_task, "delay", run_now)
    with django_capture_on_commit_callbacks(execute=True):
        result = firm_onboard(
            org_number=demo.HOLDING.org_number,
            name="",
            members=[],
            key_type="own",
            token=demo.HOLDING_TOKEN,
            by=None,
        )
    assert sent == [{"company_id": result.company.pk}]
    with scopes_disabled():
        gl = GLAccountSettings.objects.get(company=result.company)
    assert gl.role_states == {
        **dict.fromkeys(GLAccountSettings.ROLES, "default"),
        "dividend_outside": "fallback",
    }
    assert {role: getattr(gl, role) for role in GL_DEFAULTS} == GL_DEFAULTS


@pytest.mark.django_db(transaction=True)
def test_migration_moves_untouched_old_defaults_and_confirms_what_someone_chose():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("ledger", target)])
        return executor.loader.project_state([("ledger", target)]).apps

    apps = migrate("0006_reverse_sent_at")
    try:
        company = apps.get_model("companies", "Company").objects.create(
            org_number="923609016", name="Gammel AS", slug="gammel-as"
        )
        apps.get_model("ledger", "GLAccountSettings").objects.create(
            company=company, loss=8160, fees=7770
        )
        apps = migrate("0007_gl_defaults_and_role_states")
        gl = apps.get_model("ledger", "GLAccountSettings").objects.get(company_id=company.pk)
        assert (gl.profit, gl.loss, gl.dividend, gl.fund_switch) == (8077, 8177, 8071, 1889)
        assert (gl.bank, gl.fees) == (1920, 7770)
        assert gl.role_states == {"fees": "confirmed"}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

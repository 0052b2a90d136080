"""Every page under /c/<company_slug>/ is closed to outsiders (404), to members without the role (403)
and to anonymous visitors (redirect to login), and no page shows or changes another company's row
when its id is put into a URL under this company's slug. The URL list is read from the URLconf, so
a new company page is covered the moment it is added."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

import pytest
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from companies.invitations import invitation_create
from companies.models import ROLE_RANK, Company, Role
from companies.services import membership_set
from ledger.models import AccountBalance, LedgerAccount
from ledger.transactions.services import transaction_create
from tests.conftest import make_user

COMPANY_PREFIX = "c/<slug:company_slug>/"
_CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_SAMPLE = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def company_routes() -> list[tuple[str, URLPattern]]:
    """(route, pattern) for every URL pattern under the company prefix."""
    return [(r, p) for r, p in _walk(get_resolver().url_patterns) if r.startswith(COMPANY_PREFIX)]


def _url(route: str, slug: str) -> str:
    route = route.replace("<slug:company_slug>", slug, 1).lstrip("^").rstrip("$")
    return "/" + _CONVERTER.sub(lambda m: _SAMPLE[m.group("conv") or "str"], route)


def _required_role(pattern: URLPattern) -> str:
    return pattern.callback.required_role


ROUTES = company_routes()
IDS = [route for route, _ in ROUTES]


def test_company_pages_exist():
    assert len(ROUTES) >= 2


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_every_company_view_declares_its_role(route, pattern):
    # A view without company_role_required would only be guarded by the middleware.
    assert getattr(pattern.callback, "required_role", None) in set(Role), route


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_outsider_gets_404(client, bob, acme, route, pattern):
    client.force_login(bob)
    for method in ("get", "post"):
        assert getattr(client, method)(_url(route, acme.slug)).status_code == 404


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_unknown_company_gets_404(client, alice, route, pattern):
    client.force_login(alice)
    assert client.get(_url(route, "no-such-company")).status_code == 404


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_anonymous_is_sent_to_login(client, acme, route, pattern):
    response = client.get(_url(route, acme.slug))
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logg-inn/")


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_member_without_the_role_gets_403(client, members_by_role, acme, route, pattern):
    needed = ROLE_RANK[Role(_required_role(pattern))]
    weaker = [user for role, user in members_by_role.items() if ROLE_RANK[Role(role)] < needed]
    for user in weaker:
        client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(_url(route, acme.slug))
            assert response.status_code == 403, (route, user.email, method)


# The tests above prove the middleware: an outsider never gets past the slug. The tests below prove
# each view: Acme's strongest member asks, under Acme's slug, for a real row of Bergen. Every URL
# parameter needs a filler, keyed by the route's first segment and the parameter's name, so a new
# page that takes an id fails here until someone says which row the id names; from then on the page
# must answer 404 for the other company's row (and leave it as it was).

MONTH = datetime.date(2026, 3, 1)
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>")


@dataclass(frozen=True)
class Value:
    """A parameter that names no row (a year, a month): the same value for both companies."""

    value: int


@dataclass(frozen=True)
class Row:
    """A parameter that names a company's row: make(company, marker) creates one labelled `marker`
    (its note, name or e-mail), key(row) is what goes into the URL. `answers_404=False` is for a key that is only
    unique per company (an account number): the page says the company has no such account, so it
    must answer as for its own row and show nothing of the other company's."""

    make: Callable[[Company, str], Model]
    key: Callable[[Any], int] = attrgetter("pk")
    answers_404: bool = True


def _transaction(company: Company, marker: str) -> Model:
    data = {
        "kind": "purchase",
        "trade_date": MONTH,
        "instrument_name": "Equinor ASA",
        "isin": "NO0010096985",
        "quantity": Decimal("100"),
        "price": Decimal("250.00"),
        "amount": Decimal("25000.00"),
        "currency": "NOK",
        "settle_via": "bank",
        "note": marker,
    }
    with scope(company=company):
        return transaction_create(company=company, data=data, by=None)


def _broker_account(company: Company, marker: str) -> Model:
    from ledger.models import BrokerAccount

    with scope(company=company):
        return BrokerAccount.objects.create(
            company=company, broker="nordnet", number=marker, cash_account=1921
        )


def _inbox_batch(company: Company, marker: str) -> Model:
    from ledger.models import ImportBatch

    with scope(company=company):
        return ImportBatch.objects.create(
            company=company, format_key="nordnet", format_label="Nordnet", file_name=marker
        )


def _inbox_row(company: Company, marker: str) -> Model:
    from ledger.models import InboxRow

    batch = _inbox_batch(company, marker)
    data = {"kind": "fee", "trade_date": "2026-03-02", "amount": "10.00", "note": marker}
    with scope(company=company):
        return InboxRow.objects.create(
            company=company, batch=batch, line=2, position=0, source_type="AVGIFT", kind="fee",
            data=data,
        )  # fmt: skip


def _membership(company: Company, marker: str) -> Model:
    return membership_set(
        company=company, user=make_user(f"{marker}@example.no"), role=Role.ACCOUNTANT
    )


def _invitation(company: Company, marker: str) -> Model:
    return invitation_create(
        company=company, email=f"{marker}@example.no", role=Role.ACCOUNTANT, by=None
    )


def _account(company: Company, marker: str) -> Model:
    # Account numbers repeat across companies; each row here gets a number no other company has.
    with scopes_disabled():
        number = 1500 + LedgerAccount.objects.count()
    now = timezone.now()
    with scope(company=company):
        account = LedgerAccount.objects.create(
            company=company, tripletex_id=number, number=number, name=marker, synced_at=now
        )
        AccountBalance.objects.create(
            company=company,
            account_number=number,
            month=MONTH,
            balance_in=Decimal("0.00"),
            balance_change=Decimal("4711.13"),
            balance_out=Decimal("4711.13"),
            synced_at=now,
        )
    return account


def _report_pack(company: Company, marker: str) -> Model:
    from ledger.models import ReportPack

    with scope(company=company):
        return ReportPack.objects.create(
            company=company, month=MONTH, status="done", pdf=f"%PDF {marker}".encode()
        )


def _contract_note(company: Company, marker: str) -> Model:
    from ledger.contract_notes.services import contract_note_attach
    from tests.ledger.contract_notes.support import pdf_with_text, upload

    txn = _transaction(company, marker)
    with scope(company=company):
        pdf = upload(f"{marker}.pdf", pdf_with_text(f"Sluttseddel {marker}"))
        return contract_note_attach(company=company, txn=txn, upload=pdf, by=None)


FILLERS: dict[tuple[str, str], Value | Row] = {
    ("transaksjoner", "pk"): Row(_transaction),
    ("transaksjoner", "note_id"): Row(_contract_note),
    ("brukere", "pk"): Row(_membership),
    ("meglerkontoer", "pk"): Row(_broker_account),
    ("innboks", "batch_id"): Row(_inbox_batch),
    ("innboks", "row_id"): Row(_inbox_row),
    ("invitasjoner", "pk"): Row(_invitation),
    ("posteringer", "account"): Row(_account, key=attrgetter("number"), answers_404=False),
    ("posteringer", "year"): Value(MONTH.year),
    ("posteringer", "month"): Value(MONTH.month),
    ("rapportpakke", "pack_id"): Row(_report_pack),
}


def _params(route: str) -> list[tuple[str, str]]:
    """(first segment, name) of each URL parameter after the company prefix."""
    rest = route[len(COMPANY_PREFIX) :].lstrip("^")
    segment = rest.split("/", 1)[0]
    names = [m.group("name") for m in _REGEX_GROUP.finditer(rest)]
    names += [m.group("name") for m in _CONVERTER.finditer(_REGEX_GROUP.sub("(", rest))]
    return [(segment, name) for name in names]


def _fillers(route: str) -> dict[str, Value | Row]:
    unknown = [key for key in _params(route) if key not in FILLERS]
    if unknown or _REGEX_GROUP.search(route):
        pytest.fail(
            f"{route}: no filler for {unknown or 'a regex group'}; use path() converters and add "
            "the row each parameter names to FILLERS in tests/test_tenant_isolation.py."
        )
    return {name: FILLERS[(segment, name)] for segment, name in _params(route)}


def _filled(route: str, slug: str, values: dict[str, object]) -> str:
    route = route.replace("<slug:company_slug>", slug, 1)
    return "/" + _CONVERTER.sub(lambda m: str(values[m.group("name")]), route)


def _rows_state(rows: list[Model]) -> list[dict | None]:
    with scopes_disabled():
        return [type(row).objects.filter(pk=row.pk).values().first() for row in rows]


ROW_ROUTES = [
    (route, pattern)
    for route, pattern in ROUTES
    if any(not isinstance(FILLERS.get(key), Value) for key in _params(route))
]


def test_every_url_parameter_has_a_filler():
    missing = sorted(
        {(route, key) for route, _ in ROUTES for key in _params(route) if key not in FILLERS}
    )
    assert missing == [], "add the row each of these names to FILLERS"
    assert not [route for route, _ in ROUTES if _REGEX_GROUP.search(route)], "use path()"
    assert len(ROW_ROUTES) >= 2


@pytest.mark.parametrize(("route", "pattern"), ROW_ROUTES, ids=[r for r, _ in ROW_ROUTES])
def test_another_companys_row_is_not_found(client, acme, bergen, members_by_role, route, pattern):
    fillers = _fillers(route)
    theirs: dict[str, object] = {}
    ours: dict[str, object] = {}
    foreign_rows: list[Model] = []
    for name, filler in fillers.items():
        if isinstance(filler, Value):
            theirs[name] = ours[name] = filler.value
            continue
        foreign = filler.make(bergen, f"bergen-only-{name}")
        foreign_rows.append(foreign)
        theirs[name] = filler.key(foreign)
        ours[name] = filler.key(filler.make(acme, f"acme-own-{name}"))
    answers_404 = all(f.answers_404 for f in fillers.values() if isinstance(f, Row))
    before = _rows_state(foreign_rows)
    strongest = max(members_by_role, key=lambda role: ROLE_RANK[Role(role)])
    client.force_login(members_by_role[strongest])
    answered = []
    for method in ("get", "post"):
        their_response = getattr(client, method)(_filled(route, acme.slug, theirs))
        our_response = getattr(client, method)(_filled(route, acme.slug, ours))
        if our_response.status_code == 405:
            assert their_response.status_code == 405, (route, method)
            continue
        answered.append(method)
        # Acme's own row is found, so the 404 below is the view's company filter at work.
        assert our_response.status_code != 404, (route, method)
        if not answers_404 and method == "get":
            # Where both answer alike, the page must show its own row's data for "shows nothing
            # of theirs" to mean anything.
            assert b"acme-own-" in our_response.content, (route, method)
        expected = 404 if answers_404 else our_response.status_code
        assert their_response.status_code == expected, (route, method)
        assert b"bergen-only-" not in their_response.content, (route, method)
    assert answered, route
    assert _rows_state(foreign_rows) == before, route

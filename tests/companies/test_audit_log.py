"""The audit log in words: every code has a Norwegian label, the staff admin shows labels and
Norwegian column names (never `membership.removed`), and a firm's administrators read their own
firm's log on a read-only page."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from companies.audit import audit_record
from companies.audit_actions import AUDIT_ACTIONS, audit_action_label
from companies.models import AuditEvent, Membership
from companies.services import member_remove

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("companies", "ledger", "dynamik", "tripletex")
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _is_audit_record(node: ast.AST) -> bool:
    func = getattr(node, "func", None)
    name = getattr(func, "id", None) or getattr(func, "attr", None)
    return isinstance(node, ast.Call) and name == "audit_record"


def _strings(nodes: list[ast.expr]) -> list[str]:
    return [
        node.value
        for source in nodes
        for node in ast.walk(source)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _codes_in(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, int]]:
    """The codes the function's audit_record calls write: literals, both sides of a conditional,
    or whatever was assigned to a variable named `action`."""
    assigned = [
        node.value
        for node in ast.walk(function)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "action" for t in node.targets)
    ]
    found = []
    for call in filter(_is_audit_record, ast.walk(function)):
        for keyword in call.keywords:  # type: ignore[attr-defined]
            if keyword.arg == "action":
                named = isinstance(keyword.value, ast.Name)
                codes = _strings(assigned if named else [keyword.value])
                found += [(code, call.lineno) for code in codes]  # type: ignore[attr-defined]
    return found


def _recorded_codes() -> dict[str, str]:
    """Every action code an audit_record(...) call in the source can write → where."""
    codes: dict[str, str] = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for function in ast.walk(ast.parse(path.read_text())):
                if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    for code, line in _codes_in(function):
                        codes[code] = f"{path.relative_to(ROOT)}:{line}"
    return codes


def test_every_recorded_code_has_a_label():
    codes = _recorded_codes()
    assert "membership.removed" in codes  # the scan finds the calls
    assert "key.replaced" in codes  # and both branches of a conditional code
    missing = {code: where for code, where in codes.items() if code not in AUDIT_ACTIONS}
    assert missing == {}
    assert all(CODE.match(code) for code in AUDIT_ACTIONS)


def test_labels_are_norwegian():
    with translation.override("en"):
        english = {code: str(label) for code, label in AUDIT_ACTIONS.items()}
    with translation.override("nb"):
        untranslated = [
            code for code, label in AUDIT_ACTIONS.items() if str(label) == english[code]
        ]
        assert untranslated == []
        assert audit_action_label("membership.removed") == "Bruker fjernet"
        assert audit_action_label("no.such_code") == "Annen endring"


@pytest.fixture
def logged_firms(acme, bergen, alice, anders, bob):
    """Acme's admin removed Anders; Bergen has an event of its own."""
    membership = Membership.objects.get(company=acme, user=anders)
    member_remove(company=acme, membership=membership, by=alice)
    audit_record(company=bergen, actor=bob, action="key.set", detail="bergen-only-detail")
    return acme, bergen


def test_a_firms_admin_reads_only_the_firms_own_log(client, alice, logged_firms):
    acme, _bergen = logged_firms
    client.force_login(alice)
    members = client.get(f"/c/{acme.slug}/brukere/").content.decode()
    assert f'href="/c/{acme.slug}/brukere/logg/"' in members
    response = client.get(f"/c/{acme.slug}/brukere/logg/")
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'<tr data-testid="audit-event">(.*?)</tr>', html, re.S)
    assert len(rows) == AuditEvent.objects.filter(company=acme).count() >= 1
    removed = next(r for r in rows if "Bruker fjernet" in r)
    assert "alice@acme.no" in removed
    assert "anders@acme.no" in removed
    assert "membership.removed" not in html
    assert "bergen-only-detail" not in html
    assert [code for code in AUDIT_ACTIONS if code in html] == []
    # Read-only: nothing to post.
    assert client.post(f"/c/{acme.slug}/brukere/logg/").status_code == 405


def test_only_administrators_read_the_log(client, anders, fiona, acme):
    for user in (anders, fiona):
        client.force_login(user)
        assert client.get(f"/c/{acme.slug}/brukere/logg/").status_code == 403


def test_the_log_pages_by_fifty(client, alice, acme):
    for i in range(55):
        audit_record(company=acme, actor=alice, action="invitation.sent", detail=f"n{i}@x.no")
    client.force_login(alice)
    first = client.get(f"/c/{acme.slug}/brukere/logg/").content.decode()
    assert first.count('data-testid="audit-event"') == 50
    second = client.get(f"/c/{acme.slug}/brukere/logg/?side=2").content.decode()
    assert second.count('data-testid="audit-event"') == 55 - 50
    assert "n0@x.no" in second  # the oldest last
    assert client.get(f"/c/{acme.slug}/brukere/logg/?side=x").status_code == 200


ENGLISH = ("Created at", "Company label", "Actor", "Action", "Detail", ">User<", ">Company<")


def test_the_staff_admin_shows_labels_and_norwegian_column_names(client, staff, logged_firms):
    client.force_login(staff)
    html = client.get("/admin/companies/auditevent/").content.decode()
    assert "Bruker fjernet" in html
    assert "membership.removed" not in html.replace("action=membership.removed", "")
    for heading in ("Tidspunkt", "Hendelse", "Utført av", "Detaljer"):
        assert heading in html, heading
    filtered = client.get("/admin/companies/auditevent/?action=membership.removed").content.decode()
    assert filtered.count('class="field-event"') == 1
    event = AuditEvent.objects.filter(action="membership.removed").first()
    page = client.get(f"/admin/companies/auditevent/{event.pk}/change/").content.decode()
    assert "Bruker fjernet" in page
    for path in (
        "/admin/companies/auditevent/",
        f"/admin/companies/auditevent/{event.pk}/change/",
        "/admin/companies/company/",
        "/admin/companies/membership/",
        f"/admin/companies/membership/{Membership.objects.first().pk}/change/",
    ):
        text = client.get(path).content.decode()
        found = [word for word in ENGLISH if word in text]
        assert found == [], path


def test_an_unknown_code_reads_other_change(db, acme):
    audit_record(company=acme, actor=None, action="something.renamed")
    with translation.override("nb"):
        assert AuditEvent.objects.get(action="something.renamed").action_label == "Annen endring"

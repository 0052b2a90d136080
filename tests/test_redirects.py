"""Open redirects: every `next=` the project follows goes through companies/redirects.py, which
sends a target off this site (or to plain http from an https page) to the page's own fallback."""

import ast
import re
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from companies.redirects import safe_next_url
from tests.conftest import PASSWORD
from tests.ledger.support import record
from tests.mfa import enrol

ROOT = Path(__file__).resolve().parents[1]
OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
    " //evil.example/",
    "\t//evil.example/",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_helper_refuses_every_target_off_this_site(target):
    request = RequestFactory().get("/")
    assert safe_next_url(request, target, fallback="/fallback/") == "/fallback/"


@pytest.mark.parametrize("target", ["/c/acme/transaksjoner/?status=waiting", "http://testserver/x"])
def test_the_helper_keeps_a_page_of_this_site(target):
    request = RequestFactory().get("/")
    assert safe_next_url(request, target, fallback="/fallback/") == target


def test_an_https_page_never_sends_on_to_plain_http():
    request = RequestFactory().get("/", secure=True)
    assert safe_next_url(request, "http://testserver/x", fallback="/f/") == "/f/"
    assert safe_next_url(request, "https://testserver/x", fallback="/f/") == "https://testserver/x"


def _book_url(company, txn):
    return reverse("ledger:transaction_book", kwargs={"company_slug": company.slug, "pk": txn.pk})


@pytest.mark.parametrize("target", OFF_SITE)
def test_book_to_tripletex_does_not_follow_a_next_off_this_site(
    client, fiona, acme, target, monkeypatch
):
    from ledger.booking import tasks as booking_tasks

    monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", lambda **kw: None)
    txn = record(acme)
    client.force_login(fiona)
    response = client.post(_book_url(acme, txn), {"next": target})
    assert response.status_code == 302
    detail = reverse("ledger:transaction_detail", kwargs={"company_slug": acme.slug, "pk": txn.pk})
    assert response["Location"] == detail


def test_book_to_tripletex_follows_a_next_on_this_site(client, fiona, acme, monkeypatch):
    from ledger.booking import tasks as booking_tasks

    monkeypatch.setattr(booking_tasks.transaction_book_task, "delay", lambda **kw: None)
    txn = record(acme)
    listing = reverse("ledger:transactions", kwargs={"company_slug": acme.slug}) + "?status=waiting"
    client.force_login(fiona)
    response = client.post(_book_url(acme, txn), {"next": listing})
    assert response["Location"] == listing


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/"])
def test_the_login_doors_do_not_follow_a_next_off_this_site(client, fiona, staff, target):
    # The site login (Django's LoginView asks the same check), the second step, and the admin.
    response = client.post(
        reverse("login") + "?next=" + target, {"username": fiona.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    client.logout()
    enrol(staff)
    client.force_login(staff, mfa=False)
    response = client.get(reverse("mfa_verify"), {"next": target})
    assert response.status_code == 200
    # The code form's next (and the language switch's, this page's own path) stay on the site.
    nexts = re.findall(r'name="next" value="([^"]*)"', response.content.decode())
    assert nexts
    assert all(value.startswith("/") and not value.startswith("//") for value in nexts), nexts
    client.force_login(staff)
    response = client.get(reverse("admin:login"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_only_the_helper_asks_django_whether_a_target_is_safe():
    """One rule in one place: nothing else in the project calls url_has_allowed_host_and_scheme,
    and every function that reads a `next` from the request hands it to the helper."""
    sources = [p for app in ("companies", "ledger", "dynamik") for p in (ROOT / app).rglob("*.py")]
    direct = [
        str(p.relative_to(ROOT))
        for p in sources
        if "url_has_allowed_host_and_scheme" in p.read_text()
        and p != ROOT / "companies" / "redirects.py"
    ]
    assert direct == []
    reads = re.compile(r"request\.(GET|POST)(\.get\(|\[)[\"']next[\"']")
    unchecked = []
    for path in sources:
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = ast.get_source_segment(text, node) or ""
                if reads.search(body) and "safe_next_url" not in body:
                    unchecked.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert unchecked == []
    assert any(reads.search(p.read_text()) for p in sources), "the pattern is stale"


def test_the_login_follows_a_next_on_this_site(client, anders, acme):
    target = reverse("companies:company_home", kwargs={"company_slug": acme.slug})
    response = client.post(
        reverse("login") + "?next=" + target, {"username": anders.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == target

"""The report pack: the accountant comments, clicks, and downloads a PDF whose text (pdftotext)
carries the P&L page's figures, the budget and its variance, the balance sheet, the comments, the
firm's name and org number on every page and "Side N av M"; another company's pack is a 404.

Figures of `pack_firm` (tests/ledger/reporting/conftest.py), fiscal year 2025 through March, by hand:

* Operating revenue: 3000 100 000 + 120 000 + 80 000 = 300 000, 3900 5 000 → 305 000 (March
  80 000); last year 3000 90 000 + 90 000 + 70 000 = 250 000; change 55 000; budget 3 × 110 000 =
  330 000; variance 305 000 − 330 000 = −25 000.
* Payroll 5000: 3 × 30 000 = 90 000; budget 3 × 28 000 = 84 000; variance 6 000.
* Operating result: 305 000 − 120 000 (4300) − 90 000 − 6 000 (6010) − 30 000 (6300) = 59 000;
  its budget 330 000 − 84 000 − 30 000 = 216 000; variance −157 000.
* Net result: 59 000 + 1 500 (8050) − 1 500 (8150) − 10 000 (8300) = 49 000.
* Balance at the end of March 2025: 1920 is the other side of every month, so total assets =
  1920 = 30 000 (share capital) + 2024's result (closed to 2050) + 49 000.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django_scopes import scope

from companies.services import company_create, membership_set
from ledger.models import ReportComment, ReportPack
from ledger.packs.pdf import pack_render
from tests.browser import ARTIFACTS
from tests.conftest import make_user
from tests.ledger.figures_data import month
from tests.ledger.reporting.conftest import pack_changes

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)

AMOUNT = re.compile(r"−?\d{1,3}(?:[ \u00a0]\d{3})*,\d{2}")
MARCH = month(2025, 3)


def pdf_text(data: bytes, tmp_path: Path, name: str = "pack") -> str:
    """The PDF's text as pdftotext lays it out (one string; pages split by form feeds)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout.replace("\u00a0", " ")


def amounts_of(line: str) -> list[Decimal]:
    """The amounts on a line of text, as Decimals ('−25 000,00' → -25000.00)."""
    return [
        Decimal(a.replace("−", "-").replace(" ", "").replace("\u00a0", "").replace(",", "."))
        for a in AMOUNT.findall(line)
    ]


def line_starting(text: str, label: str) -> str:
    """The first line starting with `label` after the cover (page 1 repeats a few figures)."""
    after_cover = text.split("\f", 1)[-1]
    lines = [ln.strip() for ln in after_cover.splitlines() if ln.strip().startswith(label)]
    assert lines, f"no line starts with {label!r}"
    return lines[0]


class _RowCells(HTMLParser):
    """The text of each <td> of the <tr data-testid=…> rows of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("data-testid"):
            self._row = attrs["data-testid"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self.rows[self._row].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_whole_kroner(cell: str) -> Decimal:
    return Decimal(cell.replace("\u2212", "-").replace("\u00a0", "").replace(" ", "") or "0")


def test_the_pdf_shows_the_pages_figures_budget_and_comments(
    client, anders, pack_firm, tasks_eager, django_capture_on_commit_callbacks, tmp_path
):
    client.force_login(anders)
    url = reverse("ledger:pack", kwargs={"company_slug": pack_firm.slug})
    assert client.get(url).status_code == 200
    form = {
        "mnd": "2025-03",
        "summary": "Godt første kvartal.",
        "pnl": "Inntektene ligger 25 000 under budsjett.",
        "balance": "Banken dekker all gjeld.",
        "action": "generate",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302
    with scope(company=pack_firm):
        pack = ReportPack.objects.get(company=pack_firm)
        assert ReportComment.objects.filter(company=pack_firm, month=MARCH).count() == 3
    assert pack.status == ReportPack.Status.DONE, pack.error
    assert pack.month == MARCH
    assert pack.pages >= 3

    download = client.get(
        reverse("ledger:pack_pdf", kwargs={"company_slug": pack_firm.slug, "pack_id": pack.pk})
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "rapportpakke-923609016-2025-03.pdf" in download["Content-Disposition"]
    text = pdf_text(download.content, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-pack.pdf").write_bytes(download.content)

    # The P&L page's figures (whole kroner) are the PDF's (kroner and øre).
    page = client.get(
        reverse("ledger:pnl", kwargs={"company_slug": pack_firm.slug}), {"ar": 2025, "mnd": 3}
    )
    parser = _RowCells()
    parser.feed(page.content.decode())
    for key, label in (
        ("group-revenue", "Driftsinntekter"),
        ("group-payroll", "Lønnskostnad"),
        ("total-operating_result", "Driftsresultat"),
        ("total-net_result", "Årsresultat"),
    ):
        cells = parser.rows[key]
        page_march, page_ytd, page_last_year = (page_whole_kroner(c) for c in cells[2:5])
        pdf_month, pdf_ytd, pdf_last_year, pdf_change, *_ = amounts_of(line_starting(text, label))
        assert (pdf_month, pdf_ytd, pdf_last_year) == (page_march, page_ytd, page_last_year), label
        assert pdf_change == pdf_ytd - pdf_last_year

    # Hand-computed (the module docstring): budget and variance against it.
    assert amounts_of(line_starting(text, "Driftsinntekter")) == [
        Decimal("80000.00"),
        Decimal("305000.00"),
        Decimal("250000.00"),
        Decimal("55000.00"),
        Decimal("330000.00"),
        Decimal("-25000.00"),
    ]
    assert amounts_of(line_starting(text, "Lønnskostnad"))[-2:] == [
        Decimal("84000.00"),
        Decimal("6000.00"),
    ]
    assert amounts_of(line_starting(text, "Driftsresultat"))[-2:] == [
        Decimal("216000.00"),
        Decimal("-157000.00"),
    ]
    assert "−25 000,00" in text  # Norwegian format: space thousands, decimal comma, minus sign

    # The balance sheet: total assets is the bank, 30 000 + 2024's result + 49 000.
    changes = pack_changes()
    result_2024 = -sum(
        v
        for n, by in changes.items()
        if n >= 3000 and n != 8960
        for m, v in by.items()
        if m.year == 2024
    )
    total_assets = amounts_of(line_starting(text, "Sum eiendeler"))
    assert total_assets[0] == Decimal(30_000) + result_2024 + Decimal(49_000)
    assert amounts_of(line_starting(text, "Sum egenkapital og gjeld"))[0] == total_assets[0]

    # The comments, under their sections; the firm and "Side N av M" on every page.
    for comment in form["summary"], form["pnl"], form["balance"]:
        assert comment in text
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) == pack.pages
    for number, page_text in enumerate(pages, start=1):
        assert "Acme Holding AS" in page_text
        assert "923 609 016" in page_text
        assert f"Side {number} av {len(pages)}" in page_text


def test_a_firm_without_budget_shows_dashes(acme, tmp_path):
    with scope(company=acme):
        from tests.ledger.figures_data import PNL_CHANGES, seed_changes

        seed_changes(acme, PNL_CHANGES)
        rendered = pack_render(company=acme, month=MARCH)
    text = pdf_text(rendered.data, tmp_path)
    revenue = line_starting(text, "Driftsinntekter")
    assert amounts_of(revenue) == [
        Decimal("80000.00"),
        Decimal("305000.00"),
        Decimal("250000.00"),
        Decimal("55000.00"),
    ]
    assert revenue.count("–") == 2
    assert "Firmaet har ikke budsjett for disse månedene." in text


def test_another_companys_pack_is_not_found(client, bob, bergen, pack_firm, anders, tmp_path):
    with scope(company=pack_firm):
        pack = ReportPack.objects.create(
            company=pack_firm, month=MARCH, status=ReportPack.Status.DONE, pdf=b"%PDF-acme"
        )
    client.force_login(bob)
    # Bob (Bergen) asks for Acme's pack under Bergen's slug, and under Acme's.
    for slug in (bergen.slug, pack_firm.slug):
        url = reverse("ledger:pack_pdf", kwargs={"company_slug": slug, "pack_id": pack.pk})
        assert client.get(url).status_code == 404
    status = client.get(
        reverse("ledger:pack_status", kwargs={"company_slug": bergen.slug}), {"id": pack.pk}
    )
    assert status.json() == {"packs": []}
    client.force_login(anders)
    ok = client.get(
        reverse("ledger:pack_pdf", kwargs={"company_slug": pack_firm.slug, "pack_id": pack.pk})
    )
    assert ok.status_code == 200
    assert ok.content == b"%PDF-acme"


def test_bad_input_changes_nothing(client, anders, pack_firm):
    client.force_login(anders)
    url = reverse("ledger:pack", kwargs={"company_slug": pack_firm.slug})
    response = client.post(url, {"mnd": "1999-01", "summary": "x", "action": "generate"})
    assert response.status_code == 400
    response = client.post(url, {"mnd": "2025-03", "summary": "x" * 5000, "action": "generate"})
    assert response.status_code == 400
    assert client.get(url, {"mnd": "not-a-month"}).status_code == 200
    with scope(company=pack_firm):
        assert not ReportPack.objects.exists()
        assert not ReportComment.objects.exists()


def test_a_failed_pack_says_so_and_a_second_delivery_does_nothing(pack_firm, monkeypatch):
    from ledger.packs import services

    with scope(company=pack_firm):
        pack = ReportPack.objects.create(company=pack_firm, month=MARCH)
        monkeypatch.setattr(services, "pack_render", lambda **kw: 1 / 0)
        assert services.pack_generate(company=pack_firm, pack_id=pack.pk) == "failed"
        assert services.pack_generate(company=pack_firm, pack_id=pack.pk) == "not-queued"
        pack.refresh_from_db()
    assert pack.status == ReportPack.Status.FAILED
    assert "ZeroDivisionError" in pack.error


def test_the_firm_page_links_the_last_pack(client, anders, pack_firm):
    with scope(company=pack_firm):
        pack = ReportPack.objects.create(
            company=pack_firm, month=MARCH, status=ReportPack.Status.DONE, pdf=b"%PDF"
        )
    client.force_login(anders)
    page = client.get(reverse("companies:company_home", kwargs={"company_slug": pack_firm.slug}))
    download = reverse(
        "ledger:pack_pdf", kwargs={"company_slug": pack_firm.slug, "pack_id": pack.pk}
    )
    assert download in page.content.decode()


def test_the_web_process_knows_the_pack_task():
    from celery import current_app

    from ledger.queue import PACK_GENERATE

    assert PACK_GENERATE in current_app.tasks


def test_a_new_company_member_sees_no_pack_of_before(client, pack_firm, tmp_path):
    other = company_create(org_number="974760673", name="Other AS")
    user = make_user("eve@other.no")
    membership_set(company=other, user=user, role="accountant")
    with scope(company=pack_firm):
        ReportPack.objects.create(company=pack_firm, month=MARCH, status="done", pdf=b"%PDF")
    client.force_login(user)
    page = client.get(reverse("ledger:pack", kwargs={"company_slug": other.slug}))
    assert page.status_code == 200
    assert b'data-testid="no-packs"' in page.content


def test_key_figures_and_holdings_sections(pack_firm, tmp_path):
    """Key figures from ledger/figures/keyfigures.py and holdings from ledger/holdings/selectors.py.

    Key figures of January–March 2025: no short-term debt (liquidity ratio '–'); result margin =
    result before tax / operating revenue = 59 000 / 305 000 = 19,34… % → 19,3 %. Holdings: 100
    Equinor bought 10.02.2025 for 25 000 (no fees), 40 sold 05.03.2025 for 12 000: FIFO cost of the
    sale 40/100 × 25 000 = 10 000, gain 2 000; held 60 at 15 000, average 250,0000."""
    from django.utils import timezone

    from ledger.models import LedgerAccount, Lot, LotUse, Transaction
    from tests.ledger.support import record

    with scope(company=pack_firm):
        for number, name in ((1810, "Aksjer"), (8077, "Gevinst aksjer"), (8177, "Tap aksjer")):
            LedgerAccount.objects.create(
                company=pack_firm,
                tripletex_id=200_000 + number,
                number=number,
                name=name,
                synced_at=timezone.now(),
            )
    buy = record(
        pack_firm,
        trade_date=month(2025, 2).replace(day=10),
        quantity=Decimal(100),
        amount=Decimal("25000.00"),
        fees=Decimal(0),
    )
    sell = record(
        pack_firm,
        kind="sale",
        trade_date=month(2025, 3).replace(day=5),
        quantity=Decimal(40),
        amount=Decimal("12000.00"),
        fees=Decimal(0),
    )
    with scope(company=pack_firm):
        # The lots as the holdings ledger stores them once both rows are queued (its own tests,
        # tests/ledger/test_lots.py, prove how they get there): 40 of the 100 used by the sale.
        Transaction.objects.filter(pk__in=[buy.pk, sell.pk]).update(status="queued")
        lot = Lot.objects.create(
            company=pack_firm,
            opened_by=buy,
            instrument_key="NO0010096985",
            instrument_name="Equinor ASA",
            isin="NO0010096985",
            acquired=buy.trade_date,
            quantity=Decimal(100),
            cost=Decimal("25000.00"),
        )
        LotUse.objects.create(
            company=pack_firm,
            lot=lot,
            transaction=sell,
            quantity=Decimal(40),
            cost=Decimal("10000.00"),
        )
        rendered = pack_render(company=pack_firm, month=MARCH)
    text = pdf_text(rendered.data, tmp_path)
    (ARTIFACTS / "report-pack-holdings.pdf").write_bytes(rendered.data)
    assert "Nøkkeltall" in text
    assert "19,3 %" in line_starting(text, "Resultatgrad")
    held = line_starting(text, "Equinor ASA")
    assert amounts_of(held) == [Decimal("15000.00"), Decimal("250.00")]
    assert " 60 " in f" {held} "
    sale = [ln for ln in text.splitlines() if "05.03.2025" in ln]
    assert len(sale) == 1
    assert amounts_of(sale[0]) == [Decimal("12000.00"), Decimal("10000.00"), Decimal("2000.00")]

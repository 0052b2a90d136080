"""In Chromium: the P&L fits a 1440 px screen (its last column in view, the months scrolling inside
the table's box), and an accountant picks a quarter and a department and compares with budget."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from companies.services import membership_set
from ledger.models import Budget, Department, Posting, PostingMonth
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD, make_user
from tests.ledger.figures_data import every_month, month, seed_changes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Salgsinntekt, avgiftspliktig, innenlands, tjenester og varer til næringsdrivende"


@pytest.fixture
def wide_firm(acme):
    """Twelve months, accounts in every group, long names: the widest P&L a year gives."""
    now = timezone.now()
    changes = {
        n: every_month(month(2025, 1), month(2025, 12), (n % 7 + 1) * 1_234_567 * sign)
        for n, sign in ((3000, -1), (3100, -1), (4300, 1), (5000, 1), (6010, 1), (6300, 1))
    }
    changes[8050] = every_month(month(2025, 1), month(2025, 12), -98_765)
    # The same amounts a year earlier, so that every comparison column has figures.
    merged = {
        n: {**{m.replace(year=2024): v for m, v in c.items()}, **c} for n, c in changes.items()
    }
    with scope(company=acme):
        seed_changes(acme, merged, names={3000: LONG_NAME})
        department = Department.objects.create(
            company=acme, tripletex_id=71, number="20", name="Bergen", synced_at=now
        )
        for m in every_month(month(2024, 1), month(2025, 12), 0):
            PostingMonth.objects.create(company=acme, month=m, synced_at=now)
        # Bergen sold 10 000 in each month of 2025's second quarter and has a budget of 8 000.
        Posting.objects.bulk_create(
            Posting(
                company=acme,
                tripletex_id=i,
                date=datetime.date(2025, m, 15),
                account_number=3000,
                amount=Decimal(-10_000),
                department_id=71,
                synced_at=now,
            )
            for i, m in enumerate((4, 5, 6), start=1)
        )
        Budget.objects.bulk_create(
            Budget(
                company=acme,
                account_number=3000,
                month=month(2025, m),
                department_id=71,
                amount=Decimal(-8_000),
                source=Budget.Source.UPLOAD,
                updated_at=now,
            )
            for m in (4, 5, 6)
        )
    user = make_user("regnskap@acme.no")
    membership_set(company=acme, user=user, role="accountant")
    return acme, user, department


def test_the_pnl_fits_1440_px_with_its_last_column_in_view(page, wide_firm):
    company, user, _department = wide_firm
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, user.email, PASSWORD)
    page.goto(f"/c/{company.slug}/resultat/?ar=2025&mnd=12&apne=alle")
    last = page.locator('[data-testid="col-variance-pct"]')
    last.wait_for()
    save_screenshot(page, "figures-pnl-1440")
    box = last.bounding_box()
    assert box is not None
    # The last heading lies inside the window and inside the table's box: not cut off.
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 1440
    wrap = page.locator(".table-wrap").first.bounding_box()
    assert wrap is not None
    assert box["x"] + box["width"] <= wrap["x"] + wrap["width"] + 0.5
    # The period's total is in view too, right of the months, without scrolling.
    total = page.locator("#pnl-table thead th.ytd").bounding_box()
    assert total is not None
    assert wrap["x"] <= total["x"]
    assert total["x"] + total["width"] <= box["x"]
    # No page-wide sideways scrolling: the document is no wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # The account column stays put while the months scroll inside the table's box.
    label = page.locator('tr[data-account="3000"] .col-label')
    before = label.bounding_box()
    page.locator(".table-wrap").first.evaluate("el => { el.scrollLeft = 400; }")
    after = label.bounding_box()
    assert before is not None
    assert after is not None
    assert after["x"] == before["x"]


def test_an_accountant_picks_a_quarter_and_a_department_and_compares_with_budget(page, wide_firm):
    company, user, department = wide_firm
    log_in(page, user.email, PASSWORD)
    page.goto(f"/c/{company.slug}/resultat/?ar=2025&mnd=12")
    page.select_option('[data-testid="select-kind"]', "kvartal")
    page.wait_for_url("**periode=kvartal**")
    page.select_option('[data-testid="select-quarter"]', "2")
    page.wait_for_url("**kv=2**")
    page.select_option('[data-testid="select-department"]', str(department.pk))
    page.wait_for_url(f"**avd={department.pk}**")
    page.select_option('[data-testid="select-compare"]', "budsjett")
    page.wait_for_url("**mot=budsjett**")
    heads = page.locator("#pnl-table thead th").all_inner_texts()
    assert heads == ["Konto", "apr.", "mai", "jun.", "Faktisk", "Budsjett", "Avvik", "%"]
    revenue = page.locator('[data-testid="group-revenue"] td').all_inner_texts()
    # 10 000 a month against a budget of 8 000 a month: 30 000, 24 000, +6 000, +25,0 %.
    assert revenue == [
        "10\u00a0000",
        "10\u00a0000",
        "10\u00a0000",
        "30\u00a0000",
        "24\u00a0000",
        "6\u00a0000",
        "25,0\u00a0%",
    ]
    assert page.locator('[data-testid="pnl-filter"]').is_visible()
    save_screenshot(page, "figures-pnl-quarter-department-budget")
    # The export is of what is shown.
    href = page.locator('[data-testid="export-csv"]').get_attribute("href")
    assert href is not None
    for part in ("periode=kvartal", "kv=2", "mot=budsjett", f"avd={department.pk}"):
        assert part in href


def test_the_key_figures_page_from_the_figures_navigation(page, wide_firm):
    company, user, _department = wide_firm
    log_in(page, user.email, PASSWORD)
    page.goto(f"/c/{company.slug}/resultat/?ar=2025&mnd=12")
    page.click('[data-testid="nav-key-figures"]')
    page.wait_for_url("**/nokkeltall/**")
    name = page.locator('[data-testid="keyfigure-result_margin"] abbr')
    assert "driftsinntekter" in (name.get_attribute("title") or "")
    formula = page.locator("#formula-result_margin")
    assert formula.is_visible()
    value = page.locator('[data-testid="value-result_margin"]')
    assert value.get_attribute("aria-describedby") == "formula-result_margin"
    save_screenshot(page, "figures-key-figures")


def test_the_balance_sheet_by_month_keeps_its_last_columns_in_view(page, wide_firm):
    company, user, _department = wide_firm
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, user.email, PASSWORD)
    page.goto(f"/c/{company.slug}/balanse/?periode=hittil&ar=2025&mnd=12&apne=alle")
    change = page.locator('[data-testid="col-change"]')
    change.wait_for()
    save_screenshot(page, "figures-balance-by-month-1440")
    box = change.bounding_box()
    wrap = page.locator(".table-wrap").first.bounding_box()
    assert box is not None
    assert wrap is not None
    assert box["x"] + box["width"] <= min(1440, wrap["x"] + wrap["width"] + 0.5)
    heads = page.locator("#balance-table thead th").all_inner_texts()
    assert len(heads) == 1 + 12 + 2
    assert heads[-1] == "Endring"
    # Neither of the two headings on the right is cut off inside its cell.
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('#balance-table thead th')].slice(-2)"
        ".filter(th => th.scrollWidth > th.clientWidth).map(th => th.innerText)"
    )
    assert clipped == []

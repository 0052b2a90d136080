"""The transaction forms in Chromium, as a finance user uses them: GL account settings (save, refuse
a bad value or an account the chart lacks, check against the sandbox's chart), CSV import (a bad file imports nothing, a good one
lists its rows) and a manual journal entry with several lines (unbalanced is explained; balanced
shows the voucher preview)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from ledger.models import (
    AccountingPeriod,
    GLAccountSettings,
    JournalLine,
    LedgerAccount,
    Transaction,
)
from ledger.models.transactions import GL_DEFAULTS
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV_HEADER = (
    "type;trade_date;instrument;isin;quantity;amount;fees;description;entry;account;debit;credit\n"
)


def _open_transactions(page, user, company) -> None:
    log_in(page, user.email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/c/{company.slug}/transaksjoner/")


def _transactions(company) -> list[Transaction]:
    with scope(company=company):
        return list(Transaction.objects.filter(company=company).order_by("pk"))


def _read_from_tripletex(company, *, accounts: tuple[int, ...]) -> None:
    """Store what a firm in use has read from Tripletex: every month of last year and this year as
    an open accounting period, and a chart with the GL settings' accounts and `accounts`. (A firm
    that never read them is told so on every save, which is right for it but not what these tests
    are about: tests/ledger/test_entry_checks.py covers that warning.)"""
    now = timezone.now()
    year = timezone.localdate().year
    with scope(company=company):
        for index in range(24):
            start = datetime.date(year - 1 + index // 12, index % 12 + 1, 1)
            end = datetime.date(start.year + start.month // 12, start.month % 12 + 1, 1)
            AccountingPeriod.objects.create(
                company=company, tripletex_id=30_000 + index, start=start, end=end, synced_at=now
            )
        for number in sorted({*GL_DEFAULTS.values(), *accounts}):
            LedgerAccount.objects.create(
                company=company,
                tripletex_id=200_000 + number,
                number=number,
                name=f"Konto {number}",
                synced_at=now,
            )


def _gl(company) -> GLAccountSettings:
    with scope(company=company):
        return GLAccountSettings.objects.get(company=company)


def _gl_input(page, role: str):
    return page.locator(f"[data-testid=gl-row][data-role={role}] input")


def test_gl_settings_save_refuse_a_bad_value_and_check_against_tripletex(page, fiona, sandbox_acme):
    company = sandbox_acme
    _open_transactions(page, fiona, company)
    page.click("text=Kontoinnstillinger")
    page.wait_for_url("**/transaksjoner/kontoinnstillinger/")
    assert page.locator("[data-testid=gl-row]").count() == len(GLAccountSettings.ROLES)
    assert _gl_input(page, "bank").input_value() == "1920"
    assert _gl_input(page, "fees").input_value() == "8179"
    save_screenshot(page, "gl-settings-defaults")

    _gl_input(page, "fees").fill("7770")
    page.click("button:has-text('Lagre')")
    page.wait_for_selector(".message.success")
    assert page.inner_text(".messages") == "Kontoinnstillingene er lagret."
    assert _gl_input(page, "fees").input_value() == "7770"
    assert _gl(company).fees == 7770

    # An account number below 1000: the browser refuses to send it...
    page.goto(page.url)
    _gl_input(page, "interest").fill("805")
    page.click("button:has-text('Lagre')")
    assert _gl_input(page, "interest").evaluate("e => e.validationMessage")
    assert page.locator(".messages").count() == 0
    # ...and so does the server when a browser sends it anyway.
    page.eval_on_selector("form.panel", "form => { form.noValidate = true; }")
    _gl_input(page, "bank").fill("1921")
    page.click("button:has-text('Lagre')")
    error = page.locator("[data-testid=gl-row][data-role=interest] .errorlist")
    error.wait_for()
    assert error.inner_text() == "Kontonumre går fra 1000 til 99999."
    assert page.locator(".message.success").count() == 0
    save_screenshot(page, "gl-settings-bad-value")
    gl = _gl(company)
    assert (gl.interest, gl.bank, gl.fees) == (8050, 1920, 7770)

    # An account Tripletex does not have is refused with the reason, and nothing is saved.
    page.goto(page.url)
    _gl_input(page, "fees").fill("9999")
    page.click("button:has-text('Lagre')")
    error = page.locator("[data-testid=gl-row][data-role=fees] .errorlist")
    error.wait_for()
    assert error.inner_text() == "Konto 9999 finnes ikke i Tripletex."
    assert page.locator(".message.success").count() == 0
    assert _gl(company).fees == 7770
    page.click("button:has-text('Kontroller mot Tripletex')")
    page.wait_for_selector("[data-testid=gl-state][data-state=confirmed]")
    assert page.locator("[data-testid=gl-problem]").count() == 0
    bank_row = page.locator("[data-testid=gl-row][data-role=bank]")
    assert "Bankinnskudd" in bank_row.inner_text()
    assert bank_row.locator(".badge.ok").count() == 2  # confirmed, and OK in the chart
    save_screenshot(page, "gl-settings-checked")
    assert _gl(company).fees == 7770


def test_csv_import_refuses_a_bad_file_and_imports_a_good_one(page, fiona, acme):
    _read_from_tripletex(acme, accounts=(6705, 2400))
    _open_transactions(page, fiona, acme)
    page.click("text=Importer CSV")
    page.wait_for_url("**/transaksjoner/import/")
    save_screenshot(page, "csv-import-form")

    bad = CSV_HEADER + (
        "purchase;2026-01-02;Equinor ASA;NO0010096985;10;1 000,00;0;;;;;\n"  # line 2: fine
        "purchase;2026-13-40;Equinor ASA;NO0010096985;10;1 000,00;0;;;;;\n"  # line 3: date
        "dividend;2026-01-02;Equinor ASA;;;12,345;0;;;;;\n"  # line 4: three decimals
    )
    page.set_input_files(
        "#id_file", {"name": "feil.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.click("button:has-text('Importer')")
    page.wait_for_selector("[data-testid=import-errors]")
    assert "Ingenting ble importert" in page.inner_text("[data-testid=import-errors]")
    lines = page.locator("[data-testid=import-error]")
    assert [lines.nth(i).get_attribute("data-line") for i in range(lines.count())] == ["3", "4"]
    assert all(text.strip() for text in lines.all_inner_texts())
    # Said like a failed form: "Feil: " in the title, focus on the rows' problems.
    assert page.title().startswith("Feil: ")
    assert page.evaluate("document.activeElement.dataset.testid") == "import-errors"
    save_screenshot(page, "csv-import-errors")
    assert _transactions(acme) == []

    good = CSV_HEADER + (
        "kjøp;02.01.2026;Equinor ASA;NO0010096985;100;25 000,00;49,00;;;;;\n"
        "journal;2026-01-31;;;;;;Årsoppgjør revisjon;E1;6705;12 500,00;\n"
        "journal;2026-01-31;;;;;;Årsoppgjør revisjon;E1;2400;;12 500,00\n"
    )
    page.set_input_files(
        "#id_file", {"name": "transaksjoner.csv", "mimeType": "text/csv", "buffer": good.encode()}
    )
    page.click("button:has-text('Importer')")
    page.wait_for_url(f"**/c/{acme.slug}/transaksjoner/")
    assert page.inner_text(".messages") == "Importerte 2 transaksjon(er)."
    rows = page.locator("[data-testid=transaction-row]")
    assert rows.count() == 2
    listed = " ".join(rows.all_inner_texts())
    assert "Equinor ASA" in listed
    assert "Årsoppgjør revisjon" in listed
    save_screenshot(page, "csv-import-done")

    purchase, journal = sorted(_transactions(acme), key=lambda t: t.kind == "journal")
    assert (purchase.kind, purchase.amount, purchase.fees) == (
        "purchase",
        Decimal("25000.00"),
        Decimal("49.00"),
    )
    assert journal.kind == "journal"
    assert all(t.source == "csv" and t.status == "ready" for t in (purchase, journal))


def _fill_line(page, index: int, account: str, debit: str = "", credit: str = "") -> None:
    page.fill(f"#id_lines-{index}-account_number", account)
    page.fill(f"#id_lines-{index}-debit", debit)
    page.fill(f"#id_lines-{index}-credit", credit)


def test_journal_entry_with_several_lines(page, fiona, acme, local_cache):
    _read_from_tripletex(acme, accounts=(6705, 2400))
    _open_transactions(page, fiona, acme)
    page.click("text=Nytt manuelt bilag")
    page.wait_for_selector("[data-testid=journal-form]")
    assert page.locator("[data-formset-row]").count() == 2
    page.click("[data-formset-add=lines]")
    assert page.locator("[data-formset-row]").count() == 3
    # Typed day first, as the field asks (dd.mm.åååå); a date near today needs no confirming.
    day = timezone.localdate().replace(day=1)
    page.fill("#id_trade_date", day.strftime("%d.%m.%Y"))
    page.fill("#id_description", "Revisjonshonorar 2025")
    _fill_line(page, 0, "6705", debit="12 500,00")
    _fill_line(page, 1, "2400", credit="10 000,00")
    _fill_line(page, 2, "1920", credit="2 000,00")
    page.fill("#id_lines-2-description", "Betalt a konto")
    save_screenshot(page, "journal-form-filled")

    # Unbalanced: a clear message, the lines kept, nothing saved.
    page.click("[data-testid=save]")
    errors = page.locator("[data-testid=form-errors]")
    errors.wait_for()
    assert "Debet (12\u00a0500,00) og kredit (12\u00a0000,00) må være like." in errors.inner_text()
    assert page.locator("[data-formset-row]").count() == 3
    assert page.input_value("#id_lines-2-credit") == "2 000,00"
    save_screenshot(page, "journal-form-unbalanced")
    assert _transactions(acme) == []

    page.fill("#id_lines-2-credit", "2 500,00")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=preview]")
    assert page.inner_text(".messages") == "Lagret. Kontroller bilaget nedenfor, og bokfør det."
    accounts = page.locator("[data-testid=line-account]").all_inner_texts()
    assert accounts == ["6705", "2400", "1920"]
    assert page.locator("[data-testid=balance] .badge.ok").count() == 1
    assert page.locator("[data-testid=preview-problems]").count() == 0
    assert page.locator("[data-testid=book]").is_visible()
    save_screenshot(page, "journal-preview")

    [txn] = _transactions(acme)
    assert (txn.kind, txn.status, txn.description) == ("journal", "ready", "Revisjonshonorar 2025")
    assert txn.trade_date == day
    assert page.url.rstrip("/").endswith(f"/transaksjoner/{txn.pk}")
    with scope(company=acme):
        lines = list(
            JournalLine.objects.filter(transaction=txn).values_list(
                "account_number", "debit", "credit", "description"
            )
        )
    assert lines == [
        (6705, Decimal("12500.00"), Decimal("0.00"), ""),
        (2400, Decimal("0.00"), Decimal("10000.00"), ""),
        (1920, Decimal("0.00"), Decimal("2500.00"), "Betalt a konto"),
    ]

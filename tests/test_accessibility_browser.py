"""axe-core (tests/axe.py: pinned from the npm registry) in Chromium over every page of the main
journeys, error states and a flash message included: no critical or serious violation anywhere.
Every page audited also has exactly one <h1>, and every company page names the firm in its title.

To audit another page, add a Visit to SIGNED_IN (or ANONYMOUS) at the end: a path (formatted
with the world's values: slug, booked, ready, year, month) and optionally what to do there first
(`then`: fill a form, submit it, click something); `failed=True` for a failed submit or an error
page, whose title must start with "Feil: " (and no other page's may) and whose focus must be on
what went wrong (the error summary or the list of a file's bad rows). The signed-in user is staff
and an administrator of the firm and of a second one, so every page of the product is open to
them, the group view included.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import Error as PlaywrightError

from companies.credentials import connection_mark, connection_set_own_key, tripletex_client_for
from companies.services import company_create, membership_set
from ledger.booking.protocol import booking_queue, booking_run
from ledger.models import BrokerAccount, SyncRun
from tests.axe import AxeUnavailable, axe_violations, describe
from tests.browser import log_in, save_screenshot
from tests.conftest import PASSWORD, make_user
from tests.ledger.brokers.files import EQUINOR, dnb_workbook, nordnet_30, row
from tests.ledger.brokers.test_dnb_isin import FIRST_FILE as DNB_FILE
from tests.ledger.figures_data import seed_from_tripletex
from tests.ledger.support import purchase_data
from tests.requirements import missing
from tripletex.sandbox import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Visit:
    """A page state to audit: go to `path`, then do `then` (if any), then run axe."""

    name: str
    path: str
    then: Callable | None = None
    company_page: bool = True
    failed: bool = False  # a failed submit or an error page: the title starts with "Feil: "


def _submit(selector: str = "[data-testid=save]") -> Callable:
    def submit(page) -> None:
        with page.expect_navigation():
            page.click(selector)

    return submit


def _wrong_password(page) -> None:
    page.fill("#id_username", "nobody@example.no")
    page.fill("#id_password", "not-the-password")
    _submit("button[type=submit]")(page)


def _empty_purchase(page) -> None:
    page.fill("#id_trade_date", "")
    page.fill("#id_currency", "")
    _submit()(page)


def _far_date_purchase(page) -> None:
    far = timezone.localdate() - datetime.timedelta(days=800)
    page.fill("#id_trade_date", far.strftime("%d.%m.%Y"))
    page.fill("#id_instrument_name", "Equinor ASA")
    page.fill("#id_quantity", "10")
    page.fill("#id_amount", "2 500,00")
    _submit()(page)


def _saved_purchase(page) -> None:
    """Save a purchase: the transaction's page with the flash message."""
    page.fill("#id_instrument_name", "Equinor ASA")
    page.fill("#id_quantity", "10")
    page.fill("#id_amount", "2 500,00")
    _submit()(page)


def _open_group(page) -> None:
    page.click('[data-group-toggle="opex"]')


def _drill_down(page) -> None:
    with page.expect_navigation():
        page.locator('tr[data-account="6705"] td a').first.click()


def _click(selector: str) -> Callable:
    def click(page) -> None:
        with page.expect_navigation():
            page.locator(selector).first.click()

    return click


def _start_batch(page) -> None:
    """Start report packs for the firms on their own key: the batch's progress page."""
    page.fill("#id_mnd", timezone.localdate().strftime("%Y-%m"))
    _submit("[data-testid=batch-start]")(page)


def _drop_not_a_pdf(page) -> None:
    """Drop a file named .pdf that is no PDF: the contract notes page says it was refused."""
    page.set_input_files(
        "#id_files",
        {"name": "sluttseddel.pdf", "mimeType": "application/pdf", "buffer": b"not a PDF"},
    )
    _submit("[data-testid=drop-submit]")(page)


def _inbox_upload(page) -> None:
    """Put a Nordnet export (a deposit and a purchase today) in the inbox: the file's page."""
    day = timezone.localdate().isoformat()
    content = nordnet_30(
        [
            row(7001, day, "INNSKUDD", "50 000,00", "50 000,00"),
            row(7002, day, "KJØPT", "-25 049,00", "24 951,00", instrument=EQUINOR,
                quantity="100", price="250,00", fees="49,00", note="SN-7002"),
        ]
    )  # fmt: skip
    page.set_input_files(
        "#id_file", {"name": "nordnet.csv", "mimeType": "text/csv", "buffer": content}
    )
    _submit("[data-testid=inbox-upload] button[type=submit]")(page)


def _inbox_open_row(page) -> None:
    """From the inbox, the file put there above, then its purchase row's correction form."""
    _click("[data-testid=inbox-batch] a")(page)
    _click("[data-testid=inbox-edit]")(page)


def _budget_not_a_workbook(page) -> None:
    """Upload a file named .xlsx that is no workbook: the page saying why nothing changed."""
    page.set_input_files(
        "#budget-file",
        {"name": "budsjett.xlsx", "mimeType": "application/octet-stream", "buffer": b"not a file"},
    )
    _submit("[data-testid=budget-upload-button]")(page)


def _unknown_portfolio(form: str) -> Callable:
    """Upload a Nordnet export of a portfolio the firm has no broker account for: every row is
    an error and nothing is imported (the import page) or put in the inbox."""

    def upload(page) -> None:
        day = timezone.localdate().isoformat()
        content = nordnet_30([row(7101, day, "INNSKUDD", "1,00", "1,00", portfolio="999")])
        page.set_input_files(
            f"{form} #id_file", {"name": "nordnet.csv", "mimeType": "text/csv", "buffer": content}
        )
        _submit(f"{form} button[type=submit]")(page)

    return upload


def _inbox_dnb(page) -> None:
    """Put a DNB export in the inbox: its page asks for the ISIN of the tickers it names."""
    page.set_input_files(
        "[data-testid=inbox-upload] #id_file",
        {
            "name": "dnb.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": dnb_workbook(DNB_FILE),
        },
    )
    _submit("[data-testid=inbox-upload] button[type=submit]")(page)
    page.locator("[data-testid=missing-isins]").wait_for()


def _key_request_empty(page) -> None:
    _submit("[data-testid=key-request-submit]")(page)


def _create_group(page) -> None:
    """Make the holding a group with its subsidiary: the mapping page, with the flash message."""
    page.locator("[data-testid=group-form] input[type=checkbox]").first.check()
    _submit("[data-testid=group-create]")(page)


ANONYMOUS = [
    Visit("login", "/konto/logg-inn/", company_page=False),
    Visit("login-error", "/konto/logg-inn/", _wrong_password, company_page=False, failed=True),
    Visit("key-request", "/koble-til/", company_page=False),
    Visit("key-request-errors", "/koble-til/", _key_request_empty, company_page=False, failed=True),
    Visit(
        "invitation-invalid", "/konto/invitasjon/no-such-token/", company_page=False, failed=True
    ),
]

SIGNED_IN = [
    Visit("overview", "/", company_page=False),
    Visit("firm", "/c/{slug}/"),
    Visit("pnl", "/c/{slug}/resultat/"),
    Visit("pnl-group-open", "/c/{slug}/resultat/", _open_group),
    Visit("balance", "/c/{slug}/balanse/?apne=alle"),
    Visit("drill-down", "/c/{slug}/resultat/?apne=opex", _drill_down),
    Visit("key-figures", "/c/{slug}/nokkeltall/"),
    Visit("transactions", "/c/{slug}/transaksjoner/"),
    Visit("purchase-form", "/c/{slug}/transaksjoner/ny/"),
    Visit("purchase-errors", "/c/{slug}/transaksjoner/ny/", _empty_purchase, failed=True),
    Visit("purchase-far-date", "/c/{slug}/transaksjoner/ny/", _far_date_purchase, failed=True),
    Visit("flash-message", "/c/{slug}/transaksjoner/ny/", _saved_purchase),
    Visit("booked", "/c/{slug}/transaksjoner/{booked}/"),
    Visit("journal-form", "/c/{slug}/transaksjoner/ny-postering/"),
    Visit("journal-errors", "/c/{slug}/transaksjoner/ny-postering/", _submit(), failed=True),
    Visit("import", "/c/{slug}/transaksjoner/import/"),
    Visit("sync", "/c/{slug}/synk/"),
    Visit("gl-settings", "/c/{slug}/transaksjoner/kontoinnstillinger/"),
    Visit("members", "/c/{slug}/brukere/"),
    Visit(
        "members-error", "/c/{slug}/brukere/", _submit("[data-testid=invite-submit]"), failed=True
    ),
    Visit("two-step-login", "/konto/tofaktor/", company_page=False),
    Visit("staff-admin", "/admin/", company_page=False),
    Visit("staff-admin-firms", "/admin/companies/company/", company_page=False),
    Visit("staff-admin-onboard", "/admin/companies/company/onboard/", company_page=False),
    Visit("staff-admin-sync-runs", "/admin/ledger/syncrun/", company_page=False),
    # Pages added after the first accessibility pass.
    Visit("budget", "/c/{slug}/budsjett/"),
    Visit("budget-upload-failed", "/c/{slug}/budsjett/", _budget_not_a_workbook, failed=True),
    Visit("office-dashboard", "/kontor/", company_page=False),
    Visit("holdings", "/c/{slug}/transaksjoner/beholdning/"),
    Visit("instruments", "/c/{slug}/transaksjoner/verdipapirer/"),
    Visit(
        "instrument-edit",
        "/c/{slug}/transaksjoner/verdipapirer/",
        _click("[data-testid=instrument-edit]"),
    ),
    Visit("broker-accounts", "/c/{slug}/meglerkontoer/"),
    Visit(
        "broker-accounts-error",
        "/c/{slug}/meglerkontoer/",
        _submit("[data-testid=broker-account-form] button[type=submit]"),
        failed=True,
    ),
    Visit("report-pack", "/c/{slug}/rapportpakke/"),
    Visit("report-batch-new", "/rapportpakker/", company_page=False),
    Visit(
        "report-batch-error",
        "/rapportpakker/",
        _submit("[data-testid=batch-start]"),
        company_page=False,
        failed=True,
    ),
    Visit("report-batch", "/rapportpakker/", _start_batch, company_page=False),
    Visit("group-new", "/c/{slug}/konsern/"),
    Visit("group-mapping", "/c/{slug}/konsern/", _create_group),
    Visit("group", "/c/{slug}/konsern/"),
    Visit("group-members", "/c/{slug}/konsern/selskaper/"),
    Visit("contract-notes", "/c/{slug}/transaksjoner/sluttsedler/"),
    Visit("contract-notes-refused", "/c/{slug}/transaksjoner/sluttsedler/", _drop_not_a_pdf),
    Visit("inbox", "/c/{slug}/innboks/"),
    Visit(
        "inbox-error",
        "/c/{slug}/innboks/",
        _submit("[data-testid=inbox-upload] button[type=submit]"),
        failed=True,
    ),
    Visit("inbox-batch", "/c/{slug}/innboks/", _inbox_upload),
    Visit("inbox-row", "/c/{slug}/innboks/", _inbox_open_row),
    Visit(
        "broker-import-errors",
        "/c/{slug}/transaksjoner/import/",
        _unknown_portfolio("form[enctype]"),
        failed=True,
    ),
    Visit(
        "inbox-bad-file",
        "/c/{slug}/innboks/",
        _unknown_portfolio("[data-testid=inbox-upload]"),
        failed=True,
    ),
    Visit("inbox-dnb-missing-isin", "/c/{slug}/innboks/", _inbox_dnb),
    Visit("audit-log", "/c/{slug}/brukere/logg/"),
    Visit("transaction-edit", "/c/{slug}/transaksjoner/{ready}/endre/"),
    Visit("reverse", "/c/{slug}/transaksjoner/{booked}/tilbakefor/"),
    # Last: "book all ready" queues the ready purchase and holds back the one in a closed period.
    Visit("held-back", "/c/{slug}/transaksjoner/", _submit("[data-testid=book-all]")),
]


@pytest.fixture
def a11y_world(tripletex_sandbox, local_cache, private_var_dir) -> dict:
    """The sandbox's holding company with synced figures and sync runs, a transaction booked into
    the sandbox, one ready to book and one ready but in a closed period, and the operating company
    beside it (for the group view); its user is staff and both firms' administrator."""
    company = company_create(org_number=demo.HOLDING.org_number, name=demo.HOLDING.name)
    connection_set_own_key(company=company, token=demo.HOLDING_TOKEN, by=None)
    connection_mark(company=company, status="connected")
    today = tripletex_sandbox.store.today()
    user = make_user("tilgjengelig@fjellvik.no", is_staff=True, is_superuser=True)
    membership_set(company=company, user=user, role="admin")
    from ledger.transactions.services import transaction_create

    with scope(company=company):
        seed_from_tripletex(
            company,
            tripletex_client_for(company),
            datetime.date(today.year - 1, 1, 1),
            today.replace(day=1),
        )
        SyncRun.objects.create(
            company=company, trigger="schedule", status="succeeded", finished_at=timezone.now()
        )
        booked = transaction_create(company=company, data=purchase_data(), by=None)
        booking_queue(company=company, transaction_ids=[booked.pk], enqueue=False)
        assert booking_run(company=company, transaction_id=booked.pk) == "booked"
        ready = transaction_create(
            company=company, data=purchase_data(instrument_name="DNB Bank ASA", isin=""), by=None
        )
        # Ready too, but dated in a month Tripletex has closed: "book all ready" holds it back.
        closed_month = today.replace(day=1) - datetime.timedelta(days=70)
        transaction_create(
            company=company,
            data=purchase_data(instrument_name="Orkla ASA", isin="", trade_date=closed_month),
            by=None,
        )
        # The Nordnet and DNB accounts the files put in the inbox belong to.
        BrokerAccount.objects.create(
            company=company, broker="nordnet", number="12345678", cash_account=1920
        )
        BrokerAccount.objects.create(
            company=company, broker="dnb", number="1234.56.78901", cash_account=1920
        )
    # A subsidiary the user can open, for the group view.
    subsidiary = company_create(org_number=demo.OPERATING.org_number, name=demo.OPERATING.name)
    membership_set(company=subsidiary, user=user, role="admin")
    return {
        "company": company,
        "user": user,
        "values": {"slug": company.slug, "booked": booked.pk, "ready": ready.pk},
    }


def _audit(page, visits: list[Visit], values: dict, company_name: str | None) -> list[str]:
    """Visit each page; what is wrong with each, as readable lines (empty when all is well)."""
    problems = []
    for visit in visits:
        page.goto(visit.path.format(**values))
        if visit.then:
            try:
                visit.then(page)
            except PlaywrightError as exc:
                problems.append(f"{visit.name} ({page.url}): could not get there: {exc.message}")
                save_screenshot(page, f"a11y-{visit.name}")
                continue
        page.wait_for_load_state("load")
        try:
            violations = axe_violations(page)
        except AxeUnavailable as exc:
            missing("browser", f"axe-core is not available: {exc}")
        if violations:
            problems.append(f"{visit.name} ({page.url}):\n{describe(violations)}")
        headings = page.locator("h1").count()
        if headings != 1:
            problems.append(f"{visit.name} ({page.url}): {headings} <h1> elements, not one")
        focused = "document.activeElement?.hasAttribute('data-error-summary') ?? false"
        if visit.failed and not page.evaluate(focused):
            problems.append(f"{visit.name}: focus is not on the list of what went wrong")
        if visit.failed != page.title().startswith("Feil: "):
            expected = "starts" if visit.failed else "does not start"
            problems.append(f"{visit.name}: the title {page.title()!r} {expected} with 'Feil: '")
        if visit.company_page and company_name and company_name not in page.title():
            problems.append(f"{visit.name}: the title {page.title()!r} does not name the firm")
        save_screenshot(page, f"a11y-{visit.name}")
    return problems


def test_anonymous_pages_have_no_serious_violations(page):
    problems = _audit(page, ANONYMOUS, {}, None)
    assert not problems, "\n".join(problems)


def test_signed_in_pages_have_no_serious_violations(page, a11y_world):
    log_in(page, a11y_world["user"].email, PASSWORD)
    problems = _audit(page, SIGNED_IN, a11y_world["values"], a11y_world["company"].name)
    assert not problems, "\n".join(problems)

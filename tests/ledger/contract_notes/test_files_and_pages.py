"""Contract notes in: a real PDF (or PNG/JPEG) is kept in the company's own folder under a random
name; a renamed non-PDF, a damaged PDF and a file over the size cap are refused with the reason
and nothing kept; many files dropped at once are matched (by number, else date, instrument and
amount) or listed to assign; a file is only ever served to its own company."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from ledger.contract_notes.services import (
    ContractNoteError,
    contract_note_attach,
    contract_notes_drop,
)
from ledger.models import ContractNote, Transaction
from tests.ledger.contract_notes.support import (
    BROKEN_PDF,
    JPEG_BYTES,
    NOT_A_PDF,
    PNG_BYTES,
    nordnet_note,
    pdf_with_text,
    upload,
)
from tests.ledger.support import record

pytestmark = pytest.mark.django_db

TRADE_DAY = date(2025, 3, 14)


def _notes(company) -> list[ContractNote]:
    with scope(company=company):
        return list(ContractNote.objects.filter(company=company))


def _trade(company, *, number: str = "", **overrides) -> Transaction:
    txn = record(company, trade_date=TRADE_DAY, **overrides)
    if number:
        with scope(company=company):
            Transaction.objects.filter(pk=txn.pk).update(contract_note_number=number)
            txn.refresh_from_db()
    return txn


def _attach_url(company, txn) -> str:
    return reverse(
        "ledger:transaction_contract_note", kwargs={"company_slug": company.slug, "pk": txn.pk}
    )


def _flash(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_a_pdf_is_kept_in_the_companys_folder_under_a_random_name(client, fiona, acme, cn_root):
    txn = _trade(acme)
    content = nordnet_note(number="123456789")
    client.force_login(fiona)
    response = client.post(
        _attach_url(acme, txn), {"file": upload("Sluttseddel Equinor.pdf", content)}, follow=True
    )
    assert response.status_code == 200
    [note] = _notes(acme)
    assert (note.transaction_id, note.original_name, note.size) == (
        txn.pk,
        "Sluttseddel Equinor.pdf",
        len(content),
    )
    assert note.content_type == "application/pdf"
    assert note.state == ContractNote.State.PENDING
    assert note.matched_by == ContractNote.Match.PAGE
    stored = cn_root / note.file.name
    assert note.file.name.startswith(f"{acme.pk}/")
    assert "Equinor" not in note.file.name
    assert stored.read_bytes() == content
    # Not booked yet: the page says when it goes onto the voucher.
    page = response.content.decode()
    assert "Sluttseddel Equinor.pdf" in page
    assert 'data-state="pending"' in page
    assert "Legges ved når transaksjonen bokføres" in page


def test_a_non_pdf_renamed_pdf_is_refused_and_nothing_is_kept(client, fiona, acme, cn_root):
    txn = _trade(acme)
    client.force_login(fiona)
    response = client.post(_attach_url(acme, txn), {"file": upload("sluttseddel.pdf", NOT_A_PDF)})
    assert response.status_code == 302
    [message] = _flash(response)
    assert "«sluttseddel.pdf»" in message or "“sluttseddel.pdf”" in message
    assert "PDF" in message
    assert "ikke" in message
    assert _notes(acme) == []
    assert not cn_root.exists() or not any(cn_root.rglob("*.*"))


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notat.pdf", NOT_A_PDF, "is named like a PDF but is not one"),
        ("avbrutt.pdf", BROKEN_PDF, "cannot be opened"),
        ("tom.pdf", b"", "is empty"),
        ("regneark.xlsx", b"PK\x03\x04" + b"\x00" * 40, "neither a PDF nor a PNG or JPEG"),
    ],
)
def test_files_that_are_no_contract_note_are_refused_with_the_reason(acme, name, content, words):
    txn = _trade(acme)
    with scope(company=acme), pytest.raises(ContractNoteError, match=words):
        contract_note_attach(company=acme, txn=txn, upload=upload(name, content), by=None)
    assert _notes(acme) == []


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("skann.png", PNG_BYTES, "image/png"), ("foto.JPG", JPEG_BYTES, "image/jpeg")],
)
def test_png_and_jpeg_are_known_by_their_bytes(acme, name, content, kind):
    txn = _trade(acme)
    with scope(company=acme):
        note = contract_note_attach(company=acme, txn=txn, upload=upload(name, content), by=None)
    assert note.content_type == kind
    assert note.file.name.endswith(".png" if kind == "image/png" else ".jpg")


def test_the_size_cap_from_settings_refuses_a_bigger_file(acme, settings):
    pdf = pdf_with_text("Sluttseddel")
    settings.CONTRACT_NOTE_MAX_BYTES = len(pdf) + 10
    txn = _trade(acme)
    bigger = pdf + b"%" + b"x" * 40 + b"\n"  # a trailing comment: still a valid PDF
    with scope(company=acme), pytest.raises(ContractNoteError, match="the largest file taken is"):
        contract_note_attach(company=acme, txn=txn, upload=upload("stor.pdf", bigger), by=None)
    assert _notes(acme) == []
    with scope(company=acme):
        note = contract_note_attach(company=acme, txn=txn, upload=upload("liten.pdf", pdf), by=None)
    assert note.size == len(pdf)


def test_the_same_file_twice_is_recognised(acme):
    txn = _trade(acme)
    content = nordnet_note()
    with scope(company=acme):
        contract_note_attach(company=acme, txn=txn, upload=upload("a.pdf", content), by=None)
        with pytest.raises(ContractNoteError, match="already here"):
            contract_note_attach(company=acme, txn=txn, upload=upload("b.pdf", content), by=None)
    assert len(_notes(acme)) == 1


# ---- the file is its company's only --------------------------------------------------------------


def _bergen_note(bergen):
    txn = _trade(bergen)
    with scope(company=bergen):
        return contract_note_attach(
            company=bergen, txn=txn, upload=upload("bergen.pdf", nordnet_note()), by=None
        )


def test_another_companys_file_is_404(client, alice, acme, bergen):
    theirs = _bergen_note(bergen)
    client.force_login(alice)
    for slug in (acme.slug, bergen.slug):
        url = reverse(
            "ledger:contract_note_file", kwargs={"company_slug": slug, "note_id": theirs.pk}
        )
        response = client.get(url)
        assert response.status_code == 404
        assert b"%PDF" not in response.content


def test_the_company_gets_its_own_file_inline_and_never_cached(client, anders, acme):
    txn = _trade(acme)
    content = nordnet_note()
    with scope(company=acme):
        note = contract_note_attach(
            company=acme, txn=txn, upload=upload("Sluttseddel ø.pdf", content), by=None
        )
    client.force_login(anders)  # an accountant may read it
    url = reverse(
        "ledger:contract_note_file", kwargs={"company_slug": acme.slug, "note_id": note.pk}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="Sluttseddel _.pdf"')
    assert "filename*=UTF-8''Sluttseddel%20%C3%B8.pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    with pytest.raises(ValueError, match="not accessible via a URL"):
        _ = note.file.url  # no public address exists


def test_an_accountant_may_not_attach(client, anders, acme):
    txn = _trade(acme)
    client.force_login(anders)
    response = client.post(_attach_url(acme, txn), {"file": upload("a.pdf", nordnet_note())})
    assert response.status_code == 403
    assert _notes(acme) == []


# ---- many at once ---------------------------------------------------------------------------------


def test_a_drop_matches_by_number_by_details_and_lists_the_rest(client, fiona, acme):
    by_number = _trade(acme, number="987654321")
    by_details = _trade(
        acme, instrument_name="Orkla ASA", isin="NO0003733800", amount=Decimal("10000.00")
    )
    client.force_login(fiona)
    url = reverse("ledger:contract_notes", kwargs={"company_slug": acme.slug})
    files = [
        upload("nota-1.pdf", nordnet_note(number="987654321", amount="99 999,00")),
        upload(
            "orkla.pdf",
            pdf_with_text(
                "Sluttseddel", "Handelsdag 14.03.2025", "Solgt Orkla ASA NO0003733800", "9 951,00"
            ),
        ),
        upload("ukjent.pdf", nordnet_note(day="01.02.2024")),
        upload("bilde.pdf", NOT_A_PDF),
    ]
    response = client.post(url, {"files": files})
    assert response.status_code == 200
    notes = {n.original_name: n for n in _notes(acme)}
    assert notes["nota-1.pdf"].transaction_id == by_number.pk
    assert notes["nota-1.pdf"].matched_by == ContractNote.Match.NUMBER
    assert notes["nota-1.pdf"].contract_note_number == "987654321"
    # 10 000,00 less 49,00 in fees: what a sale's note shows as received.
    assert notes["orkla.pdf"].transaction_id == by_details.pk
    assert notes["orkla.pdf"].matched_by == ContractNote.Match.DETAILS
    assert notes["ukjent.pdf"].transaction_id is None
    assert "bilde.pdf" not in notes  # refused: nothing kept
    page = response.content.decode()
    assert page.count('data-testid="drop-matched"') == 2
    assert page.count('data-testid="drop-refused"') == 1
    assert page.count('data-testid="unassigned-note"') == 1
    assert "2 av 4 filer" in page


def test_an_unmatched_note_is_assigned_by_hand(client, fiona, acme, bergen):
    txn = _trade(acme)
    with scope(company=acme):
        [outcome] = contract_notes_drop(
            company=acme, uploads=[upload("x.pdf", nordnet_note(day="02.01.2024"))], by=None
        )
    note = outcome.note
    assert note is not None
    assert note.transaction is None
    theirs = _trade(bergen)
    client.force_login(fiona)
    url = reverse(
        "ledger:contract_note_assign", kwargs={"company_slug": acme.slug, "note_id": note.pk}
    )
    # Another company's transaction id is refused like an unknown one.
    response = client.post(url, {"transaction": theirs.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.transaction_id is None
    response = client.post(url, {"transaction": txn.pk})
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.transaction_id, note.matched_by) == (txn.pk, ContractNote.Match.HAND)


def test_two_trades_alike_are_left_for_a_person_with_both_offered(acme):
    first = _trade(acme)
    second = _trade(acme)
    with scope(company=acme):
        [outcome] = contract_notes_drop(
            company=acme, uploads=[upload("x.pdf", nordnet_note())], by=None
        )
    assert outcome.note is not None
    assert outcome.note.transaction is None
    assert {t.pk for t in outcome.candidates} == {first.pk, second.pk}


def test_a_file_name_carries_the_number_of_an_image(acme):
    txn = _trade(acme, number="55501234")
    with scope(company=acme):
        [outcome] = contract_notes_drop(
            company=acme, uploads=[upload("sluttseddel_55501234.png", PNG_BYTES)], by=None
        )
    assert outcome.note is not None
    assert outcome.note.transaction_id == txn.pk


def test_a_note_never_sent_can_be_removed_with_its_file(
    client, fiona, acme, cn_root, django_capture_on_commit_callbacks
):
    txn = _trade(acme)
    with scope(company=acme):
        note = contract_note_attach(
            company=acme, txn=txn, upload=upload("a.pdf", nordnet_note()), by=None
        )
    path = cn_root / note.file.name
    assert path.exists()
    client.force_login(fiona)
    url = reverse(
        "ledger:contract_note_remove", kwargs={"company_slug": acme.slug, "note_id": note.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert _notes(acme) == []
    assert not path.exists()


def test_a_note_sent_to_tripletex_stays(client, fiona, acme):
    txn = _trade(acme)
    with scope(company=acme):
        note = contract_note_attach(
            company=acme, txn=txn, upload=upload("a.pdf", nordnet_note()), by=None
        )
    with scopes_disabled():
        ContractNote.objects.filter(pk=note.pk).update(sent_at=timezone.now())
    client.force_login(fiona)
    url = reverse(
        "ledger:contract_note_remove", kwargs={"company_slug": acme.slug, "note_id": note.pk}
    )
    response = client.post(url)
    assert response.status_code == 302
    assert len(_notes(acme)) == 1

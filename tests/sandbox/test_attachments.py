"""The sandbox's voucher attachments, as Tripletex's spec describes them: a multipart upload is
appended to the voucher's one attachment document, the voucher shows it, and the answers validate
against the spec. The `drop_reply_after_attachment_store` knob stores the file and drops the
connection before any answer."""

from __future__ import annotations

import pytest
import requests

from tests.openapi_contract import validate_multipart_request, validate_response
from tripletex.sandbox import demo

pytestmark = pytest.mark.usefixtures("openapi_spec")

PDF = b"%PDF-1.4\n% sluttseddel\n"
FIELDS = {"fields": "id,version,attachment(id,version,fileName,size,mimeType)"}


def _voucher(server, http) -> int:
    bank = server.store.account_by_number(demo.HOLDING.company_id, 1920)["id"]
    fee = server.store.account_by_number(demo.HOLDING.company_id, 7770)["id"]
    body = {
        "date": server.store.today().isoformat(),
        "externalVoucherNumber": "APP-ATT-1",
        "postings": [
            {"row": 1, "account": {"id": fee}, "amountGross": 10, "amountGrossCurrency": 10},
            {"row": 2, "account": {"id": bank}, "amountGross": -10, "amountGrossCurrency": -10},
        ],
    }
    resp = http.post(f"{server.base_url}/ledger/voucher", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return int(resp.json()["value"]["id"])


def _upload(http, server, voucher_id, name, content, mime="application/pdf"):
    url = f"{server.base_url}/ledger/voucher/{voucher_id}/attachment"
    prepared = http.prepare_request(
        requests.Request("POST", url, files={"file": (name, content, mime)})
    )
    validate_multipart_request("POST", url, prepared.headers["Content-Type"], prepared.body)
    resp = http.send(prepared, timeout=10)
    validate_response("POST", url, resp.status_code, resp.json() if resp.content else None)
    return resp


def test_uploads_append_to_one_document_that_the_voucher_shows(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    voucher_id = _voucher(server, http)
    url = f"{server.base_url}/ledger/voucher/{voucher_id}"
    assert "attachment" not in http.get(url, params=FIELDS, timeout=10).json()["value"]
    first = _upload(http, server, voucher_id, "sluttseddel.pdf", PDF)
    assert first.status_code == 200
    document_id = first.json()["value"]["attachment"]["id"]
    second = _upload(http, server, voucher_id, "skann.png", b"\x89PNG\r\n\x1a\nrest", "image/png")
    assert second.json()["value"]["attachment"]["id"] == document_id
    shown = http.get(url, params=FIELDS, timeout=10)
    validate_response("GET", url, 200, shown.json())
    attachment = shown.json()["value"]["attachment"]
    assert attachment == {
        "id": document_id,
        "version": 1,
        "fileName": "sluttseddel.pdf",
        "size": len(PDF) + len(b"\x89PNG\r\n\x1a\nrest"),
        # Tripletex converts what is not a PDF into one (the spec's summary).
        "mimeType": "application/pdf",
    }
    parts = server.store.voucher_attachment_parts(demo.HOLDING.company_id, voucher_id)
    assert [p["fileName"] for p in parts] == ["sluttseddel.pdf", "skann.png"]
    document = http.get(f"{server.base_url}/document/{document_id}", timeout=10)
    validate_response("GET", f"{server.base_url}/document/{document_id}", 200, document.json())
    assert document.json()["value"]["size"] == attachment["size"]


@pytest.mark.parametrize(
    ("target", "name", "content", "status"),
    [
        ("missing", "a.pdf", PDF, 404),
        ("voucher", "a.txt", b"just text", 422),
        ("voucher", "empty.pdf", b"", 422),
    ],
)
def test_upload_errors(tripletex_sandbox, sandbox_http, target, name, content, status):
    server = tripletex_sandbox
    http = sandbox_http(server)
    voucher_id = _voucher(server, http) if target == "voucher" else 999_999
    resp = _upload(http, server, voucher_id, name, content)
    assert resp.status_code == status
    assert server.store.voucher_attachment_parts(demo.HOLDING.company_id, voucher_id) == []


def test_an_upload_that_is_no_form_is_refused(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    voucher_id = _voucher(server, http)
    url = f"{server.base_url}/ledger/voucher/{voucher_id}/attachment"
    resp = http.post(url, data=PDF, headers={"Content-Type": "application/pdf"}, timeout=10)
    assert resp.status_code == 415
    validate_response("POST", url, 415, resp.json())


def test_drop_reply_after_attachment_store(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    http = sandbox_http(server)
    voucher_id = _voucher(server, http)
    server.faults.drop_reply_after_attachment_store = 1
    with pytest.raises(requests.ConnectionError):
        http.post(
            f"{server.base_url}/ledger/voucher/{voucher_id}/attachment",
            files={"file": ("a.pdf", PDF, "application/pdf")},
            timeout=10,
        )
    # The file is on the voucher although the client never heard so; the knob is used up.
    parts = server.store.voucher_attachment_parts(demo.HOLDING.company_id, voucher_id)
    assert len(parts) == 1
    assert server.faults.drop_reply_after_attachment_store == 0
    assert _upload(http, server, voucher_id, "b.pdf", PDF).status_code == 200

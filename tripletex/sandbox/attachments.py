"""`POST /ledger/voucher/{voucherId}/attachment` in the sandbox: a multipart form whose part
`file` is appended to the voucher's attachment (store/attachments.py).

The spec declares the form (`multipart/form-data`, required part `file`) and the formats
("PDF, PNG, JPEG and TIFF"); it does not say what Tripletex answers for anything else. The
sandbox's choices, kept close to Tripletex's habits: no form at all is a 415 (what its Jersey
front answers for a media type it does not take), a missing or empty part or another format a
422/18000 validation error on `file`, and a voucher that does not exist a 404/6000. The answer is
the voucher (`ResponseWrapperVoucher`), showing its attachment.
"""

from __future__ import annotations

import email.parser
import email.policy
from typing import Any

from .api import ApiError, Context, Server, validation_error

# Magic bytes of the formats the spec names (TIFF in both byte orders).
_FORMATS = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def _file_part(ctx: Context) -> tuple[str, bytes]:
    """(file name, content) of the form's `file` part; raises ApiError otherwise."""
    if not ctx.content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, 4000, "Send som multipart/form-data.")
    head = f"Content-Type: {ctx.content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + ctx.body)
    if not message.is_multipart():
        raise ApiError(415, 4000, "Send som multipart/form-data.")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "file":
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes) or not content:
            break
        return part.get_filename() or "vedlegg", content
    raise validation_error([("file", "Kan ikke være null.")])


def voucher_attachment_upload(server: Server, ctx: Context) -> tuple[int, Any]:
    """POST /ledger/voucher/{voucherId}/attachment: append the file, answer the voucher."""
    voucher_id = int(ctx.params["voucherId"])
    if server.store.voucher(ctx.company_id, voucher_id) is None:
        raise ApiError(404, 6000, "Objektet finnes ikke.")
    file_name, content = _file_part(ctx)
    mime = next((m for magic, m in _FORMATS if content.startswith(magic)), None)
    if mime is None:
        raise validation_error(
            [("file", "Ugyldig filformat. Gyldige formater: PDF, PNG, JPEG, TIFF.")]
        )
    server.store.attach_to_voucher(
        ctx.company_id, voucher_id, file_name=file_name, mime_type=mime, content=content
    )
    if server.faults.take_drop_attachment_reply():
        ctx.drop_reply = True
        return 0, None
    voucher = server.store.voucher(ctx.company_id, voucher_id)
    assert voucher is not None
    return 200, server.single(ctx, voucher, "voucher")


def document_get(server: Server, ctx: Context) -> tuple[int, Any]:
    """GET /document/{id}: one attachment document."""
    document = server.store.document(ctx.company_id, int(ctx.params["id"]))
    if document is None:
        raise ApiError(404, 6000, "Objektet finnes ikke.")
    return 200, server.single(ctx, document, "document")

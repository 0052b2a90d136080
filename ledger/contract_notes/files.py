"""What a contract note file must be before it is kept: not too big, and really what it says.

A PDF is known by its content, never by its name: its header (`%PDF-`, which the PDF standard
lets stand anywhere in the first 1024 bytes, ISO 32000-1 annex H.3), and then pypdf must open it
and find at least one page. PNG and JPEG are known by their magic bytes (the PNG signature,
RFC 2083 §3.1; JPEG's SOI marker FF D8 followed by a marker, FF). These are formats Tripletex
takes on a voucher ("PDF, PNG, JPEG and TIFF", the spec's summary of
`POST /ledger/voucher/{voucherId}/attachment`); TIFF is left out, as brokers send PDFs.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from pypdf import PdfReader

logger = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}
# The text of the first pages is enough to find the number, date, instrument and amount.
TEXT_PAGES = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ContractNoteFileError(Exception):
    """The file is refused; the message says why, for the person who chose it."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks: its bytes, what it is, and its text (PDFs)."""

    name: str
    content: bytes
    content_type: str
    sha256: str
    text: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def file_size_text(size: int) -> str:
    """Bytes as people read them ("10,0 MB" in bokmål), as the pages show file sizes."""
    return str(filesizeformat(size))


def clean_name(name: str) -> str:
    """The file's own name (no folders, no control characters), at most 255 characters."""
    base = _CONTROL.sub("", PurePath(name.replace("\\", "/")).name).strip() or "sluttseddel"
    if len(base) <= 255:
        return base
    suffix = PurePath(base).suffix[:20]
    return base[: 255 - len(suffix)] + suffix


def contract_note_read(upload: UploadedFile) -> CheckedFile:
    """The upload checked and read; raises ContractNoteFileError with the reason."""
    name = clean_name(upload.name or "")
    limit = int(settings.CONTRACT_NOTE_MAX_BYTES)
    too_big = _("“%(name)s” is %(size)s; the largest file taken is %(limit)s.")
    if upload.size is not None and upload.size > limit:
        raise ContractNoteFileError(
            too_big
            % {"name": name, "size": file_size_text(upload.size), "limit": file_size_text(limit)}
        )
    content = _read_at_most(upload, limit + 1)
    if len(content) > limit:
        raise ContractNoteFileError(
            too_big
            % {"name": name, "size": file_size_text(len(content)), "limit": file_size_text(limit)}
        )
    if not content:
        raise ContractNoteFileError(_("“%(name)s” is empty.") % {"name": name})
    kind = _kind(content)
    if kind is None:
        if name.lower().endswith(".pdf"):
            raise ContractNoteFileError(
                _(
                    "“%(name)s” is named like a PDF but is not one: its content is not a PDF "
                    "document (another file renamed?). Choose the contract note itself, as a PDF "
                    "or a PNG or JPEG image."
                )
                % {"name": name}
            )
        raise ContractNoteFileError(
            _(
                "“%(name)s” is neither a PDF nor a PNG or JPEG image. Choose the contract note "
                "as a PDF (or a PNG or JPEG image)."
            )
            % {"name": name}
        )
    text = _pdf_text(name, content) if kind == PDF else ""
    digest = hashlib.sha256(content).hexdigest()
    return CheckedFile(name=name, content=content, content_type=kind, sha256=digest, text=text)


def _read_at_most(upload: UploadedFile, limit: int) -> bytes:
    """Up to `limit` bytes of the upload (its declared size is the browser's word only)."""
    upload.seek(0)
    out = bytearray()
    for chunk in upload.chunks():
        out += chunk
        if len(out) >= limit:
            break
    return bytes(out[:limit])


def _kind(content: bytes) -> str | None:
    """The content type the bytes show, or None."""
    if b"%PDF-" in content[:1024]:
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def _pdf_text(name: str, content: bytes) -> str:
    """The text of the PDF's first pages; raises ContractNoteFileError when pypdf cannot open it
    or it has no page (a damaged, cut-off or encrypted file Tripletex could not show either)."""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ContractNoteFileError(
                _(
                    "“%(name)s” is protected by a password. Save it without the password and "
                    "choose it again."
                )
                % {"name": name}
            )
        pages = reader.pages
        if len(pages) == 0:
            raise ValueError("no pages")
        return "\n".join(page.extract_text() or "" for page in pages[:TEXT_PAGES])
    except ContractNoteFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a parser over a stranger's bytes
        logger.info("Contract note %r refused: pypdf could not read it (%r)", name, exc)
        raise ContractNoteFileError(
            _(
                "“%(name)s” starts like a PDF but cannot be opened (damaged or incomplete). "
                "Download the contract note from the broker again and choose the new file."
            )
            % {"name": name}
        ) from None

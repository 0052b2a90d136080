"""Files for the contract note tests, made here: a real PDF with text (written object by object,
with its cross-reference table, as the PDF standard lays it out), PNG and JPEG headers, and things
that only pretend to be PDFs."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_with_text(*lines: str) -> bytes:
    """A one-page PDF whose page shows `lines` in Helvetica (WinAnsi, so æ, ø and å work)."""

    def escape(text: str) -> bytes:
        raw = text.encode("cp1252")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    shown = b"".join(
        b"BT /F1 11 Tf 50 %d Td (%s) Tj ET\n" % (780 - 16 * i, escape(line))
        for i, line in enumerate(lines)
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(shown), shown),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def nordnet_note(
    *,
    number: str = "",
    day: str = "14.03.2025",
    amount: str = "25 049,00",
    name: str = "Equinor ASA",
) -> bytes:
    """A contract note as a PDF: number, trade date, instrument with ISIN, what was paid."""
    lines = ["Nordnet Bank AB - Sluttseddel"]
    if number:
        lines.append(f"Sluttseddelnummer: {number}")
    lines += [
        f"Handelsdag: {day}",
        f"Kjøpt 100 {name} ISIN NO0010096985",
        "Kurs 250,00 NOK  Kurtasje 49,00 NOK",
        f"Beløp å betale: {amount} NOK",
    ]
    return pdf_with_text(*lines)


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
# A text file renamed to .pdf, and a file that starts like a PDF but is cut off after its header.
NOT_A_PDF = b"Dette er en tekstfil, ikke en PDF.\n" * 20
BROKEN_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    """An uploaded file as a view or service receives it."""
    return SimpleUploadedFile(name, content, content_type=content_type)

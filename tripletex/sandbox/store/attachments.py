"""Voucher attachments in the sandbox, as Tripletex keeps them: one document per voucher, and
every upload appended to it as more pages (the spec's summary of
`POST /ledger/voucher/{voucherId}/attachment`: "If the voucher already has an attachment the
content will be appended to the existing attachment as new PDF page(s) … Non PDF formats will be
converted to PDF").

The document's `size` is the sum of what was uploaded (Tripletex's merged PDF differs in bytes,
but grows the same way), its `version` counts the uploads after the first, and its `mimeType` is
always application/pdf. Each upload is kept as a part (name, type, size, sha256), so tests can
count what a voucher really carries.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..fields import Url
from .schema import Database

PDF_MIME = "application/pdf"


class Attachments(Database):
    """Documents attached to vouchers, and their parts."""

    def attach_to_voucher(
        self, company_id: int, voucher_id: int, *, file_name: str, mime_type: str, content: bytes
    ) -> int:
        """Append an upload to the voucher's document (created by the first); its id."""
        digest = hashlib.sha256(content).hexdigest()
        with self._lock, self._transaction():
            row = self.db.execute(
                "SELECT id FROM documents WHERE voucher_id=? AND company_id=?",
                (voucher_id, company_id),
            ).fetchone()
            if row is None:
                document_id = self._next_id("documents", 700_001)
                self.db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?)",
                    (document_id, company_id, voucher_id, file_name),
                )
            else:
                document_id = int(row[0])
            self.db.execute(
                "INSERT INTO document_parts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._next_id("document_parts", 1),
                    document_id,
                    file_name,
                    mime_type,
                    len(content),
                    digest,
                ),
            )
            self.db.execute("UPDATE vouchers SET version=version+1 WHERE id=?", (voucher_id,))
        return document_id

    def document(self, company_id: int, document_id: int) -> dict[str, Any] | None:
        """A Document entity (Tripletex's schema: id, version, url, fileName, size, mimeType)."""
        with self._lock:
            row = self.db.execute(
                "SELECT d.file_name, COUNT(p.id), COALESCE(SUM(p.size), 0) FROM documents d "
                "JOIN document_parts p ON p.document_id = d.id WHERE d.id=? AND d.company_id=? "
                "GROUP BY d.id",
                (document_id, company_id),
            ).fetchone()
        if row is None:
            return None
        file_name, parts, size = row
        return {
            "id": document_id,
            "version": parts - 1,
            "url": Url("document", document_id),
            "fileName": file_name,
            "size": size,
            "mimeType": PDF_MIME,
        }

    def voucher_attachment_parts(self, company_id: int, voucher_id: int) -> list[dict[str, Any]]:
        """Every upload appended to the voucher's document, oldest first (for tests)."""
        with self._lock:
            rows = self.db.execute(
                "SELECT p.file_name, p.mime_type, p.size, p.sha256 FROM document_parts p "
                "JOIN documents d ON d.id = p.document_id WHERE d.voucher_id=? AND d.company_id=? "
                "ORDER BY p.id",
                (voucher_id, company_id),
            ).fetchall()
        keys = ("fileName", "mimeType", "size", "sha256")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _delete_attachment(self, voucher_id: int) -> None:
        """Inside a transaction: drop the voucher's document with it."""
        self.db.execute(
            "DELETE FROM document_parts WHERE document_id IN "
            "(SELECT id FROM documents WHERE voucher_id=?)",
            (voucher_id,),
        )
        self.db.execute("DELETE FROM documents WHERE voucher_id=?", (voucher_id,))

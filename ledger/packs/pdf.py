"""The report pack as PDF: the pack's HTML template rendered in bokmål, laid out by WeasyPrint.

CSS paged media does the page furniture (templates/ledger/packs/pack_pdf.html): the firm's name
and organisation number run at the top of every page (a running element), "Side 1 av 5" at the
bottom (`counter(page)` of `counter(pages)`), A4 portrait. Fonts: DejaVu Sans from Debian's
fonts-dejavu-core (Norwegian letters, the minus sign U+2212, tabular digits).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import translation

from companies.models import Company
from ledger.packs.content import PackContent, pack_content

PDF_LANGUAGE = "nb"


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def pack_render(*, company: Company, month: datetime.date) -> RenderedPdf:
    """The firm's report pack through `month`, in bokmål (labels the selectors translate too)."""
    with translation.override(PDF_LANGUAGE):
        return pack_pdf(pack_content(company=company, month=month))


def pack_html(content: PackContent) -> str:
    """The pack's HTML, in bokmål whatever the caller's language."""
    with translation.override(PDF_LANGUAGE):
        return render_to_string("ledger/packs/pack_pdf.html", {"pack": content})


def pack_pdf(content: PackContent) -> RenderedPdf:
    """The pack as PDF bytes and its number of pages.

    WeasyPrint is imported here, not at the top: it loads Pango from the system when imported, and
    a machine without Pango must still start the app (only making a pack then fails, said on the
    pack's page as its error)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # ships no type hints

    document = HTML(string=pack_html(content)).render()
    data = document.write_pdf()
    assert data is not None  # write_pdf() without a target returns the bytes
    return RenderedPdf(data=data, pages=len(document.pages))

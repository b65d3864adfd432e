"""Printable documents: one Jinja2 template rendered to HTML, then to a real PDF by WeasyPrint.

Every printable record (assessments, consents, safety plans, notes, discharge summaries) goes through
`render_pdf` so that they share one print stylesheet and one way of failing. WeasyPrint is imported
when a PDF is made, so the rest of the app runs on a machine without Pango; there a PDF request
raises `PdfUnavailable` with a message that says what to install.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from openiop.core.errors import DomainError


class PdfUnavailable(DomainError):
    code = "pdf_unavailable"
    http_status = 503


def render_pdf_html(
    template_name: str, context: dict[str, Any], request: HttpRequest | None
) -> str:
    """The HTML that becomes the PDF (the template extends ui/print.html)."""
    return render_to_string(template_name, context, request=request)


def render_pdf(
    template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None
) -> bytes:
    """Render a print template to PDF bytes.

    Raises PdfUnavailable when WeasyPrint or its system libraries (Pango) are missing.
    """
    html = render_pdf_html(template_name, context, request)
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are not installed
        raise PdfUnavailable(
            "PDF printing needs WeasyPrint and the Pango libraries "
            "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0).",
        ) from exc
    return bytes(HTML(string=html).write_pdf())


def pdf_response(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    """An inline PDF response named `filename`; never cached (it carries patient data)."""
    body = render_pdf(template_name, context, request=request)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

"""The shared PDF renderer makes a real PDF whose text can be read back."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from openiop.ui.pdf import render_pdf


def test_render_pdf_makes_a_readable_pdf_with_escaped_text() -> None:
    data = render_pdf(
        "ui/print_check.html",
        {"heading": "Assessment for Testy McTestface", "body": "<script>x</script> & more"},
    )
    assert data.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Assessment for Testy McTestface" in text
    assert "<script>x</script> & more" in text  # escaped in HTML, so shown as text
    assert "Page 1 of 1" in text


@pytest.mark.parametrize("missing", [ImportError("no weasyprint"), OSError("no pango")])
def test_render_pdf_says_what_to_install_when_weasyprint_cannot_load(
    monkeypatch: pytest.MonkeyPatch, missing: Exception
) -> None:
    import builtins

    from openiop.ui.pdf import PdfUnavailable

    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise missing
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(PdfUnavailable, match="Pango"):
        render_pdf("ui/print_check.html", {"heading": "h", "body": "b"})

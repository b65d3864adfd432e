"""Validation of generated X12 with pyx12, shared by the billing tests that write 837s.

pyx12's validator checks an interchange against the 5010 HIPAA maps (837Q3.I.5010.X223.A1 for
005010X223A2, 837.5010.X222.A1 for 005010X222A1); any finding fails the test and is printed.
NPIs in tests carry a valid check digit computed with the 80840 prefix (Luhn).
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

# pyx12 is a dev dependency (pyproject [project.optional-dependencies] dev): imported plainly so a
# missing validator fails the run instead of skipping it.
import pyx12.params as pyx12_params
import pyx12.x12n_document as pyx12_document


def npi_with_check_digit(first_nine: str) -> str:
    """A 10-digit NPI: nine digits plus the Luhn check digit over the prefix 80840 + nine."""
    assert len(first_nine) == 9 and first_nine.isdigit()
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:  # the rightmost digit of the payload is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return first_nine + str((10 - total % 10) % 10)


def validate(text: str) -> tuple[bool, list[str]]:
    """Run pyx12's validator; return (valid, findings)."""
    params = pyx12_params.params()
    fd_json = io.StringIO()
    fd_999 = io.StringIO()
    logger = logging.getLogger("pyx12")
    captured: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                captured.append(record.getMessage())

    handler = _Collect()
    logger.addHandler(handler)
    try:
        ok = pyx12_document.x12n_document(
            param=params,
            src_file=io.StringIO(text),
            fd_997=fd_999,
            fd_html=None,
            fd_json=fd_json,
        )
    finally:
        logger.removeHandler(handler)
    findings = list(captured)
    doc = json.loads(fd_json.getvalue() or "{}")
    findings.extend(_collect_errors(doc))
    return bool(ok) and not findings, findings


def _collect_errors(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and isinstance(value, list):
                found.extend(f"{path}: {err}" for err in value)
            else:
                found.extend(_collect_errors(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_collect_errors(item, f"{path}[{index}]"))
    return found


def assert_valid(text: str) -> None:
    ok, findings = validate(text)
    if not ok:
        print(text.replace("~", "~\n"))
        for finding in findings:
            print("pyx12:", finding)
    assert ok, findings


def segments(text: str) -> list[list[str]]:
    return [seg.split("*") for seg in text.split("~") if seg]

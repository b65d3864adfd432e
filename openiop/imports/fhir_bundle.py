"""A FHIR Bundle of Patient resources read into the import's row drafts (imports.domain).

Each entry is validated on its own with fhir.resources, so one invalid Patient is reported for its
entry and the others still read. A Patient maps to the CSV columns the same rows have (name,
birthDate, gender, identifier, telecom, address) and goes through the same checks (draft_row).
No Django, no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fhir.resources.bundle import Bundle
from fhir.resources.patient import Patient
from pydantic import ValidationError

from openiop.imports.domain import MAX_ROWS, FileProblem, RowDraft, Vocabulary, draft_row

# FHIR administrative gender -> the CSV's sex column (patients' Sex choices accept these values).
GENDER_TO_SEX = {"female": "female", "male": "male", "other": "unknown", "unknown": "unknown"}
# identifier.type.coding.code of a medical record number (HL7 v2 table 0203).
MRN_TYPE_CODE = "MR"


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "resource"
    message = str(first.get("msg", "invalid"))
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {message[:160]}{more}"


def _official_name(patient: Patient) -> tuple[str, str, str]:
    """(first, last, preferred) from the official (else usual, else first) name and a nickname."""
    names = list(patient.name or [])
    if not names:
        return "", "", ""
    chosen = next((n for n in names if n.use == "official"), None) or next(
        (n for n in names if n.use == "usual"), names[0]
    )
    given = list(chosen.given or [])
    nickname = next((n for n in names if n.use == "nickname" and n.given), None)
    preferred = str(nickname.given[0]) if nickname and nickname.given else ""
    return (str(given[0]) if given else ""), str(chosen.family or ""), preferred


def _external_id(patient: Patient, source_system: str) -> str:
    """The identifier of `source_system` when given, else the first MR-typed one, else the first
    identifier; the resource's id when it has none."""
    idents = list(patient.identifier or [])

    def is_mr(ident: Any) -> bool:
        codings = list(ident.type.coding or []) if ident.type else []
        return any(c.code == MRN_TYPE_CODE for c in codings)

    chosen = None
    if source_system:
        chosen = next((i for i in idents if i.system == source_system and i.value), None)
    chosen = chosen or next((i for i in idents if is_mr(i) and i.value), None)
    chosen = chosen or next((i for i in idents if i.value), None)
    if chosen is not None:
        return str(chosen.value)
    return str(patient.id or "")


def patient_cells(patient: Patient, *, source_system: str = "") -> dict[str, str]:
    """The CSV cells (imports.domain.COLUMNS) a Patient resource gives."""
    first, last, preferred = _official_name(patient)
    external_id = _external_id(patient, source_system)
    telecom = list(patient.telecom or [])
    phone = next((t.value for t in telecom if t.system == "phone" and t.value), "")
    email = next((t.value for t in telecom if t.system == "email" and t.value), "")
    addresses = list(patient.address or [])
    address = next((a for a in addresses if a.use == "home"), addresses[0] if addresses else None)
    birth = patient.birthDate
    cells = {
        "external_id": external_id,
        "first_name": first,
        "last_name": last,
        "preferred_name": preferred,
        "date_of_birth": birth.isoformat() if isinstance(birth, dt.date) else str(birth or ""),
        "sex": GENDER_TO_SEX.get(str(patient.gender or ""), ""),
        "phone": str(phone or ""),
        "email": str(email or ""),
    }
    if address is not None:
        cells.update(
            address_line=", ".join(str(line) for line in (address.line or [])),
            city=str(address.city or ""),
            state=str(address.state or ""),
            postal_code=str(address.postalCode or ""),
        )
    communication = list(patient.communication or [])
    if communication and communication[0].language and communication[0].language.text:
        cells["language"] = str(communication[0].language.text)
    return cells


def read_bundle(
    text: str, vocab: Vocabulary, *, today: dt.date, source_system: str = ""
) -> list[RowDraft]:
    """Every entry of a Bundle as a RowDraft numbered from 1 (the entry's position). An entry that
    is not a valid Patient is a row with its problem. Raises FileProblem when the text is not a
    JSON Bundle at all."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FileProblem(f"The file is not JSON: {str(exc)[:120]}.") from exc
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FileProblem("The file is JSON but not a FHIR Bundle (resourceType must be Bundle).")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise FileProblem("The Bundle's entry is not a list.")
    try:
        Bundle.model_validate({k: v for k, v in data.items() if k != "entry"})
    except ValidationError as exc:
        raise FileProblem(f"The Bundle is not valid FHIR: {_first_error(exc)}.") from exc
    if not entries:
        raise FileProblem("The Bundle has no entries to import.")
    if len(entries) > MAX_ROWS:
        raise FileProblem(f"The Bundle has more than {MAX_ROWS:,} entries: split it.")
    rows: list[RowDraft] = []
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            rows.append(RowDraft(number, "(no resource)", problems=("The entry has no resource.",)))
            continue
        kind = str(resource.get("resourceType", ""))[:40]
        if kind != "Patient":
            rows.append(
                RowDraft(
                    number,
                    f"({kind or 'no resourceType'})",
                    problems=(f"Only Patient resources are imported; this entry is a {kind}.",),
                )
            )
            continue
        try:
            patient = Patient.model_validate(resource)
        except ValidationError as exc:
            rows.append(
                RowDraft(
                    number,
                    "(invalid Patient)",
                    problems=(f"Invalid Patient: {_first_error(exc)}.",),
                )
            )
            continue
        cells = patient_cells(patient, source_system=source_system)
        rows.append(draft_row(number, cells, vocab, today=today))
    return rows

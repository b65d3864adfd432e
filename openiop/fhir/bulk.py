"""FHIR Bulk Data Access (IG v2) as plain functions: the kick-off's parameters, the ids of the
groups this server exports, the manifest and the OperationOutcome lines of what was withheld.
No database, no HTTP, no clock: the service (fhir.exports) and the views call these.

Groups: this server has no Group resource of its own. A group is a track (`track-<pk>`: the
patients with an enrollment in it) or a site (`site-<pk>`: the patients whose home site it is).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openiop.core.errors import RuleViolation
from openiop.fhir.scopes import RESOURCE_TYPES

# Types that are not in a patient's compartment: exported at the system level only.
NON_PATIENT_TYPES: frozenset[str] = frozenset({"Practitioner", "Organization", "Location"})
PATIENT_TYPES: tuple[str, ...] = tuple(t for t in RESOURCE_TYPES if t not in NON_PATIENT_TYPES)

# The output formats a client may ask for (_outputFormat): all mean NDJSON of FHIR JSON.
NDJSON_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
# The kick-off parameters this server honours; any other is refused (the IG lets a server
# ignore them only under `Prefer: handling=lenient`, which this server does not offer).
KICKOFF_PARAMS = frozenset({"_type", "_since", "_outputFormat", "patient"})

GROUP_KINDS = ("track", "site")
_GROUP_ID = re.compile(r"^(track|site)-([1-9][0-9]{0,17})$")


class BadExportRequest(RuleViolation):
    """A kick-off the server cannot run as asked (HTTP 400 OperationOutcome)."""

    code = "bad_export_request"


@dataclass(frozen=True)
class GroupRef:
    """A group by its FHIR id: `track-12` or `site-3`."""

    kind: str  # "track" | "site"
    pk: int

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.pk}"


def parse_group_id(text: str) -> GroupRef | None:
    """The group `text` names (`track-<pk>` or `site-<pk>`), or None when it names none."""
    m = _GROUP_ID.match(text)
    if m is None:
        return None
    return GroupRef(m.group(1), int(m.group(2)))


def types_for(kind: str) -> tuple[str, ...]:
    """The resource types an export of this level holds when _type is not given: every type at
    the system level, the patient compartment's at the group and patient levels."""
    return RESOURCE_TYPES if kind == "system" else PATIENT_TYPES


def parse_types(values: Sequence[str], kind: str) -> tuple[str, ...] | None:
    """The types _type asks for (comma-separated, repeatable), in the server's order; None when
    _type is absent. Raises BadExportRequest for a type this server or level does not export."""
    wanted = {t.strip() for v in values for t in v.split(",") if t.strip()}
    if not values:
        return None
    allowed = types_for(kind)
    unknown = sorted(t for t in wanted if t not in allowed)
    if unknown:
        level = "this server" if kind == "system" else f"a {kind}-level export"
        raise BadExportRequest(
            f"_type names {', '.join(u[:40] for u in unknown[:5])}, which {level} does not "
            f"export (it exports {', '.join(allowed)}).",
            field="_type",
        )
    if not wanted:
        raise BadExportRequest("_type is empty: name at least one resource type.", field="_type")
    return tuple(t for t in allowed if t in wanted)


def parse_since(values: Sequence[str]) -> dt.datetime | None:
    """The _since instant (a FHIR instant: date, time and zone), or None when absent. Raises
    BadExportRequest for a value that is not an instant with its time zone."""
    if not values:
        return None
    if len(values) > 1:
        raise BadExportRequest("Give _since once.", field="_since")
    text = values[0].strip()
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or "T" not in text:
        raise BadExportRequest(
            f"_since must be a FHIR instant with its time zone, e.g. 2026-01-01T00:00:00Z "
            f"(got '{text[:40]}').",
            field="_since",
        )
    return when


@dataclass(frozen=True)
class ExportRequest:
    """A kick-off's parsed parameters: the types asked for (None: the level's default) and the
    instant since which resources changed (None: all)."""

    types: tuple[str, ...] | None
    since: dt.datetime | None
    patients: tuple[int, ...] = ()


def parse_kickoff(params: Mapping[str, Sequence[str]], kind: str) -> ExportRequest:
    """Read a kick-off's parameters (query string, or a POSTed Parameters resource as a mapping
    of name to values). Raises BadExportRequest for an unsupported parameter or format."""
    for name in params:
        if name not in KICKOFF_PARAMS:
            raise BadExportRequest(
                f"'{name[:40]}' is not a kick-off parameter this server supports "
                f"({', '.join(sorted(KICKOFF_PARAMS))}).",
                field=name[:40],
            )
    formats = list(params.get("_outputFormat", []))
    if any(f not in NDJSON_FORMATS for f in formats):
        raise BadExportRequest(
            "_outputFormat must be application/fhir+ndjson (or its short forms).",
            field="_outputFormat",
        )
    return ExportRequest(
        types=parse_types(list(params.get("_type", [])), kind),
        since=parse_since(list(params.get("_since", []))),
        patients=parse_patients(list(params.get("patient", [])), kind),
    )


_PATIENT_REF = re.compile(r"^(?:Patient/)?([1-9][0-9]{0,17})$")


def parse_patients(values: Sequence[str], kind: str) -> tuple[int, ...]:
    """The patient ids of the `patient` parameter (references `Patient/<id>`, comma-separated
    or repeated), only at the patient level. Raises BadExportRequest otherwise."""
    if not values:
        return ()
    if kind != "patient":
        raise BadExportRequest("patient is a parameter of Patient/$export only.", field="patient")
    out: list[int] = []
    for part in (p.strip() for v in values for p in v.split(",")):
        m = _PATIENT_REF.match(part)
        if m is None:
            raise BadExportRequest(
                f"'{part[:40]}' is not a patient reference (Patient/<id>).", field="patient"
            )
        out.append(int(m.group(1)))
    return tuple(sorted(set(out)))


def parameters_body(body: Any) -> dict[str, list[str]]:
    """A POSTed kick-off's Parameters resource as a mapping of name to values (valueString,
    valueInstant, valueCode...). Raises BadExportRequest for another body."""
    if body is None:
        return {}
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise BadExportRequest("A POSTed kick-off carries a Parameters resource, or nothing.")
    out: dict[str, list[str]] = {}
    for entry in body.get("parameter") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BadExportRequest("Each parameter needs a name.")
        values = [v for k, v in entry.items() if k.startswith("value") and isinstance(v, str)]
        ref = entry.get("valueReference")
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            values.append(ref["reference"])
        if len(values) != 1:
            raise BadExportRequest(f"Parameter {entry['name'][:40]} needs one text value.")
        out.setdefault(entry["name"], []).append(values[0])
    return out


def progress_text(done: int, total: int | None, status: str) -> str:
    """The X-Progress header of a status answer while the export runs (at most 100 characters)."""
    if status == "queued":
        return "queued"
    if not total:
        return f"running: {done} resources written"
    return f"running: {min(100, done * 100 // total)}% ({done} of {total} resources)"


@dataclass(frozen=True)
class FileEntry:
    """One file of the manifest: its resource type, download URL and number of lines."""

    type: str
    url: str
    count: int


def manifest(
    *,
    transaction_time: dt.datetime,
    request_url: str,
    output: Iterable[FileEntry],
    errors: Iterable[FileEntry],
) -> dict[str, Any]:
    """The complete-status manifest of the Bulk Data IG: every file behind a token
    (requiresAccessToken), outputs and error files with their counts."""
    return {
        "transactionTime": transaction_time.isoformat(),
        "request": request_url,
        "requiresAccessToken": True,
        "output": [{"type": f.type, "url": f.url, "count": f.count} for f in output],
        "error": [{"type": f.type, "url": f.url, "count": f.count} for f in errors],
    }


def withheld_outcomes(
    counts: Mapping[str, int], patients: Mapping[str, int]
) -> list[dict[str, Any]]:
    """One OperationOutcome (as JSON) per resource type of which records were withheld under
    42 CFR Part 2: how many, of how many patients; never which or what they held."""
    out = []
    for resource_type in sorted(counts):
        n = counts[resource_type]
        if not n:
            continue
        noun = "record" if n == 1 else "records"
        who = patients.get(resource_type, 0)
        out.append(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "warning",
                        "code": "suppressed",
                        "diagnostics": (
                            f"{n} {resource_type} {noun} of {who} patient(s) withheld under 42 "
                            "CFR Part 2: they come from substance-use treatment and no consent "
                            "on file covers this client for this purpose."
                        ),
                        "expression": [resource_type],
                    }
                ],
            }
        )
    return out

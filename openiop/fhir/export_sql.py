"""The bulk export's NDJSON lines built by PostgreSQL (issue 17 point 4): one SqlBuilder per
resource type, registered in BUILDERS. A type without one is mapped in Python (mapping.py through
fhir.resources) by fhir.exports, as are all types on SQLite.

Each builder's `line` is a json_build_object expression that produces exactly the elements the
Python mapping produces for the same row (the same JSON once parsed; the test
openiop/fhir/tests/test_export_sql.py checks every registered builder against mapping.py and
validates its lines with fhir.resources), including `meta.security` and the 42 CFR 2.32 notice of
a Part 2 record (part2.part2_meta). Instants are written as fhir.resources writes them (UTC, "Z",
microseconds only when there are some).

Which rows, and which of them may go, are not decided here: fhir.exports passes the rows' scope as
the SQL of its Django queryset (the search's site scope, the group, `patient`, `_since`) and the
patients whose Part 2 records the consents seam (consents.selectors.part2_release) withholds.
Every value from outside this module is a query parameter; the SQL text is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openiop.fhir import mapping
from openiop.fhir.part2 import ACT_CODE_SYSTEM, part2_meta

# The table's row is aliased x in every builder.
ROW = "x"


def instant(column: str) -> str:
    """SQL for a timestamptz column as fhir.resources writes an instant: UTC with "Z", and
    microseconds (six digits) only when the value has some."""
    return (
        f"to_char({column} AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {column}) = {column}"
        """ THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)"""
    )


def _ref(resource_type: str, column: str) -> str:
    return f"json_build_object('reference', '{resource_type}/' || {column})"


@dataclass(frozen=True)
class SqlBuilder:
    """How PostgreSQL builds one type's lines.

    `from_sql` is the table (alias x) and the joins the Part 2 columns need; `line_from_sql` the
    further joins the line needs (with `line_from_params`); `line` the json expression (with
    `line_params`, in order after them). `part2` is true for a Part 2 record (ResourceDef.part2_of),
    `part2_patient` / `part2_org` the patient the Part 2 decision is about and their organization
    (ResourceDef.patient_of), `audit_patient` the patient the audit names (ResourceDef.patient_path).
    """

    type: str
    from_sql: str
    line: str
    line_params: Callable[[], list[Any]]
    part2: str = "false"
    part2_patient: str = "NULL::bigint"
    part2_org: str = "NULL::bigint"
    audit_patient: str = "NULL::bigint"
    line_from_sql: str = ""
    line_from_params: Callable[[], list[Any]] = field(default=lambda: [])

    def census(self, scope_sql: str, scope_params: Sequence[Any]) -> tuple[str, list[Any]]:
        """Rows in scope by (audit patient, Part 2 patient, its organization, is Part 2): count,
        lowest and highest id. One pass, no line built."""
        sql = (
            f"SELECT {self.audit_patient}, {self.part2_patient}, {self.part2_org}, "
            f"({self.part2}), count(*), min({ROW}.id), max({ROW}.id) "
            f"FROM {self.from_sql} WHERE {ROW}.id IN ({scope_sql}) GROUP BY 1, 2, 3, 4"
        )
        return sql, list(scope_params)

    def lines(
        self,
        scope_sql: str,
        scope_params: Sequence[Any],
        withheld: Sequence[int],
        id_range: tuple[int, int] | None = None,
    ) -> tuple[str, list[Any]]:
        """SELECT of (id, line) of the rows in scope (with ids in `id_range`, from inclusive to
        exclusive, when given) less the Part 2 records of the `withheld` patients."""
        sql = (
            f"SELECT {ROW}.id, ({self.line})::text AS line "
            f"FROM {self.from_sql} {self.line_from_sql} "
            f"WHERE {ROW}.id IN ({scope_sql}) "
            f"AND NOT (({self.part2}) AND {self.part2_patient} = ANY(%s::bigint[]))"
        )
        params = [
            *self.line_params(),
            *self.line_from_params(),
            *scope_params,
            [int(pid) for pid in withheld],
        ]
        if id_range is not None:
            sql += f" AND {ROW}.id >= %s AND {ROW}.id < %s"
            params += [int(id_range[0]), int(id_range[1])]
        return sql, params

    def insert_file(
        self,
        scope_sql: str,
        scope_params: Sequence[Any],
        withheld: Sequence[int],
        *,
        id_range: tuple[int, int],
        export_id: int,
        part: int,
        file_lines: int,
    ) -> tuple[str, list[Any]]:
        """INSERT of the lines of the ids in `id_range` as one BulkExportFile, part `part`, in
        id order, when there are between 1 and `file_lines` of them (else nothing is written);
        answers (lines in the range, lines written)."""
        select, params = self.lines(scope_sql, scope_params, withheld, id_range)
        sql = (
            f"WITH picked AS MATERIALIZED ({select}), "
            "written AS (INSERT INTO fhir_bulkexportfile "
            "(export_id, resource_type, part, is_error, count, ndjson) "
            "SELECT %s, %s, %s, false, count(*), "
            "string_agg(line, E'\\n' ORDER BY id) || E'\\n' FROM picked "
            "HAVING count(*) BETWEEN 1 AND %s RETURNING count) "
            "SELECT (SELECT count(*) FROM picked), (SELECT COALESCE(sum(count), 0) FROM written)"
        )
        return sql, [*params, export_id, self.type, part, file_lines]

    def copy(self, scope_sql: str, scope_params: Sequence[Any]) -> tuple[str, list[Any]]:
        """COPY ... TO STDOUT of the lines of every row in scope (nothing withheld), in id order:
        the benchmark's comparison (bench/export.py)."""
        select, params = self.lines(scope_sql, scope_params, [])
        return f"COPY (SELECT line FROM ({select}) lines ORDER BY id) TO STDOUT", params


def _json(value: Any) -> str:
    return json.dumps(value)


def _part2_meta_params() -> list[Any]:
    meta = part2_meta()
    return [_json(meta["security"]), _json(meta["extension"])]


def _meta(*, part2: str, version: bool) -> str:
    """The meta element: lastUpdated, versionId of a versioned row, the Part 2 labels."""
    version_sql = f"'versionId', {ROW}.version::text, " if version else ""
    return (
        f"json_build_object({version_sql}'lastUpdated', {instant(ROW + '.updated_at')}, "
        f"'security', CASE WHEN {part2} THEN %s::json END, "
        f"'extension', CASE WHEN {part2} THEN %s::json END)"
    )


# --- Patient --------------------------------------------------------------------------------------

_PATIENT_NAME = "json_build_object('use', '{use}', 'family', x.legal_last_name, 'given', json_build_array({given}))"
_PATIENT_LINE = f"""json_strip_nulls(json_build_object(
  'resourceType', 'Patient', 'id', x.id::text,
  'meta', {_meta(part2="false", version=True)},
  'extension', json_build_array(json_build_object('url', %s::text,
      'valueReference', {_ref("Location", "x.site_id")})),
  'identifier', json_build_array(json_build_object('use', 'usual',
      'type', json_build_object('coding', json_build_array(json_build_object(
          'system', 'http://terminology.hl7.org/CodeSystem/v2-0203', 'code', 'MR'))),
      'system', %s::text || '/' || x.organization_id, 'value', x.mrn)),
  'active', true,
  'name', CASE WHEN x.preferred_name <> '' THEN json_build_array(
      {_PATIENT_NAME.format(use="official", given="x.legal_first_name")},
      {_PATIENT_NAME.format(use="usual", given="x.preferred_name")})
    ELSE json_build_array({_PATIENT_NAME.format(use="official", given="x.legal_first_name")}) END,
  'telecom', CASE
    WHEN x.phone <> '' AND x.email <> '' THEN json_build_array(
      json_build_object('system', 'phone', 'value', x.phone),
      json_build_object('system', 'email', 'value', x.email))
    WHEN x.phone <> '' THEN json_build_array(json_build_object('system', 'phone', 'value', x.phone))
    WHEN x.email <> '' THEN json_build_array(json_build_object('system', 'email', 'value', x.email))
    END,
  'gender', COALESCE(%s::jsonb ->> x.sex, 'unknown'),
  'birthDate', to_char(x.date_of_birth, 'YYYY-MM-DD'),
  'address', CASE WHEN x.address_line <> '' OR x.city <> '' OR x.state <> '' OR x.postal_code <> ''
    THEN json_build_array(json_build_object('use', 'home',
      'line', CASE WHEN x.address_line <> '' THEN json_build_array(x.address_line) END,
      'city', NULLIF(x.city, ''), 'state', NULLIF(x.state, ''),
      'postalCode', NULLIF(x.postal_code, ''))) END,
  'communication', CASE WHEN x.language <> '' THEN json_build_array(json_build_object(
      'language', json_build_object('text', x.language), 'preferred', true)) END,
  'managingOrganization', {_ref("Organization", "x.organization_id")}))"""


def _patient_params() -> list[Any]:
    return [
        *_part2_meta_params(),
        mapping.HOME_SITE_EXTENSION,
        mapping.MRN_SYSTEM,
        _json(mapping.GENDER),
    ]


PATIENT = SqlBuilder(
    type="Patient",
    from_sql="patients_patient x",
    line=_PATIENT_LINE,
    line_params=_patient_params,
    part2_patient="x.id",
    part2_org="x.organization_id",
    audit_patient="x.id",
)


# --- Encounter ------------------------------------------------------------------------------------

_ENCOUNTER_LINE = f"""json_strip_nulls(json_build_object(
  'resourceType', 'Encounter', 'id', x.id::text,
  'meta', {_meta(part2="e.part2_protected", version=True)},
  'status', 'finished',
  'class', json_build_object('system', %s::text, 'code', 'AMB', 'display', 'ambulatory'),
  'type', json_build_array(json_build_object(
      'coding', json_build_array(json_build_object('system', %s::text, 'code', s.kind,
          'display', COALESCE(%s::jsonb ->> s.kind, s.kind))),
      'text', s.title)),
  'subject', {_ref("Patient", "x.patient_id")},
  'episodeOfCare', json_build_array({_ref("EpisodeOfCare", "x.episode_id")}),
  'participant', json_build_array(json_build_object(
      'individual', {_ref("Practitioner", "s.facilitator_id")})),
  'period', json_build_object('start', {instant("s.starts_at")}, 'end', {instant("s.ends_at")}),
  'length', json_build_object('value', x.minutes_attended, 'unit', 'min',
      'system', 'http://unitsofmeasure.org', 'code', 'min'),
  'location', json_build_array(json_build_object('location', {_ref("Location", "s.site_id")})),
  'serviceProvider', {_ref("Organization", "p.organization_id")},
  'appointment', CASE WHEN s.episode_id IS NOT NULL
      THEN json_build_array({_ref("Appointment", "s.id")}) END))"""


def _session_kinds() -> dict[str, str]:
    from openiop.programs.choices import SessionKind

    return {str(k.value): str(k.label) for k in SessionKind}


def _encounter_params() -> list[Any]:
    return [
        *_part2_meta_params(),
        ACT_CODE_SYSTEM,
        f"{mapping.OPENIOP}/CodeSystem/session-kind",
        _json(_session_kinds()),
    ]


ENCOUNTER = SqlBuilder(
    type="Encounter",
    from_sql=(
        "attendance_attendance x "
        "JOIN episodes_episode e ON e.id = x.episode_id "
        "JOIN patients_patient p ON p.id = x.patient_id"
    ),
    line_from_sql="JOIN programs_groupsession s ON s.id = x.session_id",
    line=_ENCOUNTER_LINE,
    line_params=_encounter_params,
    part2="e.part2_protected",
    part2_patient="x.patient_id",
    part2_org="p.organization_id",
    audit_patient="x.patient_id",
)


# --- Observation ----------------------------------------------------------------------------------

_OBSERVATION_PART2 = "(x.part2 OR e.part2_protected)"
_OBSERVATION_LINE = f"""json_strip_nulls(json_build_object(
  'resourceType', 'Observation', 'id', x.id::text,
  'meta', {_meta(part2=_OBSERVATION_PART2, version=False)},
  'status', 'final',
  'category', %s::json,
  'code', json_build_object('coding', d.def -> 'coding', 'text', d.def -> 'text'),
  'subject', {_ref("Patient", "x.patient_id")},
  'effectiveDateTime', {instant("x.administered_at")},
  'issued', {instant("x.created_at")},
  'valueInteger', x.total,
  'interpretation', CASE WHEN x.band <> '' THEN json_build_array(json_build_object(
      'text', replace(x.band, '_', ' '))) END,
  'note', CASE WHEN jsonb_array_length(x.flags) > 0 THEN json_build_array(json_build_object(
      'text', (SELECT string_agg(COALESCE(%s::jsonb ->> f.value, replace(f.value, '_', ' ')),
                                 '; ' ORDER BY f.n)
               FROM jsonb_array_elements_text(x.flags) WITH ORDINALITY f(value, n)))) END,
  'derivedFrom', json_build_array({_ref("QuestionnaireResponse", "x.id")}),
  'component', (SELECT json_agg(json_build_object(
          'code', i.item, 'valueInteger', (a.answer #>> '{{}}')::int) ORDER BY a.n)
      FROM jsonb_array_elements(x.answers) WITH ORDINALITY a(answer, n)
      JOIN jsonb_array_elements(d.def -> 'items') WITH ORDINALITY i(item, n) ON i.n = a.n)))"""


def instrument_definitions() -> dict[str, Any]:
    """Each instrument's Observation code and its items' component codes, as mapping.observation
    writes them, keyed by the instrument's key (the SQL joins them on Response.instrument)."""
    from openiop.measures.domain import REGISTRY

    out: dict[str, Any] = {}
    for key, definition in REGISTRY.items():
        items = []
        for item in definition.items:
            coding = [{"system": mapping.ITEM_SYSTEM, "code": f"{key}-{item.number}"}]
            if item.loinc:
                coding.insert(0, {"system": mapping.LOINC, "code": item.loinc})
            items.append({"coding": coding, "text": item.text[:200]})
        out[key] = {
            "coding": mapping.instrument_codes(definition, key),
            "text": definition.label,
            "items": items,
        }
    return out


def _observation_from_params() -> list[Any]:
    return [_json(instrument_definitions())]


def _observation_params() -> list[Any]:
    from openiop.measures.domain.base import FLAG_LABELS

    category = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                }
            ]
        }
    ]
    return [*_part2_meta_params(), _json(category), _json(dict(FLAG_LABELS))]


OBSERVATION = SqlBuilder(
    type="Observation",
    from_sql=(
        "measures_response x "
        "JOIN episodes_episode e ON e.id = x.episode_id "
        "JOIN patients_patient ep ON ep.id = e.patient_id"
    ),
    line_from_sql="LEFT JOIN jsonb_each(%s::jsonb) d(key, def) ON d.key = x.instrument",
    line_from_params=_observation_from_params,
    line=_OBSERVATION_LINE,
    line_params=_observation_params,
    part2=_OBSERVATION_PART2,
    part2_patient="e.patient_id",
    part2_org="ep.organization_id",
    audit_patient="x.patient_id",
)


# --- the registry ---------------------------------------------------------------------------------

BUILDERS: dict[str, SqlBuilder] = {b.type: b for b in (PATIENT, ENCOUNTER, OBSERVATION)}


def builder_for(resource_type: str) -> SqlBuilder | None:
    """The SQL builder of a type, or None: the export maps that type in Python."""
    return BUILDERS.get(resource_type)

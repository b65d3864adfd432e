"""SMART on FHIR scopes: what a token may read or write, by resource type.

Scopes follow SMART App Launch 1.0 (`system/Observation.read`, `user/*.write`, `patient/*.read`)
and accept the 2.0 suffixes (`.rs` read and search, `.cud` create, update, delete). Pure functions
of the scope strings, plus the django-oauth-toolkit scopes backend (SmartScopes) that limits the
scopes a client may ask for to those registered for it (FhirClient.scopes).

The REST API at /api/v1 (openiop.api: tracks, sessions, rosters, attendance, authorizations, which
FHIR has no place for) takes the same tokens with scopes of its own, in the same shape:
`api/<Object>.read`, `api/<Object>.write`, `api/<Object>.*`, `*` for every object
(`api/*.read`). A SMART scope never grants the REST API, nor an api/ scope FHIR: a client is
registered for what it needs of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The resource types the server has, in the CapabilityStatement's order.
RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "Practitioner",
    "Organization",
    "Location",
    "EpisodeOfCare",
    "Encounter",
    "Appointment",
    "CarePlan",
    "Goal",
    "Condition",
    "Observation",
    "QuestionnaireResponse",
    "MedicationStatement",
    "MedicationAdministration",
    "AllergyIntolerance",
    "DiagnosticReport",
    "Coverage",
    "Claim",
    "Consent",
)
# The resource types a client can write (each through its one service).
WRITABLE: frozenset[str] = frozenset({"Patient", "QuestionnaireResponse", "Appointment"})
CONTEXTS: tuple[str, ...] = ("patient", "user", "system")

# The objects of the REST API (openiop.api) and those a client can write.
API_OBJECTS: tuple[str, ...] = ("Track", "Session", "Attendance", "Authorization")
API_WRITABLE: frozenset[str] = frozenset({"Attendance"})

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")
_API_SCOPE = re.compile(r"^api/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")


@dataclass(frozen=True)
class Grant:
    """One parsed scope: its context, its resource type ('*' for all) and what it allows."""

    context: str
    resource_type: str
    read: bool
    write: bool

    def covers(self, resource_type: str) -> bool:
        return self.resource_type in ("*", resource_type)


def parse_scope(scope: str) -> Grant | None:
    """The grant a SMART scope string gives, or None for any other scope (openid, launch...)."""
    m = _SCOPE.match(scope)
    if m is None or not m.group(3):
        return None
    context, resource_type, access = m.groups()
    if resource_type != "*" and resource_type not in RESOURCE_TYPES:
        return None
    if access in ("read", "write", "*"):
        read, write = access in ("read", "*"), access in ("write", "*")
    else:  # SMART 2.0: c r u d s
        read = "r" in access or "s" in access
        write = any(letter in access for letter in "cud")
    return Grant(context=context, resource_type=resource_type, read=read, write=write)


def parse_scopes(scope_text: str) -> list[Grant]:
    """Every SMART grant of a space-separated scope string (other scopes ignored)."""
    return [g for s in scope_text.split() if (g := parse_scope(s)) is not None]


@dataclass(frozen=True)
class ScopeDecision:
    allowed: bool
    reason: str = ""


def scope_allows(
    grants: list[Grant], resource_type: str, *, write: bool, patient_context: bool = False
) -> ScopeDecision:
    """Whether the grants allow reading (or, with `write`, writing) `resource_type`.

    `user/` and `system/` scopes act with the token's staff user's access. A `patient/` scope
    counts only in a patient context (a SMART launch naming the patient); backend clients have
    none, so a token holding only patient/ scopes is refused with a reason saying so.
    """
    verb = "write" if write else "read"
    matching = [g for g in grants if g.covers(resource_type) and (g.write if write else g.read)]
    if any(g.context in ("user", "system") for g in matching):
        return ScopeDecision(True)
    if patient_context and matching:
        return ScopeDecision(True)
    if matching:
        return ScopeDecision(
            False,
            f"The token's patient/ scopes need a patient context (a SMART launch), which this "
            f"client does not have: register it with system/{resource_type}.{verb}.",
        )
    return ScopeDecision(False, f"The token's scopes do not allow {verb} of {resource_type}.")


def parse_api_scopes(scope_text: str) -> list[Grant]:
    """Every REST API grant (`api/Attendance.write`, `api/*.read`) of a space-separated scope
    string, with context "api" (SMART and other scopes ignored)."""
    grants = []
    for scope in scope_text.split():
        m = _API_SCOPE.match(scope)
        if m is None or (m.group(1) != "*" and m.group(1) not in API_OBJECTS):
            continue
        access = m.group(2)
        grants.append(
            Grant(
                context="api",
                resource_type=m.group(1),
                read=access in ("read", "*"),
                write=access in ("write", "*"),
            )
        )
    return grants


def api_scope_allows(grants: list[Grant], api_object: str, *, write: bool) -> ScopeDecision:
    """Whether the REST API grants allow reading (or, with `write`, writing) `api_object`."""
    verb = "write" if write else "read"
    if any(g.covers(api_object) and (g.write if write else g.read) for g in grants):
        return ScopeDecision(True)
    return ScopeDecision(
        False,
        f"The token's scopes do not allow {verb} of {api_object}: register the client with "
        f"api/{api_object}.{verb} (or api/*.{verb}).",
    )


def implied_api_scopes(grants: list[Grant]) -> set[str]:
    """Every REST API scope string the api/ grants imply (api/*.read implies api/Track.read)."""
    out: set[str] = set()
    for g in grants:
        objects = (*API_OBJECTS, "*") if g.resource_type == "*" else (g.resource_type,)
        for obj in objects:
            if g.read:
                out.add(f"api/{obj}.read")
            if g.write and (obj == "*" or obj in API_WRITABLE):
                out.add(f"api/{obj}.write")
            if g.read and g.write:
                out.add(f"api/{obj}.*")
    return out


def implied_scopes(grants: list[Grant]) -> set[str]:
    """Every SMART 1.0 scope string the grants imply (a client registered for system/*.read may
    ask for system/Observation.read)."""
    out: set[str] = set()
    for g in grants:
        types = RESOURCE_TYPES if g.resource_type == "*" else (g.resource_type,)
        for rt in (*types, "*") if g.resource_type == "*" else types:
            if g.read:
                out.add(f"{g.context}/{rt}.read")
            if g.write and (rt == "*" or rt in WRITABLE):
                out.add(f"{g.context}/{rt}.write")
            if g.read and g.write:
                out.add(f"{g.context}/{rt}.*")
    return out


def all_scopes() -> dict[str, str]:
    """Every SMART 1.0 scope string this server knows, with a description."""
    out: dict[str, str] = {}
    for context in CONTEXTS:
        for rt in ("*", *RESOURCE_TYPES):
            what = "every resource type" if rt == "*" else rt
            out[f"{context}/{rt}.read"] = f"Read {what} ({context} access)"
            if rt == "*" or rt in WRITABLE:
                out[f"{context}/{rt}.write"] = f"Write {what} ({context} access)"
                out[f"{context}/{rt}.*"] = f"Read and write {what} ({context} access)"
    for obj in ("*", *API_OBJECTS):
        what = "every REST API object" if obj == "*" else f"{obj} (REST API)"
        out[f"api/{obj}.read"] = f"Read {what}"
        if obj == "*" or obj in API_WRITABLE:
            out[f"api/{obj}.write"] = f"Write {what}"
            out[f"api/{obj}.*"] = f"Read and write {what}"
    return out


def validate_registration(scope_text: str) -> list[str]:
    """The scopes of `scope_text` that are neither SMART scopes this server knows nor REST API
    scopes (empty: all good)."""
    known = all_scopes()
    return [s for s in scope_text.split() if s not in known]


class SmartScopes:
    """django-oauth-toolkit's scopes backend (settings.OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]):
    a client may ask for the scopes registered for it, and any narrower one they imply; asking
    for none gives it all of them."""

    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def _registered(self, application: Any) -> str:
        if application is None:
            return ""
        from openiop.fhir.models import FhirClient

        client = FhirClient.objects.filter(application_id=application.pk).first()
        return client.scopes if client is not None else ""

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        registered = self._registered(application)
        return sorted(
            implied_scopes(parse_scopes(registered))
            | implied_api_scopes(parse_api_scopes(registered))
        )

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return []
        from openiop.fhir.models import FhirClient

        client = FhirClient.objects.filter(application_id=application.pk).first()
        return client.scopes.split() if client is not None else []

"""The probes bench/read_floor.py measures beside a FHIR read: what the read does with the
database and nothing else. They live under /fhir/R4/ so that the same middleware passes them by
as passes a read (openiop.core.token_api), and run the read's own code for each step:

- `$floor-token`: the read's one statement for the bearer token and the record
  (fhir.auth.token_statement with selectors.row_read), the values fetched and not looked at;
- `$floor-audit`: the read's audit write (audit.services.audit_record of a VIEW of the patient,
  committed before the answer, as every read of patient data is);
- `$floor-token-audit`: both, in that order: a read without its decisions, mapping and JSON;
- `$floor-select`: `SELECT 1`, the cheapest round trip to the database there is;
- `$floor-insert`: the audit entry's INSERT alone (the statement audit_record runs, its values
  passed as they are, no model instance), committed: the cheapest durable write of an audit
  entry there is.

Each answers a few bytes of JSON. Only bench/read_floor_settings.py routes here."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from psycopg.types.json import Jsonb

from openiop.audit.models import AuditAction
from openiop.audit.services import _insert_sql, audit_record
from openiop.config.urls import urlpatterns as app_urlpatterns
from openiop.core.actor import Actor
from openiop.fhir.auth import token_statement
from openiop.fhir.selectors import row_read


def _token(request: HttpRequest, pk: int) -> None:
    bearer = str(request.META.get("HTTP_AUTHORIZATION", "")).removeprefix("Bearer ")
    sql, params = token_statement(bearer, row_read("Patient", str(pk)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.fetchone() is None:
            raise RuntimeError("the bench token is unknown")


def _audit(request: HttpRequest, pk: int) -> None:
    actor = Actor(
        user=None, channel="fhir", client_addr="127.0.0.1", path=request.path, client_id="bench"
    )
    audit_record(
        actor, action=AuditAction.VIEW, patient_id=pk, object_type="fhir_Patient", object_id=pk
    )


def _answer(pk: int) -> HttpResponse:
    return HttpResponse(f'{{"id":"{pk}"}}', content_type="application/json")


def token(request: HttpRequest, pk: int) -> HttpResponse:
    _token(request, pk)
    return _answer(pk)


def audit(request: HttpRequest, pk: int) -> HttpResponse:
    _audit(request, pk)
    return _answer(pk)


def token_audit(request: HttpRequest, pk: int) -> HttpResponse:
    _token(request, pk)
    _audit(request, pk)
    return _answer(pk)


def select(request: HttpRequest, pk: int) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return _answer(pk)


def insert(request: HttpRequest, pk: int) -> HttpResponse:
    fields, statement, _ = _insert_sql()
    values = {
        "at": timezone.now(),
        "patient_id": pk,
        "action": AuditAction.VIEW,
        "object_type": "fhir_Patient",
        "object_id": str(pk),
        "channel": "fhir",
        "path": request.path,
        "client_addr": "127.0.0.1",
        "outcome": "ok",
        "detail": Jsonb({"client_id": "bench"}),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [values.get(f.attname, "") if f.attname != "user_id" else None for f in fields],
        )
        cursor.fetchone()
    return _answer(pk)


urlpatterns = [
    path("fhir/R4/$floor-select/<int:pk>", select),
    path("fhir/R4/$floor-insert/<int:pk>", insert),
    path("fhir/R4/$floor-token/<int:pk>", token),
    path("fhir/R4/$floor-audit/<int:pk>", audit),
    path("fhir/R4/$floor-token-audit/<int:pk>", token_audit),
    *app_urlpatterns,
]

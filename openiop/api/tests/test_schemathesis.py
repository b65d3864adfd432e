"""Property-based conformance of the REST API to its own OpenAPI document (schemathesis).

The schema is loaded from the running application (/api/openapi.json through Django's WSGI
handler, in the test's transaction); every operation is called with cases schemathesis generates
from it, valid ones and invalid ones, with a real bearer token, and each answer must be no server
error and match the schema (status, content type, body). Deterministic (derandomize) and small.
The last test proves the harness fails on an endpoint that answers off-schema or with a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openiop.api.tests.conftest import ALL, Clinic, token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


@pytest.fixture
def wsgi_app(settings: Any) -> Iterator[WSGIHandler]:
    """Django's WSGI application, answering inside the test's transaction: a real server closes
    the connection after each request, which here would end the test's transaction."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def known_ids(clinic: Clinic) -> dict[str, dict[str, Any]]:
    """Per operation, ids of records that exist, so that cases reach past the 404s too."""
    return {
        "GET /api/v1/tracks/{id}": {"path_parameters": {"id": clinic.track.pk}},
        "GET /api/v1/sessions/{id}/roster": {"path_parameters": {"id": clinic.session.pk}},
        "GET /api/v1/attendance": {"query": {"session": clinic.session.pk}},
        "GET /api/v1/authorizations": {"query": {"patient": clinic.mh_patient.pk}},
        "GET /api/v1/sessions": {"query": {"track": clinic.track.pk}},
        # Bodies naming sessions (past, of two sites; an individual session) and roster members.
        "POST /api/v1/attendance": {
            "body_ids": {
                "session": [
                    clinic.session.pk,
                    clinic.later_session.pk,
                    clinic.other_session.pk,
                    clinic.appointment.pk,
                ],
                "episode": [clinic.sud_episode.pk, clinic.mh_episode.pk],
            }
        },
    }


def run_operations(app: WSGIHandler, token: str, overrides: dict[str, dict[str, Any]]) -> list[str]:
    """Call every operation with generated cases and check each answer; returns the operations
    run. Raises the first failing check's error (schemathesis' FailureGroup)."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    ran = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        variants: list[tuple[GenerationMode, dict[str, Any]]] = [
            (GenerationMode.POSITIVE, {}),
            (GenerationMode.NEGATIVE, {}),
        ]
        if label in overrides:
            variants.append((GenerationMode.POSITIVE, overrides[label]))
        for mode, fixed in variants:
            if mode is GenerationMode.NEGATIVE and not _negatable(operation):
                continue

            kwargs = {k: v for k, v in fixed.items() if k != "body_ids"}
            strategy = operation.as_strategy(generation_mode=mode, **kwargs)
            if "body_ids" in fixed:
                strategy = st.builds(
                    _with_body_ids,
                    strategy,
                    st.fixed_dictionaries(
                        {k: st.sampled_from(v) for k, v in fixed["body_ids"].items()}
                    ),
                )

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()
        ran.append(label)
    return ran


def _with_body_ids(case: Any, ids: dict[str, int]) -> Any:
    case.body = {**case.body, **ids}
    return case


def _negatable(operation: Any) -> bool:
    """Whether anything of the operation can be sent invalid (the tracks' detail takes only a
    path id, which schemathesis does not negate: an invalid one is a different URL)."""
    return bool(operation.query) or (operation.body is not None and bool(list(operation.body)))


@pytest.mark.django_db
def test_every_operation_answers_as_its_openapi_document_says(
    clinic: Clinic, wsgi_app: WSGIHandler
) -> None:
    token = token_for(clinic.director, ALL)
    ran = run_operations(wsgi_app, token, known_ids(clinic))
    assert sorted(ran) == [
        "GET /api/v1/attendance",
        "GET /api/v1/authorizations",
        "GET /api/v1/sessions",
        "GET /api/v1/sessions/{id}/roster",
        "GET /api/v1/tracks",
        "GET /api/v1/tracks/{id}",
        "POST /api/v1/attendance",
    ]


@pytest.mark.django_db
def test_a_clinician_token_answers_as_documented_too(clinic: Clinic, wsgi_app: WSGIHandler) -> None:
    """403s (no revenue cycle for a clinician) and another site's records are documented too."""
    token = token_for(clinic.other_clinician, ALL)
    run_operations(wsgi_app, token, known_ids(clinic))


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["off_schema", "server_error"])
def test_the_conformance_run_fails_on_an_endpoint_off_its_schema_or_erring(
    clinic: Clinic, wsgi_app: WSGIHandler, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    from openiop.api import views

    real = views._track

    def broken(track: Any, enrolled_today: int | None) -> dict[str, Any]:
        if fault == "server_error":
            raise RuntimeError("a bug in the track representation")
        return {**real(track, enrolled_today), "capacity": "twelve"}

    monkeypatch.setattr(views, "_track", broken)
    token = token_for(clinic.director, ALL)
    with pytest.raises(FailureGroup) as failure:
        run_operations(wsgi_app, token, known_ids(clinic))
    expected = "Server error" if fault == "server_error" else "Response violates schema"
    assert expected in str(failure.value)

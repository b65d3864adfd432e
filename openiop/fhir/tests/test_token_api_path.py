"""The token APIs (/fhir/R4/, /api/) pass by the browser's middleware (core.token_api): a session
cookie neither authenticates them nor is set by them, CSRF does not apply (a bearer token is not
sent by a browser on its own), and their responses still carry the security headers, with a
policy for JSON in place of the pages' Content-Security-Policy. Every other path is unchanged."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import checks
from django.test import Client, RequestFactory
from django.utils.module_loading import import_string

from openiop.core.token_api import API_CONTENT_SECURITY_POLICY, is_token_api, web_only
from openiop.fhir.tests.conftest import World, fhir_get, token_for

pytestmark = pytest.mark.django_db


def _logged_in(client: Client, world: World) -> Client:
    client.force_login(world.clinician)  # no second factor to pass for a clinician
    return client


def test_a_fhir_read_carries_the_security_headers_and_no_session(
    client: Client, world: World
) -> None:
    token = token_for(world.director)
    _logged_in(client, world)
    r = fhir_get(client, f"Patient/{world.mh_patient.pk}", token)
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in r.headers and "Cookie" not in r.headers.get("Vary", "")


def test_a_session_cookie_does_not_authenticate_the_token_apis(
    client: Client, world: World
) -> None:
    _logged_in(client, world)
    assert client.get("/").status_code == 200  # the session is good for the pages
    fhir = client.get(f"/fhir/R4/Patient/{world.mh_patient.pk}")
    assert fhir.status_code == 401
    assert fhir.headers["Content-Type"].startswith("application/fhir+json")
    rest = client.get("/api/v1/tracks")
    assert rest.status_code == 401
    assert rest.headers["Content-Type"].startswith("application/problem+json")


def test_a_write_with_a_cookie_and_no_csrf_token_is_refused_for_want_of_a_token_not_csrf(
    world: World,
) -> None:
    client = Client(enforce_csrf_checks=True)
    _logged_in(client, world)
    r = client.post("/fhir/R4/Patient", "{}", content_type="application/fhir+json")
    assert r.status_code == 401  # no bearer token: nothing was written, whatever the cookie
    page = client.post("/patients/new/", {})
    assert page.status_code == 403  # the pages still refuse a form without its CSRF token


def test_an_unknown_path_under_fhir_answers_without_a_server_error(
    client: Client, world: World
) -> None:
    r = client.get("/fhir/R4/Patient/1/_history/2/extra")
    assert r.status_code == 404


def test_the_pages_keep_every_middleware(client: Client, world: World) -> None:
    r = client.get("/healthz")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    login = client.get("/accounts/login/")
    assert "csrftoken" in login.cookies  # CSRF and the session still run for pages
    assert not is_token_api(login.wsgi_request)
    assert not is_token_api(client.get("/o/token/").wsgi_request)  # OAuth keeps its lockout


def test_djangos_checks_still_find_session_authentication_and_messages() -> None:
    """The wrappers are subclasses, so admin's checks (E408-E410) and the others pass."""
    errors = [e for e in checks.run_checks() if e.level >= checks.ERROR]
    assert errors == []
    from django.contrib.sessions.middleware import SessionMiddleware

    wrapped = import_string("openiop.config.middleware.SessionMiddleware")
    assert issubclass(wrapped, SessionMiddleware)
    assert "openiop.config.middleware.SessionMiddleware" in settings.MIDDLEWARE


def test_web_only_skips_the_hooks_for_token_api_requests(rf: RequestFactory) -> None:
    seen: list[str] = []

    class Recorder:
        def __init__(self, get_response: object) -> None:
            self.get_response = get_response

        def __call__(self, request: object) -> object:
            seen.append("call")
            return self.get_response(request)  # type: ignore[operator]

        def process_view(self, request: object, *args: object) -> None:
            seen.append("view")

    from django.http import HttpResponse

    wrapped = web_only(Recorder, api_headers={"X-Api": "1"})(lambda r: HttpResponse("ok"))
    api = rf.get("/fhir/R4/metadata")
    page = rf.get("/patients/")
    assert wrapped(api).headers["X-Api"] == "1"
    wrapped.process_view(api, None, (), {})
    assert seen == []
    assert "X-Api" not in wrapped(page).headers
    wrapped.process_view(page, None, (), {})
    assert seen == ["call", "view"]

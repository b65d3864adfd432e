"""The liveness check answers without a login and without touching the database."""

from __future__ import annotations

from django.test import Client


def test_healthz_answers_ok_without_login_or_database() -> None:
    # No django_db mark: any database access in the request would raise here.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "sessionid" not in response.cookies


def test_healthz_refuses_a_post() -> None:
    assert Client().post("/healthz").status_code == 405

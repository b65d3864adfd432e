"""Idle staff sessions end after the configured minutes; activity renews them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.testing import make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import Settings

pytestmark = pytest.mark.django_db


def _later(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    moment = timezone.now() + dt.timedelta(minutes=minutes)
    monkeypatch.setattr("django.contrib.sessions.backends.db.timezone.now", lambda: moment)
    monkeypatch.setattr("django.contrib.sessions.backends.base.timezone.now", lambda: moment)


def test_a_session_idle_longer_than_the_timeout_is_logged_out(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    assert client.get(reverse("patients:list")).status_code == 200
    _later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES + 1)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


def test_activity_within_the_timeout_keeps_the_session(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    _later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES - 1)
    assert client.get(reverse("patients:list")).status_code == 200


def _session_writes(ctx: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('UPDATE "accounts_staffsession')
    ]


def _at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)


def test_activity_renews_the_session_beyond_the_first_timeout(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    start = timezone.now()
    client.force_login(user)
    _at(monkeypatch, start + dt.timedelta(minutes=10))
    assert client.get(reverse("patients:list")).status_code == 200  # renews: 10 minutes old
    _at(monkeypatch, start + dt.timedelta(minutes=10 + settings.IDLE_TIMEOUT_MINUTES - 1))
    assert client.get(reverse("patients:list")).status_code == 200


def test_a_request_soon_after_a_renewal_does_not_write_the_session(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    start = timezone.now()
    _at(monkeypatch, start)
    client.get(reverse("patients:list"))  # the first request renews
    _at(monkeypatch, start + dt.timedelta(seconds=30))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("patients:list")).status_code == 200
    assert not _session_writes(ctx)
    _at(monkeypatch, start + dt.timedelta(seconds=settings.SESSION_RENEW_SECONDS))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("patients:list")).status_code == 200
    assert _session_writes(ctx)


def test_an_idle_session_never_outlives_the_timeout_after_its_last_request(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    start = timezone.now()
    _at(monkeypatch, start)
    client.get(reverse("patients:list"))  # renews
    last = start + dt.timedelta(seconds=settings.SESSION_RENEW_SECONDS - 1)
    _at(monkeypatch, last)
    assert client.get(reverse("patients:list")).status_code == 200  # too soon to renew
    _at(monkeypatch, last + dt.timedelta(minutes=settings.IDLE_TIMEOUT_MINUTES))
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )

"""Idle staff sessions end after the configured minutes; activity renews them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.domain import Role
from openiop.testing import make_org, make_site, make_user

pytestmark = pytest.mark.django_db


def _later(monkeypatch, minutes: int) -> None:
    moment = timezone.now() + dt.timedelta(minutes=minutes)
    monkeypatch.setattr("django.contrib.sessions.backends.db.timezone.now", lambda: moment)
    monkeypatch.setattr("django.contrib.sessions.backends.base.timezone.now", lambda: moment)


def test_a_session_idle_longer_than_the_timeout_is_logged_out(client, monkeypatch, settings):
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    assert client.get(reverse("patients:list")).status_code == 200
    _later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES + 1)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_activity_within_the_timeout_keeps_the_session(client, monkeypatch, settings):
    org = make_org()
    user = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    client.force_login(user)
    _later(monkeypatch, settings.IDLE_TIMEOUT_MINUTES - 1)
    assert client.get(reverse("patients:list")).status_code == 200

"""Staff login: password, account lockout (django-axes), idle timeout, TOTP required for directors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.programs.models import Organization, Site
from openiop.testing import PASSWORD, make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
    from pytest_django import Settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic() -> tuple[Organization, Site]:
    org = make_org()
    return org, make_site(org, name="Maple Street (fictional)")


def _login(client: Client, username: str, password: str = PASSWORD) -> Response:
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_clinician_logs_in_with_username_and_password_and_login_is_audited(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    response = _login(client, user.username)
    assert response.status_code == 302
    assert response["Location"] == "/"
    entry = AuditEntry.objects.get(action="login")
    assert entry.username == user.username and entry.role == "clinician"


def test_an_auditor_lands_on_the_audit_log_not_on_a_refused_today_page(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    user = make_user(Role.AUDITOR, sites=[site], org=org)
    response = _login(client, user.username)
    assert response["Location"] == reverse("audit:log")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f'class="brand" href="{reverse("audit:log")}"' in page.content.decode()


def test_wrong_password_shows_error_keeps_username_and_is_audited(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    response = _login(client, user.username, "not-the-password")
    assert response.status_code == 200
    body = response.content.decode()
    assert "do not match" in body
    assert f'value="{user.username}"' in body
    assert AuditEntry.objects.filter(action="login_failed", outcome="denied").count() == 1


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(
    client: Client, clinic: tuple[Organization, Site], settings: Settings
) -> None:
    org, site = clinic
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, user.username, "wrong-password")
    response = _login(client, user.username)
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_idle_timeout_is_fifteen_minutes_by_default_and_renews_on_activity() -> None:
    assert settings.IDLE_TIMEOUT_MINUTES == 15
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    # Renewed by StaffSessionMiddleware at most once a minute, not written on every request.
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_RENEW_SECONDS == 60


def test_director_must_set_up_two_factor_before_any_page(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    _login(client, director.username)
    response = client.get(reverse("audit:log"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))


def test_director_with_confirmed_device_is_asked_for_a_code_and_a_good_code_opens_the_page(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    _login(client, director.username)
    response = client.get(reverse("audit:log"))
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    bad = client.post(
        reverse("accounts:mfa_verify"),
        {"token": "000000" if totp(device.bin_key) != 0 else "111111"},
    )
    assert "did not match" in bad.content.decode()
    good = client.post(
        reverse("accounts:mfa_verify"), {"token": f"{totp(device.bin_key):06d}", "next": "/audit/"}
    )
    assert good.status_code == 302 and good["Location"] == "/audit/"
    assert client.get(reverse("audit:log")).status_code == 200


def test_two_factor_setup_confirms_a_new_authenticator(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    director = make_user(Role.DIRECTOR, sites=[site], org=org)
    _login(client, director.username)
    page = client.get(reverse("accounts:mfa_setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    response = client.post(reverse("accounts:mfa_setup"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 200  # the recovery codes, shown this once
    assert 'data-testid="recovery-codes"' in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("audit:log")).status_code == 200


def test_clinician_may_use_two_factor_but_is_not_forced(
    client: Client, clinic: tuple[Organization, Site]
) -> None:
    org, site = clinic
    clinician = make_user(Role.CLINICIAN, sites=[site], org=org)
    _login(client, clinician.username)
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200
    assert (
        client.get(reverse("audit:log")).status_code == 403
    )  # not their role, but no 2FA redirect


def test_logout_ends_the_session(client: Client, clinic: tuple[Organization, Site]) -> None:
    org, site = clinic
    user = make_user(Role.CLINICIAN, sites=[site], org=org)
    _login(client, user.username)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("audit:log")).status_code == 302

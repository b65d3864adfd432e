"""Two-factor by hand: enrolment, the code at login, replacing an authenticator, recovery codes.

A password alone never passes two-factor, never shows a new key once an authenticator is
confirmed, and never removes it (issue 13.2). The key shown for typing by hand is base32 and a
correct code right after a wrong one is accepted (issue 14.10). Codes are computed from the keys
the way an authenticator app does.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts import mfa
from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.audit.models import AuditEntry
from openiop.testing import PASSWORD, make_org, make_site, make_user

pytestmark = pytest.mark.django_db

KEY = re.compile(r'data-testid="totp-key">([^<]+)<')
CODES = re.compile(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>")


@pytest.fixture
def director() -> User:
    org = make_org()
    return make_user(Role.DIRECTOR, sites=[make_site(org)], org=org)


def _login(client: Client, user: User) -> Client:
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def _next_window(device: TOTPDevice) -> None:
    """As if the authenticator moved on to its next code (a used code is never accepted twice)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()


def _wrong(device: TOTPDevice) -> str:
    return "000000" if _code(device) != "000000" else "111111"


def _enrol(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    """Log in and enrol through the pages. Returns the confirmed device and the recovery codes."""
    _login(client, user)
    page = client.get(reverse("accounts:mfa_setup"))
    assert page.status_code == 200
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:mfa_setup"), {"token": _code(pending)})
    assert response.status_code == 200
    codes = CODES.findall(response.content.decode())
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    pending.refresh_from_db()
    assert pending.confirmed
    return pending, codes


def _verified(client: Client) -> bool:
    return client.get(reverse("audit:log")).status_code == 200


def test_a_password_alone_sees_no_new_key_and_cannot_replace_or_pass_with_another_device(
    director: User,
) -> None:
    real = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client = _login(Client(), director)

    for path in (
        f"{reverse('accounts:mfa_setup')}?reset=1",
        reverse("accounts:mfa_setup"),
        reverse("accounts:mfa_replace"),
    ):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert not TOTPDevice.objects.filter(user=director, confirmed=False).exists()

    # Even a device whose key the attacker somehow holds opens nothing.
    rogue = TOTPDevice.objects.create(user=director, name="rogue", confirmed=False)
    assert client.post(reverse("accounts:mfa_setup"), {"token": _code(rogue)}).status_code == 302
    replace = client.post(
        reverse("accounts:mfa_replace"), {"token": _code(rogue), "current": "000000"}
    )
    assert replace.status_code == 302
    verify = client.post(reverse("accounts:mfa_verify"), {"token": _code(rogue)})
    assert "did not match" in verify.content.decode()

    assert not _verified(client)
    real.refresh_from_db()
    assert real.confirmed
    rogue.refresh_from_db()
    assert not rogue.confirmed
    assert AuditEntry.objects.filter(
        action="login_failed", object_type="mfa", detail__reason="wrong_code"
    ).exists()


def test_replacing_with_a_code_from_the_current_authenticator_keeps_the_session_verified(
    client: Client, director: User
) -> None:
    old, old_codes = _enrol(client, director)
    page = client.get(reverse("accounts:mfa_replace"))
    key = KEY.search(page.content.decode())
    assert key is not None
    new = TOTPDevice.objects.get(user=director, confirmed=False)
    assert key.group(1) == mfa.manual_key(new)
    _next_window(old)

    wrong_current = client.post(
        reverse("accounts:mfa_replace"), {"token": _code(new), "current": _wrong(old)}
    )
    assert "not a code from your current authenticator" in wrong_current.content.decode()
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()

    _next_window(new)
    done = client.post(
        reverse("accounts:mfa_replace"), {"token": _code(new), "current": _code(old)}
    )
    assert done.status_code == 200
    fresh_codes = CODES.findall(done.content.decode())
    assert len(fresh_codes) == mfa.RECOVERY_CODE_COUNT and set(fresh_codes).isdisjoint(old_codes)
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    new.refresh_from_db()
    assert new.confirmed
    assert _verified(client)
    entry = AuditEntry.objects.get(action="update", object_type="mfa_device")
    assert entry.detail["replaced"] == old.pk and entry.detail["proved_with"] == "authenticator"


def test_replacing_with_a_recovery_code_uses_it_and_a_mistyped_new_code_does_not(
    client: Client, director: User
) -> None:
    old, codes = _enrol(client, director)
    client.get(reverse("accounts:mfa_replace"))
    new = TOTPDevice.objects.get(user=director, confirmed=False)

    mistyped = client.post(
        reverse("accounts:mfa_replace"), {"token": _wrong(new), "current": codes[0]}
    )
    assert "new authenticator did not match" in mistyped.content.decode()
    assert StaticToken.objects.filter(token=codes[0].replace("-", "")).exists()

    done = client.post(reverse("accounts:mfa_replace"), {"token": _code(new), "current": codes[0]})
    assert done.status_code == 200
    assert not StaticToken.objects.filter(token=codes[0].replace("-", "")).exists()
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert _verified(client)
    entry = AuditEntry.objects.get(action="update", object_type="mfa_device")
    assert entry.detail["proved_with"] == "recovery_code"


def test_a_recovery_code_passes_two_factor_once(client: Client, director: User) -> None:
    _enrol(client, director)
    codes = CODES.findall(client.post(reverse("accounts:mfa_recovery_codes")).content.decode())

    phone_lost = _login(Client(), director)
    first = phone_lost.post(reverse("accounts:mfa_verify"), {"token": codes[0], "next": "/audit/"})
    assert first.status_code == 302 and first["Location"] == "/audit/"
    assert _verified(phone_lost)
    entry = AuditEntry.objects.filter(action="login", object_type="mfa").latest("id")
    assert entry.detail == {"with": "recovery_code", "recovery_codes_left": 9}

    again = _login(Client(), director)
    reused = again.post(reverse("accounts:mfa_verify"), {"token": codes[0]})
    assert reused.status_code == 200 and "did not match" in reused.content.decode()
    assert not _verified(again)
    typed_loosely = codes[1].replace("-", " ").upper()
    assert again.post(reverse("accounts:mfa_verify"), {"token": typed_loosely}).status_code == 302
    assert _verified(again)


def test_new_recovery_codes_replace_the_old_set_and_need_a_verified_session(
    client: Client, director: User
) -> None:
    _, old_codes = _enrol(client, director)
    response = client.post(reverse("accounts:mfa_recovery_codes"))
    new_codes = CODES.findall(response.content.decode())
    assert len(new_codes) == mfa.RECOVERY_CODE_COUNT
    assert AuditEntry.objects.filter(action="create", object_type="mfa_recovery_codes").exists()

    other = _login(Client(), director)
    refused = other.post(reverse("accounts:mfa_recovery_codes"))
    assert refused.status_code == 302 and refused["Location"].startswith(
        reverse("accounts:mfa_verify")
    )
    assert "did not match" in (
        other.post(reverse("accounts:mfa_verify"), {"token": old_codes[0]}).content.decode()
    )
    assert other.post(reverse("accounts:mfa_verify"), {"token": new_codes[0]}).status_code == 302


def test_the_key_for_typing_by_hand_is_base32_and_a_code_from_it_enrols(
    client: Client, director: User
) -> None:
    _login(client, director)
    page = client.get(reverse("accounts:mfa_setup")).content.decode()
    match = KEY.search(page)
    assert match is not None
    shown = match.group(1)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*", shown)
    typed = shown.replace(" ", "")
    secret = base64.b32decode(typed + "=" * (-len(typed) % 8))  # what an app decodes
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    assert f"secret={typed}" in device.config_url  # the same secret as the QR code
    response = client.post(reverse("accounts:mfa_setup"), {"token": f"{totp(secret):06d}"})
    assert response.status_code == 200 and CODES.search(response.content.decode())
    device.refresh_from_db()
    assert device.confirmed and _verified(client)
    assert AuditEntry.objects.filter(action="create", object_type="mfa_device").count() == 1


def test_a_correct_code_right_after_a_wrong_one_is_accepted(client: Client, director: User) -> None:
    _login(client, director)
    client.get(reverse("accounts:mfa_setup"))
    pending = TOTPDevice.objects.get(user=director, confirmed=False)
    wrong = client.post(reverse("accounts:mfa_setup"), {"token": _wrong(pending)})
    assert "did not match" in wrong.content.decode()
    assert client.post(reverse("accounts:mfa_setup"), {"token": _code(pending)}).status_code == 200
    pending.refresh_from_db()
    assert pending.confirmed

    later = _login(Client(), director)
    _next_window(pending)
    bad = later.post(reverse("accounts:mfa_verify"), {"token": _wrong(pending)})
    assert "did not match" in bad.content.decode()
    good = later.post(reverse("accounts:mfa_verify"), {"token": _code(pending), "next": "/audit/"})
    assert good.status_code == 302 and good["Location"] == "/audit/"
    assert _verified(later)


def test_many_wrong_codes_in_a_row_still_make_the_next_try_wait(
    client: Client, director: User
) -> None:
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    _login(client, director)
    for _ in range(mfa.FREE_WRONG_CODES):
        client.post(reverse("accounts:mfa_verify"), {"token": _wrong(device)})
    waiting = client.post(reverse("accounts:mfa_verify"), {"token": _code(device)})
    assert "Too many wrong codes in a row. Wait" in waiting.content.decode()
    assert not _verified(client)
    assert AuditEntry.objects.filter(action="login_failed", detail__reason="throttled").exists()
    assert (
        AuditEntry.objects.filter(action="login_failed", detail__reason="wrong_code").count()
        == mfa.FREE_WRONG_CODES
    )

    # After the wait the right code passes.
    device.refresh_from_db()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp - dt.timedelta(minutes=5)
    )
    assert client.post(reverse("accounts:mfa_verify"), {"token": _code(device)}).status_code == 302
    assert _verified(client)


def test_a_key_being_set_up_in_one_session_is_never_confirmed_from_another(director: User) -> None:
    first = _login(Client(), director)
    first.get(reverse("accounts:mfa_setup"))
    shown_to_first = TOTPDevice.objects.get(user=director, confirmed=False)

    second = _login(Client(), director)
    key_of_second = KEY.search(second.get(reverse("accounts:mfa_setup")).content.decode())
    assert key_of_second is not None and key_of_second.group(1) != mfa.manual_key(shown_to_first)
    assert not TOTPDevice.objects.filter(pk=shown_to_first.pk).exists()

    late = first.post(reverse("accounts:mfa_setup"), {"token": _code(shown_to_first)})
    assert "expired" in late.content.decode()
    assert not TOTPDevice.objects.filter(user=director, confirmed=True).exists()
    assert not _verified(first)

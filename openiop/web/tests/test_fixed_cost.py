"""What every staff page pays before its own work: pinned so that it does not creep back.

The session with its user and their site ids (one plain SELECT), and for a director or
administrator who passed two-factor, django-otp's check that the verifying device still exists
(one SELECT: removing a device must end its sessions' verification at once). A page that shows
patient data adds one INSERT for its audit entry. Templates are compiled once per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.domain import Role
from openiop.testing import PASSWORD, make_org, make_site, make_user

if TYPE_CHECKING:
    from django.test import Client


def test_jinja2_templates_are_compiled_once_and_never_rechecked_on_disk() -> None:
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    assert settings.DEBUG is False and env.auto_reload is False
    assert env.cache is not None
    assert env.get_template("ui/base.html") is env.get_template("ui/base.html")


# On PostgreSQL the audit log reads the rows it has not shown before with its count (AuditLog.rows).
READ_WITH_COUNT = 1 if connection.vendor == "postgresql" else 0


def _queries(client: Client, path: str) -> list[str]:
    client.get(path)  # warm: the first request may renew the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
def test_a_staff_page_pays_one_query_for_session_and_user_then_its_own_and_one_audit_insert(
    client: Client,
) -> None:
    org = make_org()
    auditor = make_user(Role.AUDITOR, org=org, sites=[make_site(org)])
    client.force_login(auditor)
    sql = _queries(client, reverse("audit:log"))
    assert "accounts_staffsession" in sql[0] and "accounts_user" in sql[0]
    assert not any("accounts_staffsession" in q or "accounts_user " in q for q in sql[1:])
    assert sum(q.startswith('INSERT INTO "audit_auditentry"') for q in sql) == 1
    assert not any("otp_" in q for q in sql)  # no two-factor device look-up for a non-MFA role
    # session with user, the log's count with the page's entry ids, the one entry not shown
    # before (the previous request's own: on PostgreSQL read with the count), the audit entry
    assert len(sql) == 4 - READ_WITH_COUNT


@pytest.mark.django_db
def test_a_director_who_passed_two_factor_pays_one_device_check_more(client: Client) -> None:
    org = make_org()
    director = make_user(Role.DIRECTOR, org=org, sites=[make_site(org)])
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client.post(reverse("accounts:login"), {"username": director.username, "password": PASSWORD})
    client.post(reverse("accounts:mfa_verify"), {"token": f"{totp(device.bin_key):06d}"})
    sql = _queries(client, reverse("audit:log"))
    assert "accounts_staffsession" in sql[0] and "accounts_user" in sql[0]
    assert sum("otp_totp_totpdevice" in q for q in sql) == 1
    assert len(sql) == 5 - READ_WITH_COUNT


def test_url_reads_the_urlconf_once_per_request_and_follows_the_script_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.test import RequestFactory
    from django.urls import get_script_prefix, get_urlconf, reverse, set_script_prefix

    from openiop.ui import jinja2env

    reads: list[object] = []
    real = get_urlconf

    def counting_get_urlconf() -> object:
        reads.append(1)
        return real()

    monkeypatch.setattr(jinja2env, "get_urlconf", counting_get_urlconf)
    template = engines["jinja2"].from_string(
        "{{ url('audit:log') }} {{ url('web:today') }} {{ url('audit:log') }}"
    )
    first = RequestFactory().get("/")
    assert template.render({}, request=first).split() == [reverse("audit:log"), "/", "/audit/"]
    assert len(reads) == 1
    before = get_script_prefix()
    try:
        set_script_prefix("/clinic/")  # a new request under another mount point
        assert template.render({}, request=RequestFactory().get("/")).split()[0] == (
            "/clinic/audit/"
        )
    finally:
        set_script_prefix(before)
    assert len(reads) == 2
    # Without a request (a PDF rendered by a command) it reverses as before.
    assert template.render({}).split()[1] == "/"

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiop.accounts.domain import Role
from openiop.accounts.models import User
from openiop.accounts.services import staff_create
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotPermitted, RuleViolation
from openiop.testing import make_org, make_site, make_user

pytestmark = pytest.mark.django_db


def test_cli_creates_an_account_with_role_and_site_and_audits_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = make_site(make_org(), name="Riverbend (fictional)")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-unusual-passphrase-9\n"))
    out = io.StringIO()
    call_command("staff_add", "wren.quill", "--role", "clinician", "--site", site.name, stdout=out)
    user = User.objects.get(username="wren.quill")
    assert user.role == "clinician" and list(user.sites.all()) == [site]
    assert user.check_password("a-long-unusual-passphrase-9")
    assert AuditEntry.objects.filter(object_type="staff", channel="cli", action="create").exists()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["x", "--role", "wizard"], "a-long-unusual-passphrase-9\n", "not a role"),
        (["x", "--role", "clinician"], "short\n", "too short"),
        (
            ["x", "--role", "clinician", "--site", "Nowhere"],
            "a-long-unusual-passphrase-9\n",
            "No site",
        ),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str, message: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(CommandError, match=message) as exc:
        call_command("staff_add", *args)
    assert exc.value.returncode == 2
    assert not User.objects.filter(username="x").exists()


def test_a_clinician_cannot_create_staff() -> None:
    org = make_org()
    clinician = make_user(Role.CLINICIAN, sites=[make_site(org)], org=org)
    with pytest.raises(NotPermitted):
        staff_create(
            username="y",
            role="director",
            password="a-long-unusual-passphrase-9",
            by=Actor(user=clinician),
        )


def test_taken_usernames_are_refused() -> None:
    staff_create(
        username="wren",
        role="billing",
        password="a-long-unusual-passphrase-9",
        by=Actor.cli(None, "t"),
    )
    with pytest.raises(RuleViolation, match="taken"):
        staff_create(
            username="WREN",
            role="billing",
            password="a-long-unusual-passphrase-9",
            by=Actor.cli(None, "t"),
        )

"""Every page that names a patient's record goes through the access kernel (accounts.access).

For each such URL, staff of another site in every role limited to its own sites, and staff of
another organization in every role that sees all its organization's sites, visit it: each is
refused by the kernel (its role check or its site check, nothing hand-written), at least one role
gets past the role check and is refused by the kernel's site check, and that refusal is audited
(test_denied_names_patient checks that the entries name the patient).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiop.accounts.access import kernel_checks
from openiop.accounts.domain import ROLE_CAPS, Cap, Role
from openiop.audit.models import AuditEntry
from openiop.programs.models import Site
from openiop.testing import make_org, make_site, make_user
from openiop.web.tests.test_denied_names_patient import RECORD_URLS

SITE_LIMITED_ROLES = [r for r in Role if Cap.ALL_SITES not in ROLE_CAPS[r]]
# Roles that see every site of their organization (billing, the director): another
# organization's staff in these roles are refused by the same site check. The revenue cycle's
# pages (claims) are open to these roles only.
ALL_SITES_ROLES = [r for r in Role if Cap.ALL_SITES in ROLE_CAPS[r]]
SITE_REFUSALS = {"site not permitted", "patient at another site"}


@pytest.mark.parametrize(("name", "kwargs"), RECORD_URLS, ids=[n for n, _ in RECORD_URLS])
def test_another_sites_staff_are_refused_by_the_kernel(
    name: str, kwargs: list[str], world: Any, client: Any, mfa_passed: Any
) -> None:
    url = reverse(name, kwargs={k: world.ids[k] for k in kwargs})
    other_site = Site.objects.get(name="Far Away (fictional)")
    elsewhere = make_site(make_org(), name="Another Organization (fictional)")
    refused_by_site = []
    visitors = [(role, other_site) for role in SITE_LIMITED_ROLES]
    visitors += [(role, elsewhere) for role in ALL_SITES_ROLES]
    for role, site in visitors:
        user = make_user(role, sites=[site], org=site.organization)
        client.force_login(user)
        before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with kernel_checks() as checks:
            response = client.get(url)
            if response.status_code == 405:  # an action that only accepts POST
                response = client.post(url, {})
        assert response.status_code == 403, f"{name} answered {response.status_code} to {role}"
        assert any(c.endswith(":denied") for c in checks), (
            f"{name}: {role} refused without the kernel ({checks})"
        )
        denied = AuditEntry.objects.filter(id__gt=before, outcome="denied", user_id=user.pk)
        assert denied.exists(), f"{name}: {role} refused without a denied entry"
        if denied.filter(detail__reason__in=SITE_REFUSALS).exists():
            assert any(c in {"require_site:denied", "require_patient:denied"} for c in checks)
            refused_by_site.append(role)
    assert refused_by_site, f"{name}: no role reached the kernel's site check"

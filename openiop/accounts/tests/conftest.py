from __future__ import annotations

from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.testing import make_org, make_site, make_user


@pytest.fixture
def staff(db: Any) -> dict[str, Any]:
    """Two sites, two administrators, a director, a billing clerk and a clinician (fictional)."""
    org = make_org()
    site = make_site(org, name="Maple Street (fictional)")
    other = make_site(org, name="Birch Lane (fictional)")
    return {
        "org": org,
        "site": site,
        "other": other,
        "admin": make_user(Role.ADMIN, sites=[site], org=org),
        "admin2": make_user(Role.ADMIN, sites=[site], org=org),
        "director": make_user(Role.DIRECTOR, sites=[site], org=org),
        "billing": make_user(Role.BILLING, sites=[site], org=org),
        "clinician": make_user(Role.CLINICIAN, sites=[site], org=org),
    }

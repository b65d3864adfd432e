from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.episodes.models import Episode
from openiop.testing import make_episode, make_org, make_patient, make_site, make_user


@dataclass
class Clinic:
    org: Any
    site: Any
    other_site: Any
    users: dict[Role, Any]

    def actor(self, role: Role) -> Actor:
        return Actor(user=self.users[role], client_addr="127.0.0.1", path="/test")

    def patient(self, first: str = "Pimpernel", last: str = "Fictionalson", **kw: Any) -> Episode:
        patient = make_patient(self.site, legal_first_name=first, legal_last_name=last)
        return make_episode(patient, **kw)


@pytest.fixture
def clinic(db: Any) -> Clinic:
    org = make_org()
    site = make_site(org, name="Riverbend (fictional)", timezone="America/Chicago")
    other = make_site(org, name="Far Away (fictional)")
    users = {role: make_user(role, sites=[site], org=org) for role in Role}
    return Clinic(org=org, site=site, other_site=other, users=users)

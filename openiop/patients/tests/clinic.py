"""A small fictional clinic for the patient and episode tests (names obviously invented)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openiop.accounts.domain import Role
from openiop.core.actor import Actor
from openiop.testing import make_org, make_site, make_user


@dataclass
class Clinic:
    org: Any
    site: Any
    other_site: Any
    intake: Any
    clinician: Any
    case_manager: Any
    billing: Any
    director: Any
    other_site_intake: Any

    def actor(self, user: Any) -> Actor:
        return Actor(user=user, channel="web", client_addr="127.0.0.1", path="/test")


def build_clinic() -> Clinic:
    org = make_org(name="Pinecone Gulch Wellness (fictional)", mrn_prefix="PG")
    site = make_site(org, name="Pinecone Main (fictional)")
    other = make_site(org, name="Pinecone Annex (fictional)")
    return Clinic(
        org=org,
        site=site,
        other_site=other,
        intake=make_user(Role.INTAKE, sites=[site], org=org),
        clinician=make_user(Role.CLINICIAN, sites=[site], org=org),
        case_manager=make_user(Role.CASE_MANAGER, sites=[site], org=org),
        billing=make_user(Role.BILLING, sites=[site], org=org),
        director=make_user(Role.DIRECTOR, sites=[site], org=org),
        other_site_intake=make_user(Role.INTAKE, sites=[other], org=org),
    )

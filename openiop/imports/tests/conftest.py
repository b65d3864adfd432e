from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from openiop.accounts.models import User
from openiop.billing.models import Payer
from openiop.programs.models import Organization, Site, Track
from openiop.testing import make_org, make_site, make_track, make_user


@dataclass
class Clinic:
    org: Organization
    site: Site
    other_site: Site
    intake: User
    track: Track
    payer: Payer


@pytest.fixture
def clinic(db: Any) -> Clinic:
    org = make_org()
    site = make_site(org, name="Maple Street (fictional)")
    other = make_site(org, name="Far Away (fictional)")
    return Clinic(
        org=org,
        site=site,
        other_site=other,
        intake=make_user("intake", sites=[site], org=org, username="ivy.intake"),
        track=make_track(site, name="Adult Evening IOP", capacity=12),
        payer=Payer.objects.create(
            organization=org, name="Fictional Mutual", payer_type="commercial"
        ),
    )


HEADER = (
    "external_id,first_name,last_name,date_of_birth,sex,phone,email,payer,member_id,"
    "coverage_rank,focus,admission_date,level_of_care,track\n"
)


def csv_of(*rows: str) -> str:
    return HEADER + "".join(r + "\n" for r in rows)


GOOD_1 = "FE-1,Quillon,Fakename,1991-04-05,male,555-0142,,Fictional Mutual,ZZ100,primary,mental_health,2026-01-05,2.1,Adult Evening IOP"
GOOD_2 = "FE-2,Brisa,Nottareal,1988-11-30,female,,brisa@example.test,,,,,,,"
BAD = "FE-3,Cosmo,Imaginary,1979-02-30,male,555-0199,,,,,,,,"
GOOD_3 = "FE-4,Dorinda,Madeup,2001-07-14,female,555-0177,,,,,substance_use,2026-02-02,2.1,"

"""A fictional clinic's patient accounts for the patient's-bill tests (test_accounts_*): a
site, a site of another organization, the roles that may and may not work on an account, a
self-pay payer and a patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openiop.accounts.domain import Role
from openiop.billing.choices import ClaimForm, PayerType
from openiop.billing.models import Charge, Payer
from openiop.core.actor import Actor
from openiop.patients.models import Patient
from openiop.programs.models import Organization, Site, Track
from openiop.testing import make_episode, make_org, make_patient, make_site, make_track, make_user


@dataclass
class Books:
    org: Organization
    site: Site
    other_site: Site  # same organization (billing sees every site of its organization)
    foreign_site: Site  # another organization
    track: Track
    self_pay: Payer
    insurer: Payer
    patient: Patient
    users: dict[str, Any]

    def actor(self, who: str) -> Actor:
        return Actor(user=self.users[who], client_addr="198.51.100.7", path="/test")

    def charge(
        self,
        day: dt.date,
        amount: str,
        *,
        payer: Payer | None = None,
        patient: Patient | None = None,
    ) -> Charge:
        """A posted H0015 charge of `amount` on `day` (self-pay unless `payer` says otherwise)."""
        who = patient or self.patient
        episode = who.episodes.first() or make_episode(who, admission_date=dt.date(2026, 9, 1))
        return Charge.objects.create(
            patient=who,
            site=who.site,
            episode=episode,
            track=self.track,
            payer=payer or self.self_pay,
            service_date=day,
            code="H0015",
            units=1,
            rate=Decimal(amount),
            amount=Decimal(amount),
            claim_form=ClaimForm.PROFESSIONAL,
            posted_by=self.users["billing"],
        )


def make_books() -> Books:
    org = make_org(name="Pinecone Hollow Recovery (fictional)", mrn_prefix="PH")
    site = make_site(org, name="Pinecone North")
    other_site = make_site(org, name="Pinecone South")
    foreign_org = make_org(name="Elsewhere Wellness (fictional)", mrn_prefix="EW")
    foreign_site = make_site(foreign_org, name="Elsewhere One")
    users = {
        "billing": make_user(Role.BILLING, org=org, sites=[site]),
        "director": make_user(Role.DIRECTOR, org=org, sites=[site, other_site]),
        "intake": make_user(Role.INTAKE, org=org, sites=[site]),
        "clinician": make_user(Role.CLINICIAN, org=org, sites=[site]),
        "foreign_billing": make_user(Role.BILLING, org=foreign_org, sites=[foreign_site]),
    }
    self_pay = Payer.objects.create(
        organization=org, name="Self-pay", payer_type=PayerType.SELF_PAY
    )
    insurer = Payer.objects.create(
        organization=org, name="Acme Health (fictional)", payer_type=PayerType.COMMERCIAL
    )
    patient = make_patient(site, legal_first_name="Testy", legal_last_name="McTestface")
    return Books(
        org=org,
        site=site,
        other_site=other_site,
        foreign_site=foreign_site,
        track=make_track(site),
        self_pay=self_pay,
        insurer=insurer,
        patient=patient,
        users=users,
    )

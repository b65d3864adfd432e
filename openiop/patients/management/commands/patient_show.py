"""`openiop patient_show MRN --as USERNAME`: print a patient's demographics and episodes.

Reads through the same selector as the chart, so the --as user's role and sites apply and the read
is audited (channel "cli"). Unknown MRN or user, or a refusal: a message and exit code 2.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from openiop.accounts.models import User
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.patients.selectors import Chart, patient_chart_by_mrn


class Command(ProjectCommand):
    help = "Show a patient's demographics and episodes, as a staff user would see them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("mrn", help="Medical record number, e.g. LH000042")
        parser.add_argument(
            "--as", dest="username", required=True, help="Staff username whose access applies"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mrn: str = options["mrn"]
        username: str = options["username"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff user named '{username}'.", returncode=2)
        actor = Actor.cli(user, f"patient_show {mrn} --as {username}")
        try:
            chart = patient_chart_by_mrn(actor=actor, mrn=mrn)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self._print(chart)

    def _print(self, chart: Chart) -> None:
        p = chart.patient
        out = self.stdout.write
        out(
            f"{p.display_name}  MRN {p.mrn}"
            + ("  [42 CFR Part 2]" if chart.has_part2_records else "")
        )
        if chart.has_part2_records:
            out(
                "  Substance use disorder records protected by 42 CFR Part 2: "
                "no disclosure without the patient's written consent."
            )
        out(f"  Legal name:     {p.legal_name}")
        if p.preferred_name:
            out(f"  Preferred name: {p.preferred_name}")
        out(f"  Date of birth:  {p.date_of_birth:%Y-%m-%d}")
        out(f"  Sex:            {p.get_sex_display()}")
        if p.gender_identity or p.pronouns:
            out(
                f"  Gender:         {p.gender_identity or '—'} ({p.pronouns or 'pronouns not given'})"
            )
        out(f"  Phone / email:  {p.phone or '—'} / {p.email or '—'}")
        if p.address_line:
            out(f"  Address:        {p.address_line}, {p.city} {p.state} {p.postal_code}")
        out(f"  Language:       {p.language}")
        out(f"  Site:           {p.site.name}")
        out("Contacts:")
        for c in chart.contacts:
            roles = [
                r
                for r, flag in (
                    ("legal guardian", c.is_legal_guardian),
                    ("emergency contact", c.is_emergency_contact),
                )
                if flag
            ]
            extra = f" [{', '.join(roles)}]" if roles else ""
            out(f"  {c.name} ({c.get_relationship_display()}) {c.phone}{extra}")
        if not chart.contacts:
            out("  none")
        if chart.episodes is None:
            return
        out("Episodes:")
        for e in chart.episodes:
            part2 = " [42 CFR Part 2]" if e.part2_protected else ""
            out(
                f"  Episode {e.pk}: {e.get_status_display()}{part2}, {e.get_focus_display()}, "
                f"admitted {e.admission_date:%Y-%m-%d}, {e.get_level_of_care_display()}"
            )
            if e.discharge_date:
                out(
                    f"    Discharged {e.discharge_date:%Y-%m-%d}: {e.get_discharge_reason_display()}"
                )
            for change in e.level_changes.all():
                label = change.direction.replace("_", "-")
                out(
                    f"    {change.effective_date:%Y-%m-%d} {label}: "
                    f"{change.get_to_level_display()} ({change.reason})"
                )
        if not chart.episodes:
            out("  none")

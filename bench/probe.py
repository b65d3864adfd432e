"""Pick the benchmark's targets in a synthetic network and count each page's SQL queries.

Run with DATABASE_URL pointing at a database filled by `openiop synth`. Prints one JSON object:
{"today": ..., "pages": [{"name", "path", "user", "queries", "bytes"}]}. Every page is fetched once
with Django's test client as its user and must answer 200 with its marker text (or every text of
a list: the group note names each of its ~15 attendees); anything else
exits 1 with the reason, so the load run never measures an error page.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
import sys
from typing import Any
from urllib.parse import quote

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from openiop.accounts.models import User  # noqa: E402
from openiop.admissions.domain.pipeline import OPEN_STAGES  # noqa: E402
from openiop.admissions.models import Inquiry  # noqa: E402
from openiop.attendance.models import Attendance  # noqa: E402
from openiop.core.clock import local_today  # noqa: E402
from openiop.episodes.models import Episode  # noqa: E402
from openiop.measures.models import Response  # noqa: E402
from openiop.notes.models import NoteSection, ProgressNote  # noqa: E402
from openiop.programs.models import GroupSession, Organization, Site  # noqa: E402


def targets() -> tuple[Any, list[dict[str, Any]]]:
    org = Organization.objects.filter(name__startswith="Synthetic Network").order_by("id").first()
    if org is None:
        sys.exit("no synthetic network in this database: run openiop synth first")
    site = Site.objects.filter(organization=org).order_by("id").first()
    assert site is not None
    today = local_today(site.tz)
    clinician = User.objects.get(username=f"o{org.pk}s1-clinician1")
    auditor = User.objects.get(username=f"o{org.pk}-auditor")
    intake = User.objects.get(username=f"o{org.pk}s1-intake1")
    billing = User.objects.get(username=f"o{org.pk}-billing")
    episode = (
        Episode.objects.filter(site=site, status="active")
        .select_related("patient")
        .order_by("id")
        .first()
    )
    assert episode is not None
    # A roster of 15: the past session at the site whose attendance count is closest to 15.
    session_id = (
        Attendance.objects.filter(session__site=site, session__date__lt=today)
        .values("session_id")
        .annotate(n=Count("id"))
        .filter(n=15)
        .order_by("-session_id")
        .values_list("session_id", flat=True)
        .first()
    ) or GroupSession.objects.filter(site=site, date__lt=today).order_by("-date").first().pk  # type: ignore[union-attr]
    # The audit search looks up a patient whom the other pages do not touch (discharged weeks ago,
    # not readmitted): the chart page writes an audit entry for its patient on every request, so
    # searching that patient's log would measure what earlier benchmark runs wrote.
    searched = (
        Episode.objects.filter(
            site=site, status="discharged", discharge_date__lt=today - dt.timedelta(days=28)
        )
        .exclude(patient__episodes__status__in=["active", "waitlisted", "on_hold"])
        .select_related("patient")
        .order_by("-discharge_date", "id")
        .first()
    ) or episode  # a network too small to have one (the tests' tiny build) searches the chart's
    # The program view's first row (active episodes sorted by name) and the board's first card.
    first_in_program = (
        Episode.objects.filter(site=site, status="active")
        .select_related("patient")
        .order_by("patient__search_name")
        .first()
    )
    assert first_in_program is not None
    first_card = (
        Inquiry.objects.filter(site=site, stage__in=OPEN_STAGES)
        .order_by("next_action_date", "received_at")
        .first()
    )
    if first_card is None:
        sys.exit("no open inquiry at the first site: rebuild with the current openiop synth")
    # The group note editor: a past session with about 15 attendees whose note is being written
    # (a draft: the editor shows every member's section; a signed note only links to itself).
    group = (
        ProgressNote.objects.filter(
            kind="group", status="draft", site=site, session__date__lt=today
        )
        .annotate(n=Count("sections"))
        .filter(n__gte=10)
        .order_by("-n", "-session_id")
        .first()
    )
    if group is None:
        sys.exit("no draft group note with ~15 members: rebuild with the current openiop synth")
    attendees = [
        s.patient.display_name
        for s in NoteSection.objects.filter(note=group).select_related("patient")
    ]
    author = User.objects.get(pk=group.author_id)
    pages: list[dict[str, Any]] = [
        {"name": "floor", "path": "/healthz", "user": None, "marker": "ok"},
        {"name": "today", "path": "/", "user": clinician.username, "marker": "Today"},
        {
            "name": "patient_chart",
            "path": f"/patients/{episode.patient_id}/",
            "user": clinician.username,
            "marker": episode.patient.legal_last_name,
        },
        {
            "name": "session_roster",
            "path": f"/attendance/sessions/{session_id}/",
            "user": clinician.username,
            "marker": "Roster",
        },
        {
            "name": "below_hours",
            "path": "/attendance/below-hours/",
            "user": clinician.username,
            "marker": "Below",
        },
        {
            "name": "measurement_program",
            "path": f"/measures/program/?site={site.pk}",
            "user": clinician.username,
            "marker": first_in_program.patient.legal_last_name,
        },
        {
            "name": "admissions_board",
            "path": "/admissions/",
            "user": intake.username,
            "marker": first_card.last_name,
        },
        {
            "name": "group_note",
            "path": f"/notes/group/{group.session_id}/",
            "user": author.username,
            "marker": attendees,
        },
        {
            # The worklist's unbilled tab: every day of the month the posting did not bill, why.
            "name": "billing_worklist",
            "path": f"/billing/?site={site.pk}&tab=unbilled",
            "user": billing.username,
            "marker": "Billing worklist",
        },
        # Care around the groups (issue 18, point 6): the chart of a patient on MAT with tests
        # (its header shows both), the prescriber's results to review, the case manager's own
        # tasks and the patient's medication list.
        *care_pages(org, site),
        # The FHIR API (issue 17, point 7), as a registered backend client acting for the
        # network's director (every site): a read, and searches by patient and by code.
        *fhir_pages(org, episode.patient_id),
        {
            "name": "audit_search",
            "path": f"/audit/?patient={searched.patient.mrn}",
            "user": auditor.username,
            "marker": searched.patient.mrn,
        },
    ]
    return today, pages


def care_pages(org: Organization, site: Site) -> list[dict[str, Any]]:
    """The pages of issue 18 people use every day, for the first site's staff: the chart and the
    medication list of the first patient in care there on buprenorphine with a resulted test (the
    header shows "MAT:" and "Last drug test:"), the prescriber's open results to review, and the
    first case manager's My tasks."""
    from openiop.drugtests.models import ReconciliationFlag
    from openiop.medications.domain import mat_short_label
    from openiop.medications.models import MatEpisode

    mat = (
        MatEpisode.objects.filter(
            episode__site=site,
            episode__status="active",
            ended_on__isnull=True,
            kind="buprenorphine",
            patient__drug_tests__status="resulted",
        )
        .select_related("patient", "medication")
        .order_by("patient_id", "id")
        .first()
    )
    if mat is None or mat.medication is None:
        sys.exit("no patient on MAT with a drug test: add synth's care step (synth --add care)")
    flag = (
        ReconciliationFlag.objects.filter(order__patient__site=site, status="open")
        .select_related("order__patient")
        .order_by("created_at", "id")
        .first()
    )
    if flag is None:
        sys.exit("no open drug test flag at the first site: add synth's care step")
    clinician = f"o{org.pk}s1-clinician1"
    prescriber = f"o{org.pk}s1-prescriber1"
    return [
        {
            "name": "patient_chart_mat",
            "path": f"/patients/{mat.patient_id}/",
            "user": clinician,
            "marker": [f"MAT: {mat_short_label(mat.kind)}", "Last drug test:"],
        },
        {
            "name": "drug_tests_to_review",
            "path": "/drugtests/flags/",
            "user": prescriber,
            "marker": [flag.order.patient.mrn, "Drug test results to review"],
        },
        {
            "name": "my_tasks",
            "path": "/casemgmt/tasks/",
            "user": f"o{org.pk}s1-case_manager1",
            "marker": ["My tasks", 'data-testid="task-row"'],
        },
        {
            "name": "medications",
            "path": f"/medications/patients/{mat.patient_id}/",
            "user": prescriber,
            "marker": [mat.medication.name, mat.patient.legal_last_name],
        },
    ]


FHIR_CLIENT_NAME = "benchmark backend client"


def fhir_token(org: Organization) -> str:
    """A bearer token for the benchmark's FHIR client, issued by the real token endpoint
    (client credentials). The client is registered through fhir.services, acting for the
    network's director (system/*.read, for treatment, inside the organization). Each run
    registers its own client (earlier runs' clients and tokens stay, as any registered client's
    would: removing them is not the benchmark's business)."""
    from openiop.core.actor import Actor
    from openiop.fhir.services import fhir_client_create

    director = User.objects.get(username=f"o{org.pk}-director")
    new = fhir_client_create(
        user=director,
        scopes="system/*.read",
        name=FHIR_CLIENT_NAME,
        by=Actor.cli(director, "bench probe"),
    )
    basic = base64.b64encode(f"{new.client_id}:{new.client_secret}".encode()).decode()
    issued = Client().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    if issued.status_code != 200:
        sys.exit(f"the token endpoint answered {issued.status_code}: {issued.content[:200]!r}")
    return str(issued.json()["access_token"])


def fhir_pages(org: Organization, patient_id: int) -> list[dict[str, Any]]:
    """A FHIR read of a patient, and Observation searches by that patient and by the LOINC code
    of the network's most answered instrument (a search across every site's patients)."""
    from openiop.fhir import mapping
    from openiop.measures.domain import REGISTRY

    token = fhir_token(org)
    instrument = (
        Response.objects.filter(episode__site__organization=org)
        .values("instrument")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("instrument", flat=True)
        .first()
    )
    if instrument is None:
        sys.exit("no instrument responses in the network: rebuild with the current openiop synth")
    code = mapping.instrument_codes(REGISTRY[instrument], instrument)[0]
    return [
        {
            "name": "fhir_read",
            "path": f"/fhir/R4/Patient/{patient_id}",
            "user": None,
            "bearer": token,
            "budget": "fhir_read",
            "marker": f'"id":"{patient_id}"',
        },
        {
            "name": "fhir_search_patient",
            "path": f"/fhir/R4/Observation?patient={patient_id}",
            "user": None,
            "bearer": token,
            "budget": "fhir_search",
            "marker": '"resourceType":"Bundle"',
        },
        {
            "name": "fhir_search_code",
            "path": "/fhir/R4/Observation?code="
            + quote(f"{code['system']}|{code['code']}", safe=""),
            "user": None,
            "bearer": token,
            "budget": "fhir_search",
            "marker": '"resourceType":"Bundle"',
        },
    ]


def _count(client: Client, path: str, warm: int) -> tuple[Any, int]:
    for _ in range(warm):  # warm caches (content types, sessions; the page cache when it is on)
        client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, len(ctx.captured_queries)


def main() -> None:
    from django.test import override_settings

    from openiop.pagecache.cache import HEADER

    today, pages = targets()
    users = {u.username: u for u in User.objects.filter(username__in={p["user"] for p in pages})}
    for page in pages:
        bearer = {"Authorization": f"Bearer {page['bearer']}"} if page.get("bearer") else {}
        client = Client(headers=bearer)
        if page["user"]:
            client.force_login(users[page["user"]])
        # Rendered afresh (the page cache off): the queries a page costs when its data changed.
        with override_settings(OPENIOP_PAGE_CACHE=False):
            response, page["queries_rendered"] = _count(client, page["path"], warm=1)
        body = html.unescape(response.content.decode())
        markers = page["marker"] if isinstance(page["marker"], list) else [page["marker"]]
        missing = [m for m in markers if m not in body]
        if response.status_code != 200 or missing:
            sys.exit(
                f"{page['name']} {page['path']} answered {response.status_code} "
                f"without {missing}: the benchmark would measure an error page"
            )
        # As served under load (the page cache on, as in production): the first request sets the
        # CSRF cookie, the second renders and stores, the third is the one counted.
        with override_settings(OPENIOP_PAGE_CACHE=True):
            response, page["queries"] = _count(client, page["path"], warm=2)
        page["cache"] = response.get(HEADER) or "none"
        page["bytes"] = len(response.content)
    print(json.dumps({"today": str(today), "pages": pages}))


if __name__ == "__main__":
    main()

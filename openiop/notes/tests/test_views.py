"""Note pages through Django's client: the one-screen group note, a member's chart view (no other
member's name, on screen, in print, in export), roles allowed and denied, pinned query counts."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from openiop.accounts.domain import Role
from openiop.audit.models import AuditEntry
from openiop.core.clock import local_today
from openiop.notes import services
from openiop.notes.models import NoteSection, NoteStatus, ProgressNote
from openiop.notes.services import SectionInput
from openiop.notes.tests.conftest import INDIVIDUAL_TEXTS
from openiop.notes.tests.test_services import _plan_with_objective, body
from openiop.testing import audit_links_query, make_user, page_query_count

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django import DjangoAssertNumQueries, Settings

    from openiop.episodes.models import Episode
    from openiop.notes.tests.conftest import Clinic
    from openiop.programs.models import GroupSession


def post_data(
    session: GroupSession,
    members: list[Episode],
    *,
    action: str = "save",
    texts: list[dict[str, str]] | None = None,
    version: str | int = "0",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": action,
        "version": version,
        "note_format": "dap",
        "starts": "09:00",
        "ends": "12:00",
        "topic": "Coping with cravings",
        "curriculum_module": "Week 3",
        "modality": "CBT",
        "interventions": "Urge surfing practice and a feedback round.",
    }
    for i, e in enumerate(members):
        b = body(i) if texts is None else texts[i]
        for k, v in b.items():
            data[f"s-{e.pk}-{k}"] = v
    return data


def test_group_note_screen_lists_attendees_and_not_absent_members(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(3)
    absent = clinic.patient("Vesper", "Absentia")
    clinic.attend(session, absent, status="absent_unexcused")
    client.force_login(clinic.clinician)
    response = client.get(reverse("notes:group", kwargs={"session_id": session.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    for e in members:
        assert e.patient.display_name in html
    assert "Absentia" not in html
    assert "1 absent: no section" in html
    entry = AuditEntry.objects.filter(object_type="group_note").latest("id")
    assert set(entry.patients.values_list("patient_id", flat=True)) == {
        e.patient_id for e in members
    }


def test_htmx_save_returns_the_form_partial_and_sign_redirects(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(3)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    response = client.post(url, post_data(session, members), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="group-note">')
    assert "Checked: every section is individual." in html
    note = ProgressNote.objects.get(session=session)
    response = client.post(
        url,
        post_data(session, members, action="sign", version=str(note.version)),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("notes:detail", kwargs={"note_id": note.pk})
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED


def test_copied_section_is_highlighted_and_signing_asks_for_a_reason(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(3)
    texts = [body(0), body(1), body(0)]
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    response = client.post(
        url, post_data(session, members, action="sign", texts=texts), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "individualize it, or give a reason" in html.lower()
    assert "<mark>" in html
    assert f'name="s-{members[2].pk}-reason"' in html
    assert f'name="s-{members[1].pk}-reason"' not in html
    draft = ProgressNote.objects.get(session=session)
    assert draft.status == NoteStatus.DRAFT
    data = post_data(session, members, action="sign", texts=texts, version=draft.version)
    data[f"s-{members[0].pk}-reason"] = "Same exercise; reviewed."
    data[f"s-{members[2].pk}-reason"] = "Same exercise; reviewed."
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    section = NoteSection.objects.get(episode=members[2])
    assert section.similarity_flagged and section.similarity_reason == "Same exercise; reviewed."


def _signed_group(clinic: Clinic, size: int = 3) -> tuple[ProgressNote, list[Episode]]:
    session, members = clinic.group(size)
    note = services.group_note_save(
        session=session,
        note_format="birp",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        topic="Coping with cravings",
        interventions="Urge surfing practice.",
        sections={e.pk: SectionInput(body=body(i)) for i, e in enumerate(members)},
        by=clinic.actor,
    )
    services.note_sign(note=note, by=clinic.actor)
    return note, members


def test_a_members_chart_view_print_and_export_show_no_other_member(
    clinic: Clinic, client: Client
) -> None:
    note, members = _signed_group(clinic)
    me = members[0]
    section = NoteSection.objects.get(note=note, episode=me)
    others = [e.patient for e in members[1:]]
    client.force_login(clinic.clinician)
    pages = {
        "view": client.get(reverse("notes:section", kwargs={"section_id": section.pk})),
        "export": client.get(reverse("notes:section_export", kwargs={"section_id": section.pk})),
        "list": client.get(reverse("notes:patient_notes", kwargs={"patient_id": me.patient_id})),
    }
    pdf = client.get(reverse("notes:section_pdf", kwargs={"section_id": section.pk}))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    pages_text = {k: r.content.decode() for k, r in pages.items()}
    pages_text["pdf"] = "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    for name, text in pages_text.items():
        for other in others:
            assert other.legal_last_name not in text, f"{other.legal_last_name} shown in {name}"
            assert other.legal_first_name not in text, f"{other.legal_first_name} shown in {name}"
            for value in body(
                members.index(next(e for e in members if e.patient == other))
            ).values():
                if value:
                    assert value not in text, f"another member's text in {name}"
    assert INDIVIDUAL_TEXTS[0] in pages_text["view"]
    assert INDIVIDUAL_TEXTS[0] in pages_text["export"]
    assert "Urge surfing practice." in pages_text["pdf"]
    assert AuditEntry.objects.filter(
        patient_id=me.patient_id, object_type="note_section_export", action="export"
    ).exists()


def test_addendum_after_signing_from_the_chart(clinic: Clinic, client: Client) -> None:
    note, members = _signed_group(clinic)
    section = NoteSection.objects.get(note=note, episode=members[0])
    client.force_login(clinic.clinician)
    url = reverse("notes:section", kwargs={"section_id": section.pk})
    response = client.post(url, {"text": "Called after group; safe at home."})
    assert response.status_code == 302
    assert "Called after group" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CLINICIAN, True),
        (Role.CASE_MANAGER, False),  # minimum necessary: no therapy note text (issue 18.4)
        (Role.PRESCRIBER, True),
        (Role.INTAKE, False),
        (Role.BILLING, False),
        (Role.AUDITOR, False),
    ],
)
def test_who_may_read_a_members_note(
    clinic: Clinic, client: Client, role: Role, allowed: bool
) -> None:
    note, members = _signed_group(clinic, size=2)
    section = NoteSection.objects.get(note=note, episode=members[0])
    user = make_user(role, sites=[clinic.site], org=clinic.org)
    client.force_login(user)
    response = client.get(reverse("notes:section", kwargs={"section_id": section.pk}))
    assert response.status_code == (200 if allowed else 403)


def test_a_clinician_of_another_site_is_refused(clinic: Clinic, client: Client) -> None:
    from openiop.testing import make_site

    note, members = _signed_group(clinic, size=2)
    other = make_user(Role.CLINICIAN, sites=[make_site(clinic.org)], org=clinic.org)
    client.force_login(other)
    section = NoteSection.objects.get(note=note, episode=members[0])
    assert (
        client.get(reverse("notes:section", kwargs={"section_id": section.pk})).status_code == 403
    )
    assert (
        client.get(reverse("notes:group", kwargs={"session_id": note.session_id})).status_code
        == 403
    )


def _late_world(clinic: Clinic, n: int) -> None:
    for i in range(n):
        session, _members = clinic.group(
            2, day=local_today(clinic.site.tz) - dt.timedelta(days=3 + i)
        )
        if i % 2:
            services.group_note_save(
                session=session,
                note_format="dap",
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                topic="t",
                sections={},
                by=clinic.actor,
            )


def test_late_notes_page_query_count_does_not_grow(
    clinic: Clinic,
    client: Client,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    settings: Settings,
) -> None:
    settings.NOTES_LATE_AFTER_HOURS = 24
    client.force_login(clinic.clinician)
    _late_world(clinic, 2)
    with django_assert_max_num_queries(20) as small:
        response = client.get(reverse("notes:late"))
    assert response.status_code == 200
    _late_world(clinic, 6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("notes:late"))
    html = response.content.decode()
    assert html.count("Not started:") == 4 and html.count("Draft:") == 4


def _late_session(clinic: Clinic, episode: Episode, days_ago: int) -> GroupSession:
    session: GroupSession = clinic.session(
        local_today(clinic.site.tz) - dt.timedelta(days=days_ago)
    )
    clinic.attend(session, episode)
    return session


def _late_audited() -> set[int]:
    entry = AuditEntry.objects.filter(object_type="late_notes").order_by("-id").first()
    assert entry is not None
    return set(entry.patients.values_list("patient_id", flat=True))


def test_late_notes_search_by_member_name_or_mrn(
    clinic: Clinic, client: Client, settings: Settings
) -> None:
    settings.NOTES_LATE_AFTER_HOURS = 24
    wren = clinic.patient("Wrenna", "Pebblecroft")
    odal = clinic.patient("Odalys", "Marrowgate")
    hers = _late_session(clinic, wren, 3)
    theirs = _late_session(clinic, odal, 4)
    drafted = _late_session(clinic, wren, 5)
    services.group_note_save(
        session=drafted,
        note_format="dap",
        starts_at=drafted.starts_at,
        ends_at=drafted.ends_at,
        topic="t",
        sections={},
        by=clinic.actor,
    )
    client.force_login(clinic.clinician)
    url = reverse("notes:late")

    def group(s: GroupSession) -> str:
        return reverse("notes:group", kwargs={"session_id": s.pk})

    html = client.get(url, {"q": "PEBBLE"}).content.decode()
    assert html.count("Not started:") == 1 and html.count("Draft:") == 1
    assert group(hers) in html and group(theirs) not in html
    assert 'value="PEBBLE"' in html
    assert 'href="?q=PEBBLE&amp;mine=1">Mine</a>' in html  # the filter keeps the search
    assert _late_audited() == {wren.patient_id}
    by_mrn = client.get(url, {"q": odal.patient.mrn}).content.decode()
    assert by_mrn.count("Not started:") == 1 and "Draft:" not in by_mrn
    assert group(theirs) in by_mrn and group(hers) not in by_mrn
    assert _late_audited() == {odal.patient_id}
    everyone = client.get(url).content.decode()
    assert everyone.count("Not started:") == 2 and everyone.count("Draft:") == 1


def test_late_notes_empty_states(clinic: Clinic, client: Client, settings: Settings) -> None:
    settings.NOTES_LATE_AFTER_HOURS = 24
    client.force_login(clinic.clinician)
    url = reverse("notes:late")
    none_at_all = client.get(url).content.decode()
    assert "No late notes:" in none_at_all and "matching" not in none_at_all
    _late_session(clinic, clinic.patient("Wrenna", "Pebblecroft"), 3)
    html = client.get(url, {"q": "nobodyhere"}).content.decode()
    assert "No late note has a member matching" in html and "nobodyhere" in html
    assert "Not started:" not in html and "No late notes:" not in html


def test_late_notes_search_pages_with_flat_queries(
    clinic: Clinic, client: Client, settings: Settings
) -> None:
    settings.NOTES_LATE_AFTER_HOURS = 24
    wren = clinic.patient("Wrenna", "Pebblecroft")
    other = clinic.patient("Odalys", "Marrowgate")
    for days in (3, 4):
        _late_session(clinic, wren, days)
    _late_session(clinic, other, 2)
    client.force_login(clinic.clinician)
    url = reverse("notes:late") + "?q=pebble"
    small = page_query_count(client, url)
    for days in range(5, 30):
        _late_session(clinic, wren, days)
    assert page_query_count(client, url) == small
    assert page_query_count(client, url + "&page=2") == small
    first = client.get(url).content.decode()
    assert "Page 1 of 2 · 27 in all" in first and "q=pebble" in first and "page=2" in first
    assert first.count("Not started:") == 25
    second = client.get(url + "&page=2").content.decode()
    assert second.count("Not started:") == 2
    assert _late_audited() == {wren.patient_id}


# An individual SOAP note as the form posts it, to be signed.
SOAP_NOTE = {
    "note_format": "soap",
    "kind": "individual",
    "date": "2026-03-04",
    "starts": "15:00",
    "ends": "15:50",
    "topic": "Sleep",
    "subjective": "Reports four hours of sleep, cravings at night.",
    "objective": "Tired, fidgety, good eye contact.",
    "assessment": "Sleep disruption raising relapse risk.",
    "plan": "Wind-down routine; review next week.",
    "action": "sign",
}


def test_individual_note_page_creates_and_signs(clinic: Clinic, client: Client) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    client.force_login(clinic.clinician)
    url = reverse("notes:individual_new", kwargs={"episode_id": episode.pk}) + "?format=soap"
    assert client.get(url).status_code == 200
    data = dict(SOAP_NOTE)
    response = client.post(url, data)
    assert response.status_code == 302
    note = ProgressNote.objects.get(kind="individual")
    assert note.status == NoteStatus.SIGNED and note.duration_minutes == 50
    # The signed note is a page about one patient: its header shows the risk level.
    detail = client.get(reverse("notes:detail", kwargs={"note_id": note.pk})).content.decode()
    assert 'data-risk="' in detail and episode.patient.mrn in detail


@pytest.mark.parametrize("method", ["get", "post"])
def test_group_note_screen_query_count_does_not_grow_with_members(
    clinic: Clinic, client: Client, method: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(clinic.clinician)

    def count(session: GroupSession, members: list[Episode]) -> int:
        url = reverse("notes:group", kwargs={"session_id": session.pk})
        client.post(url, post_data(session, members), HTTP_HX_REQUEST="true")  # a saved draft
        data = post_data(
            session, members, version=ProgressNote.objects.get(session=session).version
        )
        with CaptureQueriesContext(connection) as ctx:
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    small = count(*clinic.group(3, day=dt.date(2026, 3, 2)))
    big = count(*clinic.group(10, day=dt.date(2026, 3, 3)))
    # Reading is flat; saving writes each member's section (an UPDATE and the objective links: 2).
    per_member_writes = 0 if method == "get" else 3
    assert big <= small + 7 * per_member_writes, (small, big)


# Session with user (middleware, one query), the note with its session, the sections, their linked objective
# ids, every attendance row (absent ones counted from it), the members' current plans and their
# objectives, the staff with the note's facilitators marked, the audit entry and its members, the
# members' risk (alerts, latest C-SSRS screens and assessments in one). Was 18.
GROUP_NOTE_GET_QUERIES = 10 + audit_links_query()


def test_group_note_screen_query_count_is_pinned(
    clinic: Clinic, client: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    session, members = clinic.group(10, day=dt.date(2026, 3, 3))
    clinic.attend(session, clinic.patient("Vesper", "Absentia"), status="absent_unexcused")
    objectives = [_plan_with_objective(e, clinic) for e in members[:4]]
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    data = post_data(session, members)
    for e, o in zip(members, objectives, strict=False):
        data[f"s-{e.pk}-objectives"] = [str(o.pk)]
    client.post(url, data, HTTP_HX_REQUEST="true")  # a saved draft linked to plan objectives
    with django_assert_num_queries(GROUP_NOTE_GET_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and "1 absent: no section" in html
    assert html.count('class="card member') == 10
    # The format, the note's facilitator (the session's, saved with the draft), each linked objective.
    assert html.count(" selected>") == 2 + len(objectives)


def test_a_booked_individual_session_is_late_until_its_note_and_the_note_links_it(
    clinic: Clinic, client: Client
) -> None:
    episode = clinic.patient("Sorrel", "Singleton")
    day = local_today(clinic.site.tz) - dt.timedelta(days=3)
    session = clinic.session(day, minutes=50, kind="individual", track=None, episode=episode)
    clinic.attend(session, episode, minutes=50)
    client.force_login(clinic.clinician)
    late = client.get(reverse("notes:late")).content.decode()
    link = (
        reverse("notes:individual_new", kwargs={"episode_id": episode.pk})
        + f"?session={session.pk}"
    )
    assert link in late
    form = client.get(link).content.decode()
    assert 'value="09:00' in form and 'value="09:50' in form
    data = {
        "note_format": "dap", "kind": "individual", "date": day.isoformat(), "starts": "09:00",
        "ends": "09:50", "topic": "Check-in", "data": "Reports steady mood and no use this week.",
        "assessment": "Stable; engaged.", "plan": "Continue weekly sessions.", "action": "sign",
    }  # fmt: skip
    assert client.post(link, data).status_code == 302
    note = ProgressNote.objects.get(kind="individual")
    assert note.session == session and note.status == NoteStatus.SIGNED
    assert link not in client.get(reverse("notes:late")).content.decode()


def test_a_new_note_whose_signing_is_refused_is_kept_once_and_signed_from_the_same_draft(
    clinic: Clinic, client: Client
) -> None:
    episode = clinic.patient("Sorrel", "Onceonly")
    client.force_login(clinic.clinician)
    url = reverse("notes:individual_new", kwargs={"episode_id": episode.pk}) + "?format=soap"
    data = {**SOAP_NOTE, "assessment": ""}  # signing needs it: refused, the draft is saved
    refused = client.post(url, data)
    assert refused.status_code == 422
    draft = ProgressNote.objects.get(kind="individual")
    assert draft.status == NoteStatus.DRAFT
    edit_url = reverse("notes:individual_edit", kwargs={"note_id": draft.pk})
    body = refused.content.decode()
    assert f'action="{edit_url}"' in body  # the next post continues this draft

    def version_in(page: str) -> str:
        found = re.search(r'name="version" value="(\d+)"', page)
        assert found is not None, "the form carries the draft's version"
        return found.group(1)

    data["version"] = version_in(body)
    data["plan"] = ""  # refused again, now on the edit page: still the same draft
    again = client.post(edit_url, data).content.decode()
    assert "changed by someone else" not in again
    data["version"] = version_in(again)
    data["plan"] = "Wind-down routine; review next week."
    data["assessment"] = "Sleep disruption raising relapse risk."
    signed = client.post(edit_url, data)
    assert signed.status_code == 302
    assert ProgressNote.objects.filter(kind="individual").count() == 1
    draft.refresh_from_db()
    assert draft.status == NoteStatus.SIGNED


def test_each_member_on_the_group_screen_shows_their_risk_level(
    clinic: Clinic, client: Client
) -> None:
    from openiop.measures.services import safety_alert_flag

    session, members = clinic.group(3)
    safety_alert_flag(
        episode=members[1], risk_level="high", note="Disclosed a plan", by=clinic.actor
    )
    client.force_login(clinic.clinician)
    html = client.get(reverse("notes:group", kwargs={"session_id": session.pk})).content.decode()

    def risk_of(episode: Episode) -> str:
        found = re.search(r'data-risk="(\w+)"', html.split(f'data-member="{episode.pk}"')[1])
        assert found is not None, f"no risk badge for member {episode.pk}"
        return found.group(1)

    risks = {e.pk: risk_of(e) for e in members}
    assert risks == {members[0].pk: "none", members[1].pk: "high", members[2].pk: "none"}


def test_a_group_note_posted_without_its_version_is_refused_and_not_saved(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(3)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    data = post_data(session, members)
    del data["version"]
    first = client.post(url, data, HTTP_HX_REQUEST="true")
    assert first.status_code == 422
    assert "sent without a valid version" in first.content.decode()
    assert not ProgressNote.objects.exists()
    client.post(url, post_data(session, members), HTTP_HX_REQUEST="true")  # the draft
    draft = ProgressNote.objects.get(session=session)
    again = client.post(url, {**data, "topic": "Overwritten"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 422
    assert 'value="Overwritten"' in again.content.decode()  # what was typed is kept
    draft.refresh_from_db()
    assert draft.topic == "Coping with cravings"


def test_a_second_first_save_of_a_group_note_from_a_stale_page_is_a_conflict(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(3)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    page = client.get(url).content.decode()
    assert 'name="version" value="0"' in page  # no note yet
    assert client.post(url, post_data(session, members), HTTP_HX_REQUEST="true").status_code == 200
    stale = client.post(
        url, {**post_data(session, members), "topic": "From the other tab"}, HTTP_HX_REQUEST="true"
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    assert ProgressNote.objects.get(session=session).topic == "Coping with cravings"


def test_an_individual_draft_posted_without_its_version_is_refused_and_not_saved(
    clinic: Clinic, client: Client
) -> None:
    episode = clinic.patient("Sorrel", "Versionless")
    client.force_login(clinic.clinician)
    url = reverse("notes:individual_new", kwargs={"episode_id": episode.pk}) + "?format=soap"
    assert client.post(url, {**SOAP_NOTE, "action": "save"}).status_code == 302
    draft = ProgressNote.objects.get(kind="individual")
    edit_url = reverse("notes:individual_edit", kwargs={"note_id": draft.pk})
    for version in (None, "abc"):
        data = {**SOAP_NOTE, "action": "save", "topic": "Overwritten"}
        if version is not None:
            data["version"] = version
        response = client.post(edit_url, data)
        body = response.content.decode()
        # No version is the service's refusal (422); a malformed one is the form's own error.
        assert response.status_code == (422 if version is None else 200)
        assert "sent without a valid version" in body and 'value="Overwritten"' in body
    draft.refresh_from_db()
    assert (draft.topic, draft.version) == ("Sleep", 1)


# --- no signature before the session ends; copied sentences named ---------------------------------
def test_signing_a_group_note_before_the_session_ends_says_when_and_keeps_the_text(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(2, day=local_today(clinic.site.tz) + dt.timedelta(days=1))
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    response = client.post(url, post_data(session, members, action="sign"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 422
    assert "This session has not ended yet" in html and "12:00 PM" in html
    assert INDIVIDUAL_TEXTS[1] in html  # what was typed is still on the form
    assert ProgressNote.objects.get(session=session).status == NoteStatus.DRAFT


def test_signing_an_individual_note_of_a_future_service_is_refused_and_keeps_the_form(
    clinic: Clinic, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Noon at the clinic: tomorrow there is already today in the zone furthest ahead, so the date
    # field takes it and the sign rule is what refuses (before 5 AM at the clinic the field itself
    # would refuse tomorrow, a different message: the run must not depend on the hour).
    today = local_today(clinic.site.tz)
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=clinic.site.tz)
    monkeypatch.setattr("openiop.core.clock.now", lambda: noon.astimezone(dt.UTC))
    episode = clinic.patient("Sorrel", "Later")
    client.force_login(clinic.clinician)
    url = reverse("notes:individual_new", kwargs={"episode_id": episode.pk}) + "?format=soap"
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    response = client.post(url, {**SOAP_NOTE, "date": tomorrow})
    html = response.content.decode()
    assert response.status_code == 422
    assert "This session has not ended yet" in html and "3:50 PM" in html
    assert SOAP_NOTE["subjective"] in html
    assert ProgressNote.objects.get(kind="individual").status == NoteStatus.DRAFT


def test_a_copied_sentence_is_named_on_the_group_screen_with_the_member(
    clinic: Clinic, client: Client
) -> None:
    from openiop.notes.tests.test_services import COPIED_SENTENCE

    session, members = clinic.group(3)
    texts = [body(0), body(1), body(2)]
    for i in (0, 2):
        texts[i]["response"] += " " + COPIED_SENTENCE
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    response = client.post(
        url, post_data(session, members, action="sign", texts=texts), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    third = members[2].patient.display_name
    assert f"“{COPIED_SENTENCE}” also appears in {third}&#39;s section of this note" in html
    assert f'data-testid="copied-{members[0].pk}"' in html
    assert f"<mark>{COPIED_SENTENCE}</mark>" in html
    assert f'name="s-{members[0].pk}-reason"' in html
    assert f'name="s-{members[1].pk}-reason"' not in html
    assert ProgressNote.objects.get(session=session).status == NoteStatus.DRAFT


@pytest.mark.parametrize("fmt", ["", "zz-unknown"])
def test_a_group_note_with_an_empty_or_unknown_format_is_a_form_error(
    clinic: Clinic, client: Client, fmt: str
) -> None:
    session, members = clinic.group(2)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    data = {**post_data(session, members), "note_format": fmt}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422  # the form again with its message (htmx swaps 422)
    html = response.content.decode()
    assert "note&#39;s format" in html or "one of the note formats" in html
    assert "Urge surfing practice and a feedback round." in html  # what was typed is kept
    assert not ProgressNote.objects.filter(session=session).exists()


def test_group_note_text_longer_than_its_field_is_refused_not_cut(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(2)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    too_long = {**post_data(session, members), "modality": "M" * 61}
    response = client.post(url, too_long, HTTP_HX_REQUEST="true")
    assert "Modality: Ensure this value has at most 60 characters" in response.content.decode()
    member_text = post_data(session, members)
    member_text[f"s-{members[0].pk}-participation"] = "x" * 4001
    response = client.post(url, member_text, HTTP_HX_REQUEST="true")
    assert "each field holds at most 4,000 characters" in response.content.decode()
    assert not ProgressNote.objects.filter(session=session).exists()


def test_a_nul_character_in_a_group_note_is_refused_and_nothing_is_saved(
    clinic: Clinic, client: Client
) -> None:
    session, members = clinic.group(2)
    client.force_login(clinic.clinician)
    url = reverse("notes:group", kwargs={"session_id": session.pk})
    for key in ("topic", f"s-{members[0].pk}-participation"):
        data = {**post_data(session, members), key: "Coping\x00 with cravings"}
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()
    assert not ProgressNote.objects.filter(session=session).exists()

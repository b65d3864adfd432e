"""Admissions pages: the public inquiry form, the pipeline board, inquiries, pre-screen, ASAM
assessment, admission and the intake packet (insurance and cost: openiop.billing.views)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from openiop.accounts.domain import Cap
from openiop.admissions import selectors, services
from openiop.admissions.choices import TaskStatus
from openiop.admissions.domain import asam, packet, pipeline
from openiop.admissions.domain.prescreen import PrescreenAnswers
from openiop.admissions.forms import (
    AdmitForm,
    AssessmentForm,
    DecideForm,
    DocumentDetailsForm,
    FollowUpForm,
    InquiryForm,
    MoveForm,
    PrescreenForm,
    PublicInquiryForm,
    ScheduleForm,
    SignForm,
    TaskDoneForm,
)
from openiop.core.actor import Actor
from openiop.episodes.choices import ReferralSource
from openiop.measures.domain import cssrs
from openiop.patients.selectors import patient_in_organization
from openiop.programs.selectors import (
    active_tracks_at,
    site_for_public_inquiry,
    track_in_scope,
    visible_sites,
)
from openiop.ui.fields import parse_id
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import refusals, staff_view


# --- the public form -----------------------------------------------------------------------------
def _over_limit(request: HttpRequest) -> bool:
    """Count this post against the client's hourly allowance; True once it is used up.

    Actor.from_request takes the address from client_address, which believes X-Forwarded-For
    only from a trusted proxy: a header a client sets itself must not reset its limit. The count
    is in the database, shared by every worker process.
    """
    limit = int(settings.OPENIOP_PUBLIC_INQUIRY_LIMIT)
    return services.public_post_count(by=Actor.from_request(request, channel="web")) > limit


@csrf_protect
def public_inquiry(request: HttpRequest, site_id: int) -> HttpResponse:
    """No login. CSRF-protected, rate-limited per client address, with a bot trap. The visitor
    only ever sees the form (with its own errors) or the confirmation."""
    site = site_for_public_inquiry(site_id=site_id)
    if site is None:
        raise Http404("No such clinic")
    context: dict[str, Any] = {"site": site, "crisis_line": site.organization.crisis_line}
    if not site.takes_new_work:  # no form: the service would refuse it (the crisis lines stay)
        return render(request, "admissions/public_form.html", {**context, "form": None})
    if request.method == "POST":
        if _over_limit(request):
            return render(request, "admissions/public_limited.html", context, status=429)
        form = PublicInquiryForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            if data.pop("website", ""):  # a bot filled the hidden field: pretend all is well
                return redirect("admissions:public_thanks", site_id=site.pk)
            with refusals(request, form):
                services.inquiry_submit_public(
                    site=site, by=Actor.from_request(request, channel="web"), **data
                )
                return redirect("admissions:public_thanks", site_id=site.pk)
    else:
        form = PublicInquiryForm()
    context["form"] = form
    return render(request, "admissions/public_form.html", context)


def public_thanks(request: HttpRequest, site_id: int) -> HttpResponse:
    site = site_for_public_inquiry(site_id=site_id)
    if site is None:
        raise Http404("No such clinic")
    return render(
        request,
        "admissions/public_thanks.html",
        {"site": site, "crisis_line": site.organization.crisis_line},
    )


# --- board and reports ---------------------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True, cache=True)
def board(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    search = request.GET.get("q", "")[:100]
    owner = request.GET.get("owner", "")
    board = selectors.pipeline_board(actor=actor, search=search, owner_id=parse_id(owner))
    return render(
        request,
        "admissions/board.html",
        {
            "board": board,
            "q": search,
            "urgent": board.urgent_tasks,
            "labels": pipeline.STAGE_LABELS,
            "public_sites": list(visible_sites(actor=actor, for_new_work=True)[:5]),
        },
    )


@staff_view(Cap.ADMISSIONS_VIEW)
def conversion(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    today = timezone.localdate()
    start = dt.date(today.year - 1, today.month, 1)
    rows = selectors.conversion_report(actor=actor, start=start, end=today)
    return render(
        request,
        "admissions/conversion.html",
        {"rows": rows, "start": start, "sources": dict(ReferralSource.choices)},
    )


# --- inquiries -----------------------------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_MANAGE)
def inquiry_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    sites = visible_sites(actor=actor, for_new_work=True)
    form = InquiryForm(request.POST or None)
    site_id = request.POST.get("site") or request.GET.get("site")
    wanted = parse_id(site_id)
    site = sites.filter(pk=wanted).first() if wanted else sites.first()
    if request.method == "POST" and site is None:
        form.add_error(None, "Choose one of your sites.")
    elif request.method == "POST" and form.is_valid() and site is not None:
        with refusals(request, form):
            inquiry = services.inquiry_create(site=site, by=actor, **form.cleaned_data)
            messages.success(request, f"Inquiry recorded for {inquiry.name}.")
            return redirect("admissions:inquiry", inquiry_id=inquiry.pk)
    return render(
        request, "admissions/inquiry_new.html", {"form": form, "sites": sites, "site": site}
    )


@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(actor=actor, inquiry_id=inquiry_id)
    return _render_detail(request, actor, inquiry)


def _render_detail(
    request: HttpRequest,
    actor: Actor,
    inquiry: Any,
    *,
    followup: FollowUpForm | None = None,
    move_form: MoveForm | None = None,
    schedule_form: ScheduleForm | None = None,
) -> HttpResponse:
    """The inquiry page; a bound form with errors (status 400) keeps what the user typed."""
    user = actor.user
    assert user is not None
    duplicates = (
        selectors.likely_duplicates(actor=actor, inquiry=inquiry)
        if inquiry.patient_id is None
        and inquiry.stage != pipeline.ADMITTED
        and user.can(Cap.PATIENT_DEMOGRAPHICS)
        else []
    )
    tasks = list(inquiry.tasks.all())
    urgent_open = [t for t in tasks if t.urgent and t.status == TaskStatus.OPEN]
    prescreens = list(inquiry.prescreens.all())
    context = {
        "inquiry": inquiry,
        "duplicates": duplicates,
        "tasks": tasks,
        "urgent_open": urgent_open,
        "prescreens": prescreens,
        "latest_prescreen": prescreens[0] if prescreens else None,
        "assessments": list(inquiry.assessments.all()),
        "coverages": list(inquiry.coverages.all()),
        "estimates": list(inquiry.estimates.all()),
        "history": list(inquiry.stage_changes.all()),
        "labels": pipeline.STAGE_LABELS,
        "is_open": inquiry.stage in pipeline.OPEN_STAGES,
        "admittable": inquiry.stage in pipeline.ADMITTABLE_STAGES,
        "crisis_line": inquiry.organization.crisis_line,
        "followup": followup
        or FollowUpForm(
            initial={
                "version": inquiry.version,
                "owner": inquiry.owner_id,
                "next_action": inquiry.next_action,
                "next_action_date": inquiry.next_action_date,
            },
            staff=services.inquiry_owner_choices(inquiry),
        ),
        "move_form": move_form or MoveForm(stage=inquiry.stage),
        "schedule_form": schedule_form or ScheduleForm(initial={"on": inquiry.assessment_date}),
        "task_form": TaskDoneForm(),
    }
    bound_with_errors = any(f is not None for f in (followup, move_form, schedule_form))
    return render(
        request,
        "admissions/inquiry_detail.html",
        context,
        status=400 if bound_with_errors else 200,
    )


def _back(inquiry_id: int) -> HttpResponse:
    return redirect("admissions:inquiry", inquiry_id=inquiry_id)


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
@require_POST
def inquiry_followup(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_MANAGE, purpose="inquiry_followup"
    )
    form = FollowUpForm(request.POST, staff=services.inquiry_owner_choices(inquiry))
    if form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            services.inquiry_update(
                inquiry=inquiry,
                expected_version=data["version"],
                by=actor,
                owner=data["owner"],
                next_action=data["next_action"],
                next_action_date=data["next_action_date"],
            )
            messages.success(request, "Follow-up saved.")
            return _back(inquiry.pk)
    return _render_detail(request, actor, inquiry, followup=form)


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
@require_POST
def inquiry_move(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_MANAGE, purpose="inquiry_move"
    )
    form = MoveForm(request.POST, stage=inquiry.stage)
    if form.is_valid():
        with refusals(request, form):
            services.inquiry_move(
                inquiry=inquiry,
                to_stage=form.cleaned_data["to_stage"],
                note=form.cleaned_data["note"],
                by=actor,
            )
            messages.success(request, f"Moved to {pipeline.STAGE_LABELS[inquiry.stage]}.")
            return _back(inquiry.pk)
    return _render_detail(request, actor, inquiry, move_form=form)


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
@require_POST
def inquiry_link(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_MANAGE, purpose="inquiry_link"
    )
    raw = request.POST.get("patient", "")
    patient_id = parse_id(raw)
    patient = (
        patient_in_organization(patient_id=patient_id, organization_id=inquiry.organization_id)
        if patient_id
        else None
    )
    if raw and patient is None:
        messages.error(request, "That patient was not found.")
        return _back(inquiry.pk)
    with refusals(request, flash=True):
        services.inquiry_link_patient(inquiry=inquiry, patient=patient, by=actor)
        messages.success(
            request,
            f"Linked to {patient.display_name} ({patient.mrn})." if patient else "Unlinked.",
        )
    return _back(inquiry.pk)


# --- pre-screen, tasks, scheduling ---------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_PRESCREEN, patient_data=True)
def prescreen(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_PRESCREEN, purpose="prescreen"
    )
    form = PrescreenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answers = PrescreenAnswers(
            needs_24h_supervision=form.yes("needs_24h_supervision"),
            needs_medical_withdrawal=form.yes("needs_medical_withdrawal"),
            safe_home=form.yes("safe_home"),
            substance_free_home=form.yes("substance_free_home"),
            outpatient_not_enough=form.yes("outpatient_not_enough"),
            can_attend=form.yes("can_attend"),
            motivation=form.cleaned_data["motivation"],
        )
        with refusals(request, form):
            screen = services.prescreen_record(
                inquiry=inquiry,
                answers=answers,
                cssrs_answers=form.cssrs_answers(),
                notes=form.cleaned_data["notes"],
                by=actor,
            )
            if screen.outcome == "higher_level_now":
                # A warning that must stand out, not an error: the pre-screen was recorded (an
                # error message means a refusal, core.submissions).
                messages.warning(
                    request, "High risk: act now. An urgent task was created.", extra_tags="urgent"
                )
            else:
                messages.success(request, "Pre-screen recorded.")
            return _back(inquiry.pk)
    return render(
        request,
        "admissions/prescreen.html",
        {"form": form, "inquiry": inquiry, "cssrs_items": cssrs.ITEMS},
    )


@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    task = selectors.task_get(actor=actor, task_id=task_id)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        with refusals(request, flash=True):
            services.task_complete(task=task, outcome=form.cleaned_data["outcome"], by=actor)
            messages.success(request, "Task done.")
    else:
        messages.error(request, "Say what was done.")
    return _back(task.inquiry_id)


@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
@require_POST
def schedule(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(actor=actor, inquiry_id=inquiry_id, purpose="schedule")
    form = ScheduleForm(request.POST)
    if form.is_valid():
        with refusals(request, form):
            services.assessment_schedule(inquiry=inquiry, on=form.cleaned_data["on"], by=actor)
            messages.success(request, "Assessment scheduled.")
            return _back(inquiry.pk)
    return _render_detail(request, actor, inquiry, schedule_form=form)


# --- assessment ----------------------------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_ASSESS, patient_data=True)
def assessment_new(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_ASSESS, purpose="assessment_new"
    )
    edition = request.POST.get("edition") or request.GET.get("edition") or "3"
    if edition not in ("3", "4"):
        edition = "3"
    form = AssessmentForm(
        request.POST if request.method == "POST" else None,
        edition=edition,
        initial={"edition": edition},
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            assessment = services.assessment_save(
                inquiry=inquiry, edition=edition, ratings=form.ratings(), by=actor
            )
            return redirect("admissions:assessment", assessment_id=assessment.pk)
    return render(
        request,
        "admissions/assessment_new.html",
        {"form": form, "inquiry": inquiry, "edition": edition},
    )


def _assessment_context(assessment: Any, *, actor: Actor) -> dict[str, Any]:
    """The assessment's rows; the clinician's free-text notes only for roles that read clinical
    notes (Cap.NOTE_TEXT): billing and intake see ratings, level and reasons, not the notes."""
    names = asam.DIMENSION_NAMES[asam.Edition(assessment.edition)]
    show_notes = actor.user is not None and actor.user.can(Cap.NOTE_TEXT)
    rows = [
        {
            "dimension": r["dimension"],
            "name": names[r["dimension"]],
            "rating": r["rating"],
            "label": asam.RATING_LABELS[r["rating"]],
            "notes": r["notes"] if show_notes else None,
        }
        for r in assessment.ratings
    ]
    return {
        "assessment": assessment,
        "inquiry": assessment.inquiry,
        "rows": rows,
        "show_notes": show_notes,
    }


@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    assessment = selectors.assessment_get(actor=actor, assessment_id=assessment_id)
    form = DecideForm(
        request.POST or None,
        initial={"version": assessment.version, "chosen_level": assessment.recommended_level},
        edition=assessment.edition,
    )
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.assessment_decide(
                assessment=assessment,
                chosen_level=form.cleaned_data["chosen_level"],
                justification=form.cleaned_data["justification"],
                expected_version=form.cleaned_data["version"],
                by=actor,
            )
            messages.success(request, "Level of care decided.")
            return redirect("admissions:assessment", assessment_id=assessment.pk)
    context = _assessment_context(assessment, actor=actor)
    context["form"] = form
    return render(request, "admissions/assessment.html", context)


@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
def assessment_pdf(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    assessment = selectors.assessment_get(actor=actor, assessment_id=assessment_id)
    return pdf_response(
        request,
        "admissions/assessment_print.html",
        _assessment_context(assessment, actor=actor),
        filename=f"asam-assessment-{assessment.pk}.pdf",
    )


# --- admission and packet ------------------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
def admit(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    inquiry = selectors.inquiry_get(
        actor=actor, inquiry_id=inquiry_id, cap=Cap.ADMISSIONS_MANAGE, purpose="admit"
    )
    tracks = active_tracks_at(site_id=inquiry.site_id)
    decided = inquiry.assessments.filter(decided_at__isnull=False).order_by("-decided_at").first()
    initial = {
        "date_of_birth": inquiry.date_of_birth,
        "sex": "unknown",
    }
    form = AdmitForm(request.POST or None, tracks=tracks, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals(request, form):
            result = services.admission_admit(
                inquiry=inquiry,
                track=data["track"],
                date_of_birth=data["date_of_birth"],
                sex=data["sex"],
                by=actor,
            )
            if result.waitlist_entry is not None:
                messages.warning(
                    request,
                    f"{data['track'].name} is full: {result.patient.display_name} is on "
                    f"its waitlist at position {result.waitlist_entry.position()}; a seat is "
                    "offered when one frees.",
                )
            else:
                messages.success(
                    request,
                    f"Admitted {result.patient.display_name}; first group on "
                    f"{result.start_date:%a %b %-d, %Y}.",
                )
            return redirect("admissions:packet", episode_id=result.episode.pk)
    return render(
        request,
        "admissions/admit.html",
        {"form": form, "inquiry": inquiry, "assessment": decided},
    )


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
def packet_view(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode, documents = selectors.packet_get(actor=actor, episode_id=episode_id)
    return render(
        request,
        "admissions/packet.html",
        {"episode": episode, "patient": episode.patient, "documents": documents},
    )


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
@require_POST
def release_add(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    episode, _ = selectors.packet_get(actor=actor, episode_id=episode_id)
    document = services.release_add(episode=episode, by=actor)
    return redirect("admissions:document", document_id=document.pk)


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
def document(request: HttpRequest, document_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    doc = selectors.document_get(actor=actor, document_id=document_id)
    names = packet.DETAIL_FIELDS.get(doc.kind, ())
    details_form = DocumentDetailsForm(
        request.POST if request.POST.get("step") == "details" else None,
        names=names,
        labels=packet.DETAIL_LABELS,
        initial={"version": doc.version, **doc.details},
    )
    sign_form = SignForm(
        request.POST if request.POST.get("step") == "sign" else None,
        initial={"version": doc.version},
    )
    if request.method == "POST" and request.POST.get("step") == "details":
        if details_form.is_valid():
            data = dict(details_form.cleaned_data)
            version = data.pop("version")
            with refusals(request, details_form):
                services.document_fill(
                    document=doc, details=data, expected_version=version, by=actor
                )
                messages.success(request, "Details saved.")
                return redirect("admissions:document", document_id=doc.pk)
    elif request.method == "POST" and request.POST.get("step") == "sign" and sign_form.is_valid():
        data = sign_form.cleaned_data
        with refusals(request, sign_form):
            services.document_sign(
                document=doc,
                signed_name=data["signed_name"],
                signer_relationship=data["signer_relationship"],
                signature_png=data["signature_png"],
                expected_version=data["version"],
                by=actor,
            )
            messages.success(request, f"{doc.get_kind_display()} signed.")
            return redirect("admissions:packet", episode_id=doc.episode_id)
    return render(
        request,
        "admissions/document.html",
        {
            "doc": doc,
            "text": services.document_text_for(doc),
            "details_form": details_form,
            "sign_form": sign_form,
            "has_details": bool(names),
        },
    )


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    doc = selectors.document_get(actor=Actor.from_request(request), document_id=document_id)
    return pdf_response(
        request,
        "admissions/document_print.html",
        {"doc": doc, "text": services.document_text_for(doc)},
        filename=f"{doc.kind}-{doc.pk}.pdf",
    )


# --- waitlist ------------------------------------------------------------------------------------
@staff_view(Cap.ADMISSIONS_VIEW, patient_data=True)
def waitlist(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    q = request.GET.get("q", "").strip()[:100]
    track, page = selectors.track_waitlist(
        actor=actor, track_id=track_id, q=q, page=request.GET.get("page")
    )
    return render(request, "admissions/waitlist.html", {"track": track, "page": page, "q": q})


@staff_view(Cap.ADMISSIONS_MANAGE)
@require_POST
def waitlist_offer(request: HttpRequest, track_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    track = track_in_scope(actor=actor, track_id=track_id)
    if track is None:
        raise Http404("No such track")
    offers = services.waitlist_offer_seats(track=track, by=actor)
    messages.success(request, f"{len(offers)} seat(s) offered." if offers else "No free seat.")
    return redirect("admissions:waitlist", track_id=track.pk)


@staff_view(Cap.ADMISSIONS_MANAGE, patient_data=True)
@require_POST
def waitlist_accept(request: HttpRequest, entry_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    entry = selectors.waitlist_entry_get(actor=actor, entry_id=entry_id)
    with refusals(request, flash=True):
        enrollment = services.waitlist_accept(entry=entry, by=actor)
        messages.success(request, f"Enrolled from {enrollment.start_date:%a %b %-d, %Y}.")
    return redirect("admissions:waitlist", track_id=entry.track_id)

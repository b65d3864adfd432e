"""Treatment-plan pages: an episode's versions, one version (built up while a draft, signed, then
locked), the due and overdue list; and the discharge summary."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.clock import local_today, now
from openiop.core.errors import NotFound, RuleViolation
from openiop.episodes.forms import clinical_staff
from openiop.treatment import domain, selectors, services
from openiop.treatment.forms import (
    CopyGivenForm,
    GoalForm,
    GoalStatusForm,
    InterventionForm,
    ObjectiveForm,
    PlanTextForm,
    ProblemForm,
    ReferralForm,
    SignForm,
    SummaryForm,
)
from openiop.treatment.models import (
    DischargeSummary,
    PlanGoal,
    PlanProblem,
    PlanStatus,
    SummaryStatus,
    TreatmentPlan,
)
from openiop.ui.fields import parse_id
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import paginate, refusals, staff_view


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def episode_plans(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    data = selectors.episode_plans(actor=actor, episode_id=episode_id, at=now())
    return render(
        request,
        "treatment/episode_plans.html",
        {"data": data, "episode": data.episode, "patient": data.episode.patient},
    )


@require_POST
@staff_view(Cap.NOTE_TEXT, patient_data=True)
def plan_start(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    data = selectors.episode_plans(actor=actor, episode_id=episode_id, at=now())
    with refusals(request, flash=True):
        plan = services.plan_start(episode=data.episode, by=actor)
        return redirect("treatment:plan", treatment_plan_id=plan.pk)
    return redirect("treatment:episode_plans", episode_id=episode_id)


def _forms(plan: TreatmentPlan, post: Any, action: str) -> dict[str, forms.Form]:
    def bound(name: str) -> Any:
        return post if action == name else None

    staff = clinical_staff(plan.patient.organization_id)
    return {
        "text": PlanTextForm(
            bound("text"),
            initial={
                "version": plan.version,
                "strengths": plan.strengths,
                "discharge_criteria": plan.discharge_criteria,
                "review_summary": plan.review_summary,
            },
        ),
        "problem": ProblemForm(bound("problem")),
        "goal": GoalForm(bound("goal"), prefix="goal"),
        "goal_status": GoalStatusForm(bound("goal_status"), prefix="gs"),
        "objective": ObjectiveForm(bound("objective"), prefix="objective"),
        "intervention": InterventionForm(bound("intervention"), prefix="iv", staff=staff),
        "sign": SignForm(bound("sign"), prefix="sign"),
    }


def _goal(plan: TreatmentPlan, goal_id: int) -> PlanGoal:
    for problem in plan.problems.all():
        for goal in problem.goals.all():
            if goal.pk == goal_id:
                return goal
    raise RuleViolation("That goal is not in this plan.", code="not_in_plan")


def _problem(plan: TreatmentPlan, problem_id: int) -> PlanProblem:
    for problem in plan.problems.all():
        if problem.pk == problem_id:
            return problem
    raise RuleViolation("That problem is not in this plan.", code="not_in_plan")


def _apply(plan: TreatmentPlan, action: str, form: forms.Form, actor: Actor) -> str:
    """Call the one service the action names; returns the success message."""
    d = form.cleaned_data
    if action == "text":
        services.plan_update(
            plan=plan,
            strengths=d["strengths"],
            discharge_criteria=d["discharge_criteria"],
            review_summary=d["review_summary"],
            expected_version=d["version"],
            by=actor,
        )
        return "Saved."
    if action == "problem":
        services.plan_add_problem(plan=plan, by=actor, **d)
        return "Problem added."
    if action == "goal":
        services.plan_add_goal(problem=_problem(plan, d["problem"]), text=d["text"], by=actor)
        return "Goal added."
    if action == "goal_status":
        services.plan_set_goal_status(goal=_goal(plan, d["goal"]), status=d["status"], by=actor)
        return "Goal status recorded."
    if action == "objective":
        services.plan_add_objective(
            goal=_goal(plan, d["goal"]), text=d["text"], target_date=d["target_date"], by=actor
        )
        return "Objective added."
    if action == "intervention":
        services.plan_add_intervention(
            goal=_goal(plan, d["goal"]),
            modality=d["modality"],
            frequency=d["frequency"],
            responsible=d["responsible"],
            description=d["description"],
            by=actor,
        )
        return "Intervention added."
    if action == "sign":
        signature = services.plan_sign(
            plan=plan, role=d["role"], signer_name=d["signer_name"], by=actor
        )
        return f"{signature.get_role_display()} signature recorded."
    raise RuleViolation("Unknown action.", code="unknown_action")


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def plan_detail(request: HttpRequest, treatment_plan_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    plan = selectors.plan_get(actor=actor, plan_id=treatment_plan_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    all_forms = _forms(plan, request.POST, action)
    confirm_remove = None
    if action == "remove" and request.POST.get("confirm") != "1":
        # Removing is destructive (a problem takes its goals, objectives and interventions with
        # it): the page asks first, naming what goes.
        confirm_remove = _removal(plan, request.POST.get("kind", ""), request.POST.get("item", ""))
        if confirm_remove is None:
            messages.error(request, "That item is not in this plan.")
            return redirect("treatment:plan", treatment_plan_id=plan.pk)
    elif action == "remove":
        with refusals(request, flash=True):
            item = request.POST.get("item", "")
            services.plan_remove_item(
                plan=plan,
                kind=request.POST.get("kind", ""),
                item_id=parse_id(item) or 0,
                by=actor,
            )
            messages.success(request, "Removed.")
        return redirect("treatment:plan", treatment_plan_id=plan.pk)
    if action == "revise":
        with refusals(request, flash=True):
            new = services.plan_revise(plan=plan, by=actor)
            messages.success(
                request, f"Started version {new.number}; version {plan.number} is kept."
            )
            return redirect("treatment:plan", treatment_plan_id=new.pk)
    elif action in all_forms:
        form = all_forms[action]
        if form.is_valid():
            with refusals(request, form):
                message = _apply(plan, action, form, actor)
                messages.success(request, message)
                return redirect("treatment:plan", treatment_plan_id=plan.pk)
    today = local_today(plan.episode.site.tz)
    required = services.required_signers(plan, today)
    signed = {s.role for s in plan.signatures.all()}
    context = {
        "plan": plan,
        "patient": plan.patient,
        "episode": plan.episode,
        "forms": all_forms,
        "action": action,
        "gaps": domain.plan_gaps(services.plan_outline(plan))
        if plan.status == PlanStatus.DRAFT
        else [],
        "required": required,
        "missing": [r for r in required if r not in signed],
        "can_write": request.user.can(Cap.NOTE_TEXT),  # type: ignore[union-attr]
        "confirm_remove": confirm_remove,
    }
    return render(request, "treatment/plan.html", context)


def _removal(plan: TreatmentPlan, kind: str, item: str) -> dict[str, Any] | None:
    """What a removal would take away, for the confirmation (None when it is not in the plan)."""
    item_id = parse_id(item) or 0
    for problem in plan.problems.all():
        goals = list(problem.goals.all())
        if kind == "problem" and problem.pk == item_id:
            what = f"problem “{problem.description}” ({problem.icd10_code})"
            if goals:
                what += f" with its {len(goals)} goal{'s' if len(goals) != 1 else ''}"
                what += ", their objectives and interventions"
            return {"kind": kind, "item": item_id, "what": what}
        for goal in goals:
            if kind == "goal" and goal.pk == item_id:
                what = f"goal “{goal.text}” with its objectives and interventions"
                return {"kind": kind, "item": item_id, "what": what}
            for o in goal.objectives.all():
                if kind == "objective" and o.pk == item_id:
                    return {"kind": kind, "item": item_id, "what": f"objective “{o.text}”"}
            for i in goal.interventions.all():
                if kind == "intervention" and i.pk == item_id:
                    return {"kind": kind, "item": item_id, "what": f"intervention “{i}”"}
    return None


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def plans_due(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    q = request.GET.get("q", "").strip()[:100]
    rows = selectors.plans_due(actor=actor, at=now(), q=q)
    return render(request, "treatment/due.html", {"page": paginate(request, rows), "q": q})


# --- discharge summary ----------------------------------------------------------------------------
def _summary_forms(
    summary: DischargeSummary | None, post: Any, action: str
) -> dict[str, forms.Form]:
    initial: dict[str, Any] = {}
    if summary is not None:
        initial = {f: getattr(summary, f) for f in services.SUMMARY_TEXT_FIELDS}
        initial["version"] = summary.version
    return {
        "save": SummaryForm(post if action == "save" else None, initial=initial),
        "referral": ReferralForm(post if action == "referral" else None, prefix="ref"),
        "copy": CopyGivenForm(post if action == "copy" else None, prefix="copy"),
    }


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def discharge_summary(request: HttpRequest, episode_id: int) -> HttpResponse:
    """The discharge summary: facts from the record, narrative, aftercare plan, signature, copy."""
    actor = Actor.from_request(request)
    view = selectors.discharge_summary_get(actor=actor, episode_id=episode_id)
    summary = view.summary
    can_write = request.user.can(Cap.NOTE_TEXT)  # type: ignore[union-attr]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if summary is not None and not action and can_write:
        # The derived fields (length of stay, sessions, hours, scores) are current as the page
        # opens, before the forms take the summary's version.
        services.discharge_summary_fill(summary=summary, by=actor)
    all_forms = _summary_forms(summary, request.POST, action)
    error = ""
    confirm_remove = None
    if action == "remove_referral" and summary is not None:
        # Removing is asked first, naming the referral; only a confirmed post removes it.
        referral_id = request.POST.get("referral", "")
        chosen = next((r for r in summary.referrals.all() if str(r.pk) == referral_id), None)
        if chosen is None:
            messages.error(request, "That referral is not on this summary.")
            return redirect("treatment:discharge", episode_id=episode_id)
        if request.POST.get("confirm") != "1" and summary.status == SummaryStatus.DRAFT:
            confirm_remove = chosen
            action = ""
        else:
            with refusals(request, flash=True):
                services.discharge_summary_remove_referral(
                    summary=summary, referral_id=chosen.pk, by=actor
                )
                messages.success(request, f"Removed the referral to {chosen.name}.")
            return redirect("treatment:discharge", episode_id=episode_id)
    if action:
        with refusals(request, all_forms.get(action)) as refusal:
            try:
                if action == "start":
                    services.discharge_summary_start(episode=view.episode, by=actor)
                    return redirect("treatment:discharge", episode_id=episode_id)
                if summary is None:
                    raise RuleViolation("Start the summary first.", code="no_summary")
                if action == "refresh":
                    services.discharge_summary_refresh(summary=summary, by=actor)
                elif action == "goal":
                    services.discharge_summary_decide_goal(
                        summary=summary,
                        key=request.POST.get("key", ""),
                        met=request.POST.get("met") == "yes",
                        by=actor,
                    )
                elif action == "sign":
                    services.discharge_summary_sign(summary=summary, by=actor)
                    messages.success(request, "Signed and locked.")
                elif action in all_forms:
                    form = all_forms[action]
                    if not form.is_valid():
                        raise _Invalid
                    d = form.cleaned_data
                    if action == "save":
                        services.discharge_summary_update(
                            summary=summary,
                            expected_version=d.pop("version"),
                            by=actor,
                            **{k: d[k] for k in services.SUMMARY_TEXT_FIELDS},
                        )
                    elif action == "referral":
                        services.discharge_summary_add_referral(summary=summary, by=actor, **d)
                    else:
                        services.discharge_summary_copy_given(
                            summary=summary, how=d["how"], by=actor
                        )
                        messages.success(request, "Recorded that the patient received a copy.")
                return redirect("treatment:discharge", episode_id=episode_id)
            except _Invalid:
                pass
        if action not in all_forms:
            error = refusal.message
    context = {
        "episode": view.episode,
        "patient": view.episode.patient,
        "summary": summary,
        "facts": summary.facts if summary else {},
        "forms": all_forms,
        "error": error,
        "can_write": can_write,
        "confirm_remove": confirm_remove,
        "gaps": services.summary_gaps(summary)
        if summary is not None and summary.status == SummaryStatus.DRAFT
        else [],
    }
    return render(request, "treatment/discharge.html", context)


class _Invalid(Exception):
    """The posted form did not parse; its errors are shown."""


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def discharge_summary_pdf(request: HttpRequest, episode_id: int) -> HttpResponse:
    view = selectors.discharge_summary_get(
        actor=Actor.from_request(request), episode_id=episode_id, purpose="discharge_summary_print"
    )
    if view.summary is None:
        raise NotFound("This episode has no discharge summary yet.", code="no_summary")
    context = {
        "episode": view.episode,
        "patient": view.episode.patient,
        "summary": view.summary,
        "facts": view.summary.facts,
    }
    return pdf_response(
        request,
        "treatment/discharge_print.html",
        context,
        filename=f"discharge-summary-{view.episode.patient.mrn}.pdf",
    )


@staff_view(Cap.CLINICAL_VIEW, patient_data=True)
def plan_pdf(request: HttpRequest, treatment_plan_id: int) -> HttpResponse:
    """The plan version as a PDF (to review with the patient, or file)."""
    plan = selectors.plan_get(
        actor=Actor.from_request(request), plan_id=treatment_plan_id, purpose="treatment_plan_print"
    )
    return pdf_response(
        request,
        "treatment/plan_print.html",
        {"plan": plan, "patient": plan.patient, "episode": plan.episode},
        filename=f"treatment-plan-{plan.patient.mrn}-v{plan.number}.pdf",
    )

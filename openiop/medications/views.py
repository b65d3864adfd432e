"""Medication pages: a patient's list (with add, stop, allergies, adherence notes and MAT
episodes) and one MAT episode with the doses given in the clinic. Reads through selectors, every
write through one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation
from openiop.medications import domain, selectors, services
from openiop.medications.forms import (
    AdherenceForm,
    AllergyForm,
    DoseForm,
    MatEndForm,
    MatStartForm,
    MedicationForm,
    StopForm,
)
from openiop.ui.views_support import paginate, refusals, staff_view

READ = Cap.CLINICAL_VIEW


def _list_forms(post: Any, action: str) -> dict[str, forms.Form]:
    def bound(name: str) -> Any:
        return post if action == name else None

    return {
        "add": MedicationForm(bound("add"), prefix="med"),
        "allergy": AllergyForm(bound("allergy"), prefix="allergy"),
        "adherence": AdherenceForm(bound("adherence"), prefix="adh"),
        "mat": MatStartForm(bound("mat"), prefix="mat"),
    }


@staff_view(READ, patient_data=True, cache=True, cache_patient_kwarg="patient_id")
def medication_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The list (search and pages), allergies, MAT episodes, adherence notes; the forms that write
    them for those who record medications."""
    actor = Actor.from_request(request)
    q = request.GET.get("q", "").strip()[:100]
    data = selectors.medication_list(actor=actor, patient_id=patient_id, q=q)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    all_forms = _list_forms(request.POST, action)
    if action in all_forms:
        form = all_forms[action]
        if form.is_valid():
            with refusals(request, form):
                message = _apply(data.patient, action, form.cleaned_data, actor)
                messages.success(request, message)
                return redirect("medications:list", patient_id=patient_id)
    elif action:
        raise RuleViolation("Unknown action.", code="unknown_action")
    context = {
        "patient": data.patient,
        "data": data,
        "page": paginate(request, data.medications),
        "q": q,
        "forms": all_forms,
        "action": action,
        "can_write": request.user.can(Cap.MEDICATION_RECORD),  # type: ignore[union-attr]
        "can_see_tests": request.user.can(Cap.DRUGTEST_VIEW),  # type: ignore[union-attr]
    }
    return render(request, "medications/list.html", context)


def _apply(patient: Any, action: str, d: dict[str, Any], actor: Actor) -> str:
    if action == "add":
        med = services.medication_add(patient=patient, by=actor, **d)
        return f"{med.name} added to the list."
    if action == "allergy":
        services.allergy_add(patient=patient, by=actor, **d)
        return "Allergy recorded."
    if action == "adherence":
        services.adherence_note_add(patient=patient, text=d["text"], by=actor)
        return "Adherence note recorded."
    mat = services.mat_start(patient=patient, by=actor, **d)
    return f"MAT episode started: {mat.get_kind_display()}."


@staff_view(READ, patient_data=True)
def mat_detail(request: HttpRequest, mat_id: int) -> HttpResponse:
    """One MAT episode, its doses, and (nurses, prescribers) the dose form and the end form."""
    actor = Actor.from_request(request)
    mat = selectors.mat_get(actor=actor, mat_id=mat_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    dose_form = DoseForm(
        request.POST if action == "dose" else None,
        prefix="dose",
        injection=domain.needs_injection_site(mat.kind),
    )
    end_form = MatEndForm(request.POST if action == "end" else None, prefix="end")
    form = {"dose": dose_form, "end": end_form}.get(action)
    if form is not None and form.is_valid():
        d = form.cleaned_data
        with refusals(request, form):
            if action == "dose":
                services.dose_record(mat=mat, by=actor, **d)
                messages.success(request, "Dose recorded.")
            else:
                services.mat_end(mat=mat, ended_on=d["ended_on"], reason=d["reason"], by=actor)
                messages.success(request, "MAT episode ended.")
            return redirect("medications:mat", mat_id=mat.pk)
    context = {
        "mat": mat,
        "patient": mat.patient,
        "tz": mat.patient.site.tz,
        "dose_form": dose_form,
        "end_form": end_form,
        "can_write": request.user.can(Cap.MEDICATION_RECORD),  # type: ignore[union-attr]
    }
    return render(request, "medications/mat.html", context)


@require_POST
@staff_view(Cap.MEDICATION_RECORD, patient_data=True)
def medication_stop(request: HttpRequest, medication_id: int) -> HttpResponse:
    """Stop one medication from its row's button (the list's stop form posts here)."""
    actor = Actor.from_request(request)
    med = selectors.medication_get(actor=actor, medication_id=medication_id)
    form = StopForm({**request.POST.dict(), "medication": str(med.pk)})
    with refusals(request, flash=True):
        if not form.is_valid():
            raise RuleViolation(
                " ".join(str(e) for errs in form.errors.values() for e in errs),
                code="invalid",
            )
        services.medication_stop(
            medication=med,
            stop_date=form.cleaned_data["stop_date"],
            reason=form.cleaned_data["reason"],
            by=actor,
        )
        messages.success(request, f"{med.name} stopped.")
    return redirect("medications:list", patient_id=med.patient_id)

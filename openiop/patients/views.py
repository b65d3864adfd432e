"""Patient pages: list and search, registration, chart, demographics and contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.core.actor import Actor
from openiop.core.clock import local_today
from openiop.patients import selectors, services
from openiop.patients.domain import ADULT_AGE, age_on
from openiop.patients.forms import (
    DIFFERENT_PERSON,
    ContactForm,
    PatientCreateForm,
    PatientEditForm,
    PatientSearchForm,
)
from openiop.patients.matching import Person
from openiop.programs.selectors import active_sites_in_scope
from openiop.ui.views_support import paginate, refusals, staff_view

if TYPE_CHECKING:
    from openiop.programs.models import Site


@staff_view(Cap.PATIENT_DEMOGRAPHICS, patient_data=True)
def patient_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page = paginate(request, selectors.patient_search(actor=actor, query=query))
    page.object_list = list(page.object_list)
    selectors.patient_search_shown(actor=actor, query=query, patients=page.object_list)
    return render(request, "patients/list.html", {"form": form, "page": page, "query": query})


def _registration_sites(actor: Actor) -> QuerySet[Site]:
    user = actor.user
    assert user is not None
    sites = active_sites_in_scope(actor=actor, organization_id=user.organization_id)
    return sites.select_related("organization").order_by("name")


@staff_view(Cap.PATIENT_EDIT)
def patient_create(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    sites = _registration_sites(actor)
    form = PatientCreateForm(request.POST or None, sites=sites)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        site = data.pop("site")
        if not data.pop(DIFFERENT_PERSON, False):
            # Shown first: registering someone twice splits their chart (issue 13).
            duplicates = selectors.likely_duplicates(
                actor=actor,
                organization_id=site.organization_id,
                person=Person(
                    data["legal_first_name"], data["legal_last_name"], data["date_of_birth"], ""
                ),
                object_type="patient_duplicates",
                count_elsewhere=True,
            )
        if duplicates:
            form.ask_different_person(
                "A patient with this name and date of birth is already registered. Open their "
                "chart, or tick this box if this is a different person."
            )
        else:
            with refusals(request, form):
                patient = services.patient_create(
                    organization=site.organization, site=site, by=actor, **data
                )
                messages.success(request, f"Registered {patient.display_name} as {patient.mrn}.")
                return redirect("patients:chart", patient_id=patient.pk)
    return render(request, "patients/create.html", {"form": form, "duplicates": duplicates})


@staff_view(
    Cap.PATIENT_DEMOGRAPHICS, patient_data=True, cache=True, cache_patient_kwarg="patient_id"
)
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    chart = selectors.patient_chart(actor=Actor.from_request(request), patient_id=patient_id)
    patient = chart.patient
    age = age_on(patient.date_of_birth, local_today(patient.site.tz))
    context = {
        "chart": chart,
        "patient": patient,
        "age": age,
        "is_minor": age < ADULT_AGE,
        "has_guardian": any(c.is_legal_guardian for c in chart.contacts),
    }
    return render(request, "patients/chart.html", context)


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = selectors.patient_get(
        actor=actor, patient_id=patient_id, cap=Cap.PATIENT_EDIT, purpose="patient_edit"
    )
    if request.method == "POST":
        form = PatientEditForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            with refusals(request, form):
                saved = services.patient_update(
                    patient=patient, expected_version=version, by=actor, **data
                )
                if saved.version == version:
                    messages.info(request, "Nothing was changed, so nothing was saved.")
                else:
                    messages.success(request, "Demographics saved.")
                return redirect("patients:chart", patient_id=patient_id)
    else:
        initial = model_to_dict(patient, fields=list(services.PATIENT_FIELDS))
        form = PatientEditForm(initial={**initial, "version": patient.version})
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def contact_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = selectors.patient_get(
        actor=actor, patient_id=patient_id, cap=Cap.PATIENT_EDIT, purpose="patient_contact"
    )
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            contact = services.contact_add(patient=patient, by=actor, **form.cleaned_data)
            messages.success(request, f"Added {contact.name}.")
            return redirect("patients:chart", patient_id=patient_id)
    return render(request, "patients/contact_add.html", {"form": form, "patient": patient})


@staff_view(Cap.PATIENT_EDIT, patient_data=True)
def contact_remove(request: HttpRequest, patient_id: int, contact_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    contact = selectors.contact_get(actor=actor, patient_id=patient_id, contact_id=contact_id)
    if request.method == "POST":
        name = contact.name
        services.contact_remove(contact=contact, by=actor)
        messages.success(request, f"Removed {name} from the contacts.")
        return redirect("patients:chart", patient_id=patient_id)
    return render(
        request, "patients/contact_remove.html", {"contact": contact, "patient": contact.patient}
    )

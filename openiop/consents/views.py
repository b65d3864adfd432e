"""Staff pages of 42 CFR Part 2 consents and of the accounting of disclosures."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from openiop.accounts.domain import Cap
from openiop.audit.choices import AuditAction
from openiop.consents import domain, selectors, services
from openiop.consents.choices import ConsentSource, RecipientKind
from openiop.consents.forms import ConsentForm, RevokeForm
from openiop.core.actor import Actor
from openiop.ui.fields import parse_id
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import paginate, refusals, staff_view


@staff_view(Cap.CONSENT_VIEW, patient_data=True)
def consent_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = selectors.patient_for(
        actor=actor, patient_id=patient_id, cap=Cap.CONSENT_VIEW, purpose="consent_list"
    )
    return render(
        request,
        "consents/list.html",
        {
            "patient": patient,
            "consents": selectors.consents_of(patient),
            "unlinked": selectors.unlinked_intake_consents(patient),
            "now": timezone.now(),
        },
    )


@staff_view(Cap.CONSENT_MANAGE, patient_data=True)
def consent_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = selectors.patient_for(
        actor=actor, patient_id=patient_id, cap=Cap.CONSENT_MANAGE, purpose="consent_add"
    )
    document = selectors.intake_consent_document(patient, parse_id(request.GET.get("document")))
    initial: dict[str, object] = {"signed_by_relationship": "patient"}
    if document is not None and document.signed_at is not None:
        initial.update(
            information=document.details.get("information", ""),
            recipient_name=document.details.get("recipients", ""),
            signed_by_name=document.signed_name,
            signed_by_relationship=document.signer_relationship or "patient",
            signed_on=document.signed_at.date(),
            effective_on=document.signed_at.date(),
        )
    form = ConsentForm(
        request.POST or None, initial=initial, payers=selectors.payer_choices(patient)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identifier = data["recipient_identifier"]
        name = data["recipient_name"]
        if data["recipient_kind"] == RecipientKind.PAYER and data["payer"]:
            identifier = f"payer:{data['payer']}"
            name = name or dict(selectors.payer_choices(patient)).get(data["payer"], "")
        signed_on: dt.date = data["signed_on"]
        with refusals(request, form):
            services.consent_record(
                patient=patient,
                information=data["information"],
                recipient_kind=data["recipient_kind"],
                recipient_name=name,
                recipient_identifier=identifier,
                purpose=data["purpose"],
                effective_on=data["effective_on"],
                expires_on=data["expires_on"],
                expiry_event=data["expiry_event"] or "",
                signed_by_name=data["signed_by_name"],
                signed_by_relationship=data["signed_by_relationship"],
                signed_at=dt.datetime.combine(signed_on, dt.time(12, 0), tzinfo=patient.site.tz),
                source=ConsentSource.INTAKE_PACKET if document else ConsentSource.PAPER,
                intake_document=document,
                by=actor,
            )
            messages.success(request, "Consent recorded.")
            return redirect("consents:patient_consents", patient_id=patient.pk)
    return render(
        request,
        "consents/add.html",
        {
            "patient": patient,
            "form": form,
            "document": document,
            "tpo_words": domain.TPO_CLASS_WORDS,
        },
    )


@staff_view(Cap.CONSENT_MANAGE, patient_data=True)
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    consent = selectors.consent_get(actor=actor, consent_id=consent_id, cap=Cap.CONSENT_MANAGE)
    form = RevokeForm(request.POST or None, initial={"version": consent.version})
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            services.consent_revoke(
                consent=consent,
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
                by=actor,
            )
            messages.success(request, "Consent revoked: it covers no disclosure from now on.")
            return redirect("consents:patient_consents", patient_id=consent.patient_id)
    return render(
        request,
        "consents/revoke.html",
        {"consent": consent, "patient": consent.patient, "form": form},
    )


@staff_view(Cap.CONSENT_VIEW, patient_data=True)
def disclosure_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    patient = selectors.patient_for(
        actor=actor, patient_id=patient_id, cap=Cap.CONSENT_VIEW, purpose="disclosures"
    )
    since = domain.accounting_since(timezone.localdate(timezone=patient.site.tz))
    page = paginate(request, selectors.disclosures_of(patient, since=since))
    return render(
        request,
        "consents/disclosures.html",
        {"patient": patient, "page": page, "since": since},
    )


@staff_view(Cap.CONSENT_VIEW, patient_data=True)
def disclosure_pdf(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The accounting of disclosures the patient may obtain (42 CFR 2.25), as PDF; audited as an
    export of the patient's record."""
    actor = Actor.from_request(request)
    patient = selectors.patient_for(
        actor=actor,
        patient_id=patient_id,
        cap=Cap.CONSENT_VIEW,
        purpose="disclosures_pdf",
        action=AuditAction.EXPORT,
    )
    today = timezone.localdate(timezone=patient.site.tz)
    since = domain.accounting_since(today)
    return pdf_response(
        request,
        "consents/disclosures_print.html",
        {
            "patient": patient,
            "disclosures": list(selectors.disclosures_of(patient, since=since)),
            "since": since,
            "today": today,
        },
        filename=f"disclosures-{patient.mrn}.pdf",
    )

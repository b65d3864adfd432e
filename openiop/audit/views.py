from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.domain import Cap
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditAction
from openiop.audit.selectors import audit_search
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.patients.models import Patient
from openiop.web.views_support import paginate, staff_view


@staff_view(Cap.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = AuditFilterForm(request.GET or None)
    entries = None
    patient = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        mrn = (data.get("patient") or "").strip()
        patient_id = None
        if mrn:
            patient = Patient.objects.filter(mrn__iexact=mrn).only("id", "mrn").first()
            patient_id = patient.pk if patient else -1
        entries = audit_search(
            actor=actor,
            patient_id=patient_id,
            username=data.get("user") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outcome=data.get("outcome") or "",
        )
    page = paginate(request, entries if entries is not None else [], per_page=50)
    page.object_list = list(page.object_list)  # read before this search is itself logged
    if entries is not None:
        data = form.cleaned_data if request.GET else {}
        audit_record(
            actor,
            action=AuditAction.SEARCH,
            object_type="audit_log",
            patient_id=patient_id if patient_id and patient_id > 0 else None,
            detail={k: str(v) for k, v in data.items() if v},
        )
    return render(request, "audit/log.html", {"form": form, "page": page, "patient": patient})

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone
from markupsafe import Markup

from openiop.accounts.domain import Cap
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.selectors import audit_search
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.patients.models import Patient
from openiop.web.views_support import paginate, staff_view

# What a row of the log shows, read as plain tuples: a page holds 50 entries, and building model
# instances (with each entry's JSON detail decoded) cost more than reading them.
ROW_FIELDS = (
    "id",
    "at",
    "username",
    "role",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "outcome",
    "client_addr",
    "channel",
    "path",
)
ACTION_LABELS = dict(AuditAction.choices)
OUTCOME_LABELS = dict(AuditOutcome.choices)
ROWS_KEPT = 20_000

# An entry never changes (the log is append-only), so the table row that shows it is rendered once
# per process and time zone and then reused: most of a search's page was on its last page too.
_rows: OrderedDict[tuple[int, str], str] = OrderedDict()
_rows_lock = threading.Lock()


def rendered_rows(rows: list[Any]) -> list[Markup]:
    """The <tr> of each entry (ROW_FIELDS tuples), in that order."""
    zone = timezone.get_current_timezone_name()
    with _rows_lock:
        known = {r.id: _rows[(r.id, zone)] for r in rows if (r.id, zone) in _rows}
    missing = [r for r in rows if r.id not in known]
    if missing:
        template = get_template("audit/_row.html")
        for row in missing:
            known[row.id] = template.render(
                {"e": row, "actions": ACTION_LABELS, "outcomes": OUTCOME_LABELS}
            )
        with _rows_lock:
            for row in missing:
                _rows[(row.id, zone)] = known[row.id]
            while len(_rows) > ROWS_KEPT:
                _rows.popitem(last=False)
    return [Markup(known[r.id]) for r in rows]


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
    rows = entries.values_list(*ROW_FIELDS, named=True) if entries is not None else []
    page = paginate(request, rows, per_page=50)
    page.object_list = rendered_rows(list(page.object_list))  # before this search is logged
    if entries is not None:
        data = form.cleaned_data if request.GET else {}
        audit_record(
            actor,
            action=AuditAction.SEARCH,
            object_type="audit_log",
            patient_id=patient_id if patient_id and patient_id > 0 else None,
            detail={k: str(v) for k, v in data.items() if v},
        )
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "page": page,
            "patient": patient,
        },
    )

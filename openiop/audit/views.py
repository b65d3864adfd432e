from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from markupsafe import Markup

from openiop.accounts.domain import Cap
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.selectors import audit_search, entries_by_id
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.pagecache.cache import page_shell
from openiop.patients.selectors import patient_id_by_mrn
from openiop.web.views_support import paginate, staff_view

ACTION_LABELS = dict(AuditAction.choices)
OUTCOME_LABELS = dict(AuditOutcome.choices)
ROWS_KEPT = 20_000

# An entry never changes (the log is append-only), so the table row that shows it is rendered once
# per process and time zone and then reused: most of a search's page was on its last page too.
_rows: OrderedDict[tuple[int, str, str], str] = OrderedDict()
_rows_lock = threading.Lock()


def rendered_rows(
    entries: list[tuple[int, Any]], rows: dict[int, Any] | None = None
) -> list[Markup]:
    """The <tr> of each (id, time) entry, in that order; only entries not shown before are
    rendered, from `rows` (id to AuditRow) where given, else read."""
    zone = timezone.get_current_timezone_name()
    keys = [(i, str(at), zone) for i, at in entries]
    with _rows_lock:
        shown = {k: _rows[k] for k in keys if k in _rows}
    missing = {k[0]: k for k in keys if k not in shown}
    if missing:
        template = get_template("audit/_row.html")
        given = [rows[i] for i in missing if rows and i in rows]
        unread = [i for i in missing if not rows or i not in rows]
        for row in [*given, *(entries_by_id(unread) if unread else [])]:
            shown[missing[row.id]] = template.render(
                {"e": row, "actions": ACTION_LABELS, "outcomes": OUTCOME_LABELS}
            )
        with _rows_lock:
            for key in missing.values():
                _rows[key] = shown[key]
            while len(_rows) > ROWS_KEPT:
                _rows.popitem(last=False)
    return [Markup(shown[k]) for k in keys]


PER_PAGE = 50
KEPT = 1_000

# Per process, by query string: the filters a valid form cleaned from it (a form cleans the same
# text the same way), and the ids the last page of that search showed, whose rows are rendered
# already (audit_search's `known`).
_filters: OrderedDict[str, dict[str, Any]] = OrderedDict()
_last_ids: OrderedDict[str, list[int]] = OrderedDict()


def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
    with _rows_lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > KEPT:
            store.popitem(last=False)


def _expected_page(request: HttpRequest) -> slice:
    """The entries the requested page shows, if it is in range (else the paginator asks again)."""
    raw = request.GET.get("page", "1")
    number = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    return slice((number - 1) * PER_PAGE, number * PER_PAGE)


@staff_view(Cap.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    query = request.META.get("QUERY_STRING", "")
    data = _filters.get(query) if request.GET else {}
    form = None
    if data is None:
        form = AuditFilterForm(request.GET)
        if form.is_valid():
            data = dict(form.cleaned_data)
            _remember(_filters, query, data)
    entries = None
    patient_id = None
    if data is not None:
        mrn = (data.get("patient") or "").strip()
        if mrn:
            patient_id = patient_id_by_mrn(mrn) or -1
        entries = audit_search(
            actor=actor,
            patient_id=patient_id,
            username=data.get("user") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outcome=data.get("outcome") or "",
            expected=_expected_page(request),
            known=_last_ids.get(query, []),
        )
    page = paginate(request, entries if entries is not None else [], per_page=PER_PAGE)
    shown = list(page.object_list)
    # Before this search is logged, so the page shows the log as it was when asked.
    page.object_list = rendered_rows(shown, entries.rows if entries is not None else None)
    if entries is not None and data is not None:
        _remember(_last_ids, query, [i for i, _at in shown])
        audit_record(
            actor,
            action=AuditAction.SEARCH,
            object_type="audit_log",
            patient_id=patient_id if patient_id and patient_id > 0 else None,
            detail={k: str(v) for k, v in data.items() if v},
        )
    results = get_template("audit/_results.html").render({"page": page}, request)
    # The layout and the filter form around the results are the same on every search of one
    # path by one user: rendered once and kept (page_shell); only the results are new each time.
    before, after = page_shell(
        request,
        "audit.views.audit_log",
        lambda mark: render_to_string(
            "audit/log.html",
            {"form": form or AuditFilterForm(request.GET or None), "results": Markup(mark)},
            request,
        ),
    )
    return HttpResponse(before + results + after)

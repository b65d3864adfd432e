from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from markupsafe import Markup

from openiop.accounts.domain import Cap
from openiop.audit.forms import AuditFilterForm
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.selectors import PatientCell, audit_search, entries_by_id
from openiop.audit.services import audit_record
from openiop.core.actor import Actor
from openiop.pagecache.cache import page_shell
from openiop.patients.selectors import patient_id_by_mrn
from openiop.ui.fields import parse_id
from openiop.ui.views_support import paginate, staff_view

ACTION_LABELS = dict(AuditAction.choices)
OUTCOME_LABELS = dict(AuditOutcome.choices)


class Kept:
    """A bounded map kept per process and shared by its threads: the oldest key goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._items.get(key)

    def get_many(self, keys: list[Any]) -> dict[Any, Any]:
        with self._lock:
            return {k: self._items[k] for k in keys if k in self._items}

    def put_many(self, items: dict[Any, Any]) -> None:
        with self._lock:
            for key, value in items.items():
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# An entry never changes (the log is append-only), so the table row that shows it is rendered once
# per process and time zone and then reused (all but its patient cell): most of a search's page was on its last page too.
_rows = Kept(20_000)


def rendered_rows(
    entries: list[tuple[int, Any]],
    rows: dict[int, Any] | None = None,
    patients: dict[int, PatientCell] | None = None,
) -> list[Markup]:
    """The <tr> of each (id, time) entry, in that order; only entries not shown before are
    rendered, from `rows` (id to AuditRow) where given, else read.

    An entry's time is shown in the zone of its patient's site (`patients`, see PatientCell), an
    entry naming no patient in the current zone (the user's home zone, set by staff_view). The
    patient cell (MRN and name, as they are now) is filled in on every page, never kept."""
    patients = patients or {}
    default = timezone.get_current_timezone_name()
    keys = []
    for i, at in entries:
        cell = patients.get(i)
        keys.append((i, str(at), cell.zone if cell is not None and cell.zone else default))
    shown = _rows.get_many(keys)
    missing = {k[0]: k for k in keys if k not in shown}
    if missing:
        given = rows or {}
        unread = [i for i in missing if i not in given]
        template = get_template("audit/_row.html")
        new = {
            missing[row.id]: template.render(
                {
                    "e": row,
                    "zone": ZoneInfo(missing[row.id][2]),
                    "actions": ACTION_LABELS,
                    "outcomes": OUTCOME_LABELS,
                }
            )
            for row in [*(given[i] for i in missing if i in given), *entries_by_id(unread)]
        }
        _rows.put_many(new)
        shown.update(new)
    return [Markup(shown[k].replace(PATIENT_SLOT, _patient_cell(patients.get(k[0])))) for k in keys]


# Where a kept row's patient cell goes (audit/_row.html).
PATIENT_SLOT = "<!--patient-->"


def _patient_cell(cell: PatientCell | None) -> str:
    if cell is None:
        return ""
    among = " (with others)" if cell.among else ""
    return str(Markup("{} · {}{}").format(cell.mrn, cell.name, among))


PER_PAGE = 50

# Per process, by query string: the filters a valid form cleaned from it (a form cleans the same
# text the same way), and the ids the last page of that search showed, whose rows are rendered
# already (audit_search's `known`).
_filters = Kept(1_000)
_last_ids = Kept(1_000)


def _expected_page(request: HttpRequest) -> slice:
    """The entries the requested page shows, if it is in range (else the paginator asks again)."""
    raw = request.GET.get("page", "1")
    number = parse_id(raw) or 1
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
            _filters.put_many({query: data})
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
            known=_last_ids.get(query) or [],
        )
    page = paginate(request, entries if entries is not None else [], per_page=PER_PAGE)
    shown = list(page.object_list)
    # Before this search is logged, so the page shows the log as it was when asked.
    page.object_list = rendered_rows(
        shown,
        entries.rows if entries is not None else None,
        entries.patients if entries is not None else None,
    )
    if entries is not None and data is not None:
        _last_ids.put_many({query: [i for i, _at in shown]})
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

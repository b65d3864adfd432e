"""How every staff page is wrapped: login, role capability, DomainError mapping, patient-data marker.

`staff_view(cap, patient_data=True)` marks a view as showing patient data; the audit test walks every
URL whose view carries the marker and checks that visiting it wrote an audit entry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.audit.services import patients_if_denied
from openiop.core.actor import Actor
from openiop.core.errors import Conflict, DomainError, NotFound, NotPermitted
from openiop.pagecache.cache import cached_page
from openiop.ui.url_patients import url_patients

ViewFunc = Callable[..., HttpResponse]

PAGE_SIZE = 25


def staff_view(
    cap: Cap | None = None,
    *,
    patient_data: bool = False,
    cache: bool = False,
    cache_patient_kwarg: str | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a staff page: requires login and (when given) a capability; maps DomainErrors.

    `cache=True` serves the page from the page cache while its sites' data is unchanged
    (openiop.pagecache.cache.cached_page, ADR 12), always inside the login and capability checks
    above, so a refusal is never cached. A page about one patient names the URL argument that
    holds the patient's id in `cache_patient_kwarg` (their episodes at other sites count too).
    The view of a cached page may write nothing on GET but audit entries (a page served from the
    cache replays those and nothing else): CONTRIBUTING.md, "Cached pages".

    A missing capability is audited as a denied attempt and answered 403 with a page that says why.
    Any other DomainError that escapes the view is answered by `error_response` (the one mapping),
    and a form the view re-renders after `refusals` caught an error gets that error's status.
    Every refusal while the view runs names the patients of the record the URL names
    (ui.url_patients, looked up only on refusal) unless the check names its patient itself.
    Times that belong to no site are shown in the user's home zone (User.home_zone_name), which
    accounts.middleware makes the current time zone for every staff request.
    """

    if cache_patient_kwarg is not None and not cache:
        raise TypeError("cache_patient_kwarg is an option of a cached page (cache=True)")

    def decorator(view: ViewFunc) -> ViewFunc:
        page = cached_page(view, patient_kwarg=cache_patient_kwarg) if cache else view

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = Actor.from_request(request)
            try:
                with patients_if_denied(lambda: url_patients(kwargs)):
                    if cap is not None:
                        require(actor, cap, object_type=view.__name__)
                    response = page(request, *args, **kwargs)
            except DomainError as exc:
                return error_response(request, exc)
            refused_status = getattr(request, REFUSED_STATUS, None)
            if refused_status is not None and response.status_code == 200:
                response.status_code = refused_status
            return response

        wrapped.patient_data = patient_data  # type: ignore[attr-defined]
        wrapped.required_cap = cap  # type: ignore[attr-defined]
        wrapped.cached = cache  # type: ignore[attr-defined]
        wrapped.cache_patient_kwarg = cache_patient_kwarg  # type: ignore[attr-defined]
        return wrapped

    return decorator


# The one mapping of the DomainError tree to a web answer (issue 15; the CLI's is core.cli).
ERROR_PAGES = {
    NotPermitted: "ui/denied.html",
    NotFound: "ui/not_found.html",
}
REFUSED_STATUS = "_openiop_refused_status"


def wants_problem_json(request: HttpRequest) -> bool:
    """An API request: a path under /api/ or a client that asks for JSON rather than a page."""
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or ("json" in accept and "text/html" not in accept)


def error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Answer a DomainError that stopped a request, with the status its class names.

    An API request gets an RFC 9457 problem+json body (DomainError.as_problem); a page request gets
    a page that says why: 403 (the refusal is already audited), 404, 409 (someone else changed the
    record: reload and try again) or 400 (a rule stopped the action).
    """
    if wants_problem_json(request):
        return JsonResponse(
            exc.as_problem(), status=exc.http_status, content_type="application/problem+json"
        )
    template = next(
        (t for cls, t in ERROR_PAGES.items() if isinstance(exc, cls)), "ui/refused.html"
    )
    context = {"message": exc.message, "conflict": isinstance(exc, Conflict)}
    return render(request, template, context, status=exc.http_status)


@dataclass
class Refusal:
    """What a `refusals` block ended with: `error` is None when the service call went through."""

    error: DomainError | None = None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def field(self) -> str:
        return (self.error.field or "") if self.error else ""

    @property
    def status(self) -> int:
        """200 when nothing was refused, 409 for a conflict, 422 for any other rule."""
        if self.error is None:
            return 200
        return 409 if isinstance(self.error, Conflict) else 422


@contextmanager
def refusals(request: HttpRequest, form: Any = None, *, flash: bool = False) -> Iterator[Refusal]:
    """The one way a view turns a DomainError from a service call into an answer the user can fix.

        with refusals(request, form):
            services.thing_save(...)
            return redirect(...)          # only reached when the call went through
        return render(request, "thing.html", {"form": form})   # the form, with what was typed

    A DomainError raised in the block stops it and is kept on the yielded Refusal. With `form`, it
    is attached to the form (on its field when it names one; form_error). With `flash=True`, it is
    shown as an error message instead: the variant for buttons that redirect back to a page (an
    error message on a redirect is a refusal to core.submissions). The page re-rendered afterwards
    is answered 422, or 409 for a conflict (staff_view sets it; an htmx fragment passes
    `refusal.status` itself). A refusal (NotPermitted) is never caught here: staff_view answers it
    403, audited.
    """
    outcome = Refusal()
    try:
        yield outcome
    except NotPermitted:
        raise
    except DomainError as exc:
        outcome.error = exc
        if form is not None:
            form_error(form, exc)
        if flash:
            messages.error(request, exc.message)
        setattr(request, REFUSED_STATUS, outcome.status)


def paginate(request: HttpRequest, items: Any, per_page: int = PAGE_SIZE) -> Page[Any]:
    """One page of `items` from ?page=N (out-of-range pages show the last page)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def form_error(form: Any, exc: DomainError) -> None:
    """Attach a DomainError to a bound form, on its field when it names one, keeping what was typed.

    A refusal (NotPermitted) is not a form error: it is raised again, so the view answers 403 and
    the refusal stays audited, whatever the view caught.
    """
    if isinstance(exc, NotPermitted):
        raise exc
    field = exc.field if exc.field and exc.field in form.fields else None
    form.add_error(field, exc.message)

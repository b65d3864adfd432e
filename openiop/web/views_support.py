"""How every staff page is wrapped: login, role capability, DomainError mapping, patient-data marker.

`staff_view(cap, patient_data=True)` marks a view as showing patient data; the audit test walks every
URL whose view carries the marker and checks that visiting it wrote an audit entry.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openiop.accounts.access import require
from openiop.accounts.domain import Cap
from openiop.audit.services import patients_if_denied
from openiop.core.actor import Actor
from openiop.core.errors import DomainError, NotFound, NotPermitted
from openiop.pagecache.cache import cached_page
from openiop.web.url_patients import url_patients

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
    Every refusal while the view runs names the patients of the record the URL names
    (web.url_patients, looked up only on refusal) unless the check names its patient itself.
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
                    return page(request, *args, **kwargs)
            except NotPermitted as exc:
                return render(request, "web/denied.html", {"message": exc.message}, status=403)
            except NotFound as exc:
                return render(request, "web/not_found.html", {"message": exc.message}, status=404)

        wrapped.patient_data = patient_data  # type: ignore[attr-defined]
        wrapped.required_cap = cap  # type: ignore[attr-defined]
        wrapped.cached = cache  # type: ignore[attr-defined]
        wrapped.cache_patient_kwarg = cache_patient_kwarg  # type: ignore[attr-defined]
        return wrapped

    return decorator


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

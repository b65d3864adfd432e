"""Staff pages served from a cache until the data they show changes.

A cached page is keyed by who asks (user, role, sites and their CSRF secret, which the page's forms
carry), what they asked for (the view and the full path with its query), a five-minute time bucket
(for what a page works out from the clock: "today", days since admission) and the data generation
of the sites the page can show: the sum of DataGeneration over those sites and site 0, which the
database triggers in triggers.py raise in the same transaction as any change there. A change at
one site leaves the other sites' pages cached.

Serving from the cache still does everything that must happen on every request: the login, role
and two-factor checks (in the middleware and staff_view, before this runs), and the audit entries
the page wrote when it was rendered, written again for this request (capture_entries and
replay_entries). Refusals are never cached: they raise before anything is stored.

Not cached: anything but GET, htmx partial requests, a request with a message waiting to be shown,
a request without a CSRF cookie yet, any answer other than 200, everything on SQLite, and anything
while the counting triggers do not match the models (`triggers_ready`: checked once per process,
then again a minute later while they do not).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse

from openiop.accounts.access import limited_site_ids
from openiop.audit.services import capture_entries, replay_entries
from openiop.core.actor import Actor
from openiop.core.submissions import refresh_tokens
from openiop.pagecache import triggers
from openiop.pagecache.models import DataGeneration

CACHE_ALIAS = "pages"
BUCKET_SECONDS = 300
HEADER = "X-OpenIOP-Page-Cache"

RECHECK_SECONDS = 60

ViewFunc = Callable[..., HttpResponse]

logger = logging.getLogger(__name__)

# Per database alias: whether its triggers matched the models, and when that was last looked at.
_trigger_check: dict[str, tuple[bool, float]] = {}


def triggers_ready() -> bool:
    """Whether the counting triggers match the models (triggers.problems), so a cached page can
    be trusted to be rendered again when its data changes. Asked once per process while they
    match; while they do not, at most once a minute, with an error logged each time."""
    alias = connection.alias
    ready, checked_at = _trigger_check.get(alias, (False, -RECHECK_SECONDS))
    if ready or time.monotonic() - checked_at < RECHECK_SECONDS:
        return ready
    found = triggers.problems(alias)
    if found:
        logger.error(
            "Page cache off: the counting triggers do not match the models (%s); "
            "run `openiop pagecache_triggers`.",
            "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else ""),
        )
    _trigger_check[alias] = (not found, time.monotonic())
    return not found


def enabled() -> bool:
    return (
        bool(getattr(settings, "OPENIOP_PAGE_CACHE", True))
        and connection.vendor == "postgresql"
        and triggers_ready()
    )


def generation(site_ids: set[int] | None, patient_id: int | None = None) -> int:
    """The data generation of `site_ids` (None: every site) plus site 0, and with `patient_id`
    of every site where that patient has an episode. One query."""
    table = connection.ops.quote_name(DataGeneration._meta.db_table)
    with connection.cursor() as cursor:
        if site_ids is None:
            cursor.execute(f"SELECT coalesce(sum(n), 0) FROM {table}")
        elif patient_id is None:
            cursor.execute(
                f"SELECT coalesce(sum(n), 0) FROM {table} WHERE site_id = ANY(%s)",
                [[0, *sorted(site_ids)]],
            )
        else:
            from openiop.episodes.models import Episode

            episodes = connection.ops.quote_name(Episode._meta.db_table)
            cursor.execute(
                f"SELECT coalesce(sum(n), 0) FROM {table} WHERE site_id = ANY(%s) OR site_id IN "
                f"(SELECT site_id FROM {episodes} WHERE patient_id = %s)",
                [[0, *sorted(site_ids)], patient_id],
            )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _cacheable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and request.headers.get("HX-Request") != "true"
        and settings.CSRF_COOKIE_NAME in request.COOKIES
        and "_messages" not in request.session
        and enabled()
    )


def _sites(request: HttpRequest) -> set[int] | None:
    """The sites whose data the user's pages can show (None: every site)."""
    return limited_site_ids(Actor(request.user))  # type: ignore[arg-type]


def _key(request: HttpRequest, view: str, sites: set[int] | None, gen: int) -> str:
    user = request.user
    parts = (
        view,
        request.get_full_path(),
        user.pk,
        getattr(user, "role", ""),
        "all" if sites is None else sorted(sites),
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        int(time.time() // BUCKET_SECONDS),
        gen,
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


MARK = "\x00openiop-results\x00"


def page_shell(request: HttpRequest, name: str, render: Callable[[str], str]) -> tuple[str, str]:
    """The page around a view's results, as (before, after): `render(MARK)` renders the whole
    page with MARK where the results go, and is called only when the shell is not cached.

    For a page whose results change on every request (the audit log shows its own searches) but
    whose shell does not: the layout, navigation and filter form depend only on who asks and what
    they asked, so the shell is keyed by the view and full path, the user, their name, role and
    sites, their CSRF secret and the time bucket (cached_page's key without the data
    generation). Rendered afresh whenever cached_page would not cache.
    """
    cacheable = _cacheable(request)
    if cacheable:
        user = request.user
        name = f"{name}#shell#{user.get_full_name()}"  # type: ignore[union-attr]
        key = _key(request, name, _sites(request), 0)
        shell = caches[CACHE_ALIAS].get(key)
        if shell is not None:
            return shell  # type: ignore[no-any-return]
    before, found, after = render(MARK).partition(MARK)
    if cacheable and found:
        caches[CACHE_ALIAS].set(key, (before, after))
    return before, after


def cached_page(view: ViewFunc, *, patient_kwarg: str | None = None) -> ViewFunc:
    """`view` served from the cache while its sites' data is unchanged (see module doc).

    Applied by ui.views_support.staff_view(cache=True), inside its login and capability checks;
    never on its own. `patient_kwarg` names the URL argument of a page about one patient, whose
    episodes at other sites the page may show too.
    """
    name = f"{view.__module__}.{view.__qualname__}"

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        sites = _sites(request)
        patient_id = kwargs.get(patient_kwarg) if patient_kwarg else None
        key = _key(request, name, sites, generation(sites, patient_id))
        store = caches[CACHE_ALIAS]
        hit = store.get(key)
        if hit is not None:
            content, content_type, entries = hit
            replay_entries(Actor.from_request(request), entries)
            # Each page served carries its own single-use form tokens.
            response = HttpResponse(refresh_tokens(content), content_type=content_type)
            response[HEADER] = "hit"
            return response
        with capture_entries() as entries:
            response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not response.has_header("Content-Disposition")
        ):
            store.set(key, (response.content, response["Content-Type"], entries))
            response[HEADER] = "miss"
        return response

    return wrapped

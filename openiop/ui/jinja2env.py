"""The Jinja2 environment for every page: url(), static(), csrf, messages, nav, formatting.

What an app decides for a page (the patient header's risk level, whether to offer Discharge) is
added on top by the roof (web.jinja2env): ui imports no app above it."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from jinja2 import Environment, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from openiop.accounts.access import home_path
from openiop.accounts.domain import Cap
from openiop.core.dates import format_local
from openiop.core.submissions import submission_input


@pass_context
def url(context: Context, name: str, *args: Any, **kwargs: Any) -> str:
    """reverse(), remembered: a roster or the Today board reverses the same few patterns for every
    row. The key holds everything reverse() depends on (URLconf, script prefix, arguments).

    The current URLconf and script prefix are per-request values in context-local storage, which
    costs more to read than the cached reverse; they cannot change during a request, so they are
    read on the page's first url() and kept on the request (Today calls url() about 100 times)."""
    request = context.get("request")
    where = getattr(request, _URL_KEY, None)
    if where is None:
        where = (get_urlconf(), get_script_prefix())
        if request is not None:
            setattr(request, _URL_KEY, where)
    try:
        return _reverse_cached(
            settings.ROOT_URLCONF,
            where[0],
            where[1],
            name,
            args,
            tuple(sorted(kwargs.items())) if kwargs else (),
        )
    except TypeError:  # an unhashable argument: reverse it afresh
        return reverse(name, args=args or None, kwargs=kwargs or None)


_URL_KEY = "_openiop_url_where"


@functools.lru_cache(maxsize=8192)
def _reverse_cached(
    _root: str,
    _urlconf: Any,
    _prefix: str,
    name: str,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> str:
    return reverse(name, args=args or None, kwargs=dict(kwargs) or None)


def querystring(request: Any, **changes: Any) -> str:
    """The current query string with some keys changed (for pagination and filters)."""
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(list(params.lists()), doseq=True)


def fmt_date(value: dt.date | None, fmt: str = "%a %b %-d, %Y") -> str:
    return value.strftime(fmt) if value else "—"


def fmt_time(value: dt.datetime | dt.time | None, tz: Any = None) -> str:
    """An instant's clock time with its zone (see fmt_datetime); a wall-clock time of day (a
    schedule block's start, already the site's) as it is."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return format_local(
            value, tz if tz is not None else timezone.get_current_timezone(), with_date=False
        )
    return value.strftime("%-I:%M %p")


def fmt_datetime(value: dt.datetime | None, tz: Any = None) -> str:
    """An instant in `tz` with the zone's abbreviation (core.dates.format_local).

    `tz` is the zone of the site the time belongs to: the page's site, or on a list mixing sites
    each row's own (a note's site, an alert's patient's site, an audit entry's patient's site).
    A time that belongs to no site (an audit entry naming no patient, a login) is shown in the
    current time zone, which staff_view sets to the user's home zone (User.home_zone_name)."""
    if value is None:
        return "—"
    return format_local(value, tz if tz is not None else timezone.get_current_timezone())


def fmt_hours(minutes: int | Decimal | None) -> str:
    """Minutes shown as hours with one decimal, e.g. 570 -> '9.5 h'."""
    if minutes is None:
        return "—"
    hours = Decimal(minutes) / Decimal(60)
    return f"{hours.quantize(Decimal('0.1'))} h"


def csrf_input(request: Any) -> Markup:
    return _csrf_field(get_token(request))


def _csrf_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="csrfmiddlewaretoken" value="{}">').format(
        escape(token)
    )


class _Once:
    """A value computed on first use and kept for the rest of the render (markup-safe)."""

    def __init__(self, compute: Any) -> None:
        self._compute = compute
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = str(self._compute())
        return self._value

    def __html__(self) -> str:
        return str(self)


def csrf_once(request: Any) -> dict[str, Any]:
    """Context processor: Django's Jinja2 backend passes csrf_input and csrf_token as lazy values
    that mask a fresh token each time they are printed (a random 32-character mask): once per
    row's form on a roster. These compute it on first use only; still nothing (no CSRF cookie)
    for a page that shows no form."""
    token = _Once(lambda: get_token(request))
    return {"csrf_input": _Once(lambda: _csrf_field(str(token))), "csrf_token": token}


def can(request: Any, cap: str) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.can(Cap(cap)))


def environment(**options: Any) -> Environment:
    # Django's backend passes its own `undefined` (silent unless DEBUG); a page that names a
    # variable its view did not give must fail in the tests, not print an empty cell in a chart.
    options["undefined"] = StrictUndefined
    options["autoescape"] = True
    env = Environment(**options)
    env.globals.update(
        {
            "url": url,
            "static": static,
            "csrf_input_for": csrf_input,
            "get_messages": messages.get_messages,
            "querystring": querystring,
            "can": can,
            "home_path": home_path,
            "Cap": Cap,
            "submission_input": submission_input,
        }
    )
    env.filters.update(
        {"date": fmt_date, "time": fmt_time, "datetime": fmt_datetime, "hours": fmt_hours}
    )
    return env

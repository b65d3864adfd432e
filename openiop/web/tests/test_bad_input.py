"""No input makes a server error: every form field and query parameter answers bad input with a
message (a form error, a 400 or a 404), never a 500.

The test walks the URL configuration, so a page added tomorrow is covered the day it is added. For
each page it opens the page as several roles, reads every <form> on it (method, action, each
field's current value) and sends each form again with one field at a time replaced by each bad
value; then it sends the bad values in the query parameters the page reads (its GET forms, its
links, and the names its view reads from request.GET) and in each id of its URL.

Each form is first filled the way a person would (an empty text box gets text, an empty date
today's date, a select its first real choice), so that one bad field at a time reaches the save
and not only the "required" check. A value holding a NUL character must be refused with the
project's 400 (core.input_policy), whatever the field.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from openiop.core.clock import local_today
from openiop.core.submissions import FIELD as SUBMISSION_FIELD
from openiop.web.tests.test_audit_coverage import _patterns

BAD_VALUES: dict[str, str] = {
    "empty": "",
    "unknown": "zz-no-such-choice",
    "oversized": "x" * 100_000,
    "huge number": "99999999999999999999999",
    "negative": "-1",
    "far past": "0001-01-01",
    "far future": "9999-12-31",
    "digit int() refuses": "²",
    "NUL byte": "ab\x00cd",
}
HUGE_ID = "99999999999999999999999"
SENTINEL_ID = 987654321  # reversed into a URL, then replaced by HUGE_ID
ROLES: list[str | None] = ["director", "clinician", "intake", "billing", None]  # None: anonymous
SKIPPED_PREFIXES = ("/django-admin/", "/static/")
# Names a view reads from request.GET; paginate() reads "page".
_GET_READ = re.compile(r"""request\.GET(?:\.get|\.getlist|\[)\(?\s*["']([A-Za-z_][\w-]*)["']""")


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # name, current value
    names: list[str] = field(default_factory=list)  # every named control, sent or not
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons

    def signature(self) -> tuple[str, str, tuple[str, ...]]:
        path = re.sub(r"\d+", "N", urlsplit(self.action).path)
        return (self.method, path, tuple(sorted(set(self.names))))


class _FormParser(HTMLParser):
    """Every <form> of a page with what a browser would send for it, and every same-page link's
    query parameter names."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.link_params: set[str] = set()
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: tuple[str | None, bool] | None = None
        self._option_text = ""
        self._textarea: str | None = None
        self._textarea_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("?"):
            self.link_params.update(k for k, _ in parse_qsl(a["href"][1:], keep_blank_values=True))
        if tag == "form":
            action = a.get("action") or a.get("hx-post") or a.get("hx-get") or self.page_url
            method = "post" if "hx-post" in a else (a.get("method") or "get").lower()
            self._form = Form(method=method, action=urljoin(self.page_url, action))
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            form.names.append(name)
            if kind in ("submit", "image", "button"):
                form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind != "file":
                form.fields.append((name, a.get("value", "") or _plausible(kind, a)))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            form.names.append(name)
            form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            form.names.append(name)
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value"), "selected" in a)
            self._option_text = ""
        elif tag == "textarea" and name:
            form.names.append(name)
            self._textarea, self._textarea_text = name, ""

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option_text += data
        if self._textarea is not None:
            self._textarea_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._select is not None and self._option is not None:
            value, selected = self._option
            self._select[1].append(
                (self._option_text.strip() if value is None else value, selected)
            )
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, s in options if s and v] or [v for v, _ in options if v][:1]
            self._form.fields.extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = self._textarea_text.lstrip("\n")
            self._form.fields.append((self._textarea, text or "Fuzz text"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def _plausible(kind: str, attrs: dict[str, str]) -> str:
    """What a person would type in an empty input of this kind."""
    return {
        "hidden": "",
        "password": "",
        "search": "",
        "date": local_today(dt.UTC).isoformat(),
        "time": "10:00",
        "number": attrs.get("min") or "1",
        "email": "fuzz@example.org",
        "tel": "555-0100",
        "week": "",
    }.get(kind, "Fuzz text")


def _page_patterns() -> list[tuple[str, URLPattern]]:
    # The FHIR API takes a bearer token, not a session, and fuzzes its own parameters with
    # these values (openiop/fhir/tests/test_fhir_api.py::test_no_bad_search_value_is_a_server_error).
    return [(n, p) for n, p in _patterns(get_resolver()) if not n.startswith(("admin:", "fhir:"))]


def _names_read_by(pattern: URLPattern) -> set[str]:
    """The query parameter names the view's own source reads."""
    view = inspect.unwrap(pattern.callback)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return set()
    names = set(_GET_READ.findall(source))
    if "paginate(" in source or "page=request.GET" in source:
        names.add("page")
    return names


@dataclass
class Fuzz:
    client: Client
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def send(self, method: str, url: str, data: list[tuple[str, str]], what: str) -> None:
        self.sent += 1
        if method == "post":
            body: dict[str, list[str]] = {}
            for k, v in data:
                body.setdefault(k, []).append(v)
            response = self.client.post(url, body)
        else:
            response = self.client.get(url, data)
        nul = any("\x00" in v for _, v in data)
        if response.status_code >= 500 or (nul and response.status_code != 400):
            shown = what if len(what) < 200 else what[:200] + "…"
            self.failures.append(f"{response.status_code} {method.upper()} {url} {shown}")


def _with(data: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """`data` with every value of `name` replaced by `value` (added when the form left it out)."""
    kept = [(k, v) for k, v in data if k != name]
    return [*kept, (name, value)]


def _fuzz_form(fuzz: Fuzz, form: Form) -> None:
    base = [(k, v) for k, v in form.fields if k != SUBMISSION_FIELD]
    variants = [[*base, b] for b in dict(form.buttons).items()] or [base]
    for data in variants:
        for name in dict.fromkeys([*form.names, *(k for k, _ in data)]):
            for label, value in BAD_VALUES.items():
                fuzz.send(
                    form.method, form.action, _with(data, name, value), f"field {name}={label}"
                )


def _url(name: str, pattern: URLPattern, ids: dict[str, Any], swap: str | None = None) -> str:
    kwargs = {k: (SENTINEL_ID if k == swap else ids[k]) for k in pattern.pattern.converters}
    url = reverse(name, kwargs=kwargs)
    return url.replace(str(SENTINEL_ID), HUGE_ID) if swap else url


def _login(client: Client, world: Any, role: str | None) -> None:
    client.logout()
    if role is not None:
        client.force_login(world.users[role])


_seen_forms: set[tuple[str, str, tuple[str, ...]]] = set()  # a form shown on many pages, sent once


@pytest.fixture
def fuzz_world(world: Any, settings: Any) -> Any:
    from openiop.core.actor import Actor
    from openiop.episodes.models import Episode
    from openiop.measures.services import patient_link_create

    settings.AXES_FAILURE_LIMIT = 1_000_000  # the login form is sent many times on purpose
    episode = Episode.objects.get(pk=world.ids["episode_id"])
    issued = patient_link_create(
        episode=episode,
        purpose="questionnaire",
        instrument="phq9",
        by=Actor.cli(world.users["clinician"], "test"),
    )
    world.ids["token"] = issued.token
    # A second group session today whose note is not written yet, so the group-note form shows.
    from openiop.attendance.models import Attendance
    from openiop.programs.models import GroupSession

    session = GroupSession.objects.get(pk=world.ids["session_id"])
    bare = GroupSession.objects.create(
        site=session.site,
        track=session.track,
        kind="group_therapy",
        title="Skills group",
        date=session.date,
        starts_at=session.starts_at - dt.timedelta(hours=1),
        ends_at=session.starts_at,
        facilitator=world.users["clinician"],
        room=session.room,
    )
    Attendance.objects.create(
        session=bare,
        episode=episode,
        patient=episode.patient,
        status="present",
        minutes_attended=60,
        recorded_by=world.users["clinician"],
    )
    world.alternate_ids = {"session_id": bare.pk}
    return world


def _walk_page(fuzz: Fuzz, url: str, role: str | None, world: Any) -> set[str]:
    """Open `url` as `role` and send each form on it with bad values (each form once per run);
    returns the query parameter names the page's links and GET forms use."""
    page = fuzz.client.get(url)
    assert page.status_code < 500, f"{url} as {role}: {page.status_code}"
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return set()
    parser = _FormParser(url)
    parser.feed(page.content.decode())
    query_names = set(parser.link_params)
    for form in parser.forms:
        if urlsplit(form.action).netloc not in ("", "testserver"):
            continue
        if form.method == "get" and urlsplit(form.action).path == url:
            query_names.update(form.names)
        if form.signature() in _seen_forms:
            continue
        _seen_forms.add(form.signature())
        _fuzz_form(fuzz, form)
        _login(fuzz.client, world, role)  # a form may have signed the user out
    return query_names


@pytest.mark.parametrize(
    ("name", "pattern"), _page_patterns(), ids=[n for n, _ in _page_patterns()]
)
def test_no_bad_input_makes_a_server_error(
    name: str, pattern: URLPattern, fuzz_world: Any, mfa_passed: Any
) -> None:
    world = fuzz_world
    missing = [k for k in pattern.pattern.converters if k not in world.ids]
    assert not missing, f"add {missing} to the world fixture so {name} is covered"
    url = _url(name, pattern, world.ids)
    if url.startswith(SKIPPED_PREFIXES):
        return
    fuzz = Fuzz(Client(raise_request_exception=False))
    query_names = _names_read_by(pattern)
    alternates = [
        {**world.ids, k: v}
        for k, v in world.alternate_ids.items()
        if k in pattern.pattern.converters
    ]
    for ids in [world.ids, *alternates]:
        page_url = _url(name, pattern, ids)
        for role in ROLES:
            _login(fuzz.client, world, role)
            query_names |= _walk_page(fuzz, page_url, role, world)
    _login(fuzz.client, world, "director")
    for query in sorted(query_names):
        for label, value in BAD_VALUES.items():
            fuzz.send("get", url, [(query, value)], f"?{query}={label}")
    for kwarg in pattern.pattern.converters:
        if kwarg.endswith("_id"):
            fuzz.send("get", _url(name, pattern, world.ids, swap=kwarg), [], f"{kwarg}={HUGE_ID}")
    assert not fuzz.failures, "\n".join(
        [f"{name}: {len(fuzz.failures)} server errors (or NUL not refused)", *fuzz.failures]
    )

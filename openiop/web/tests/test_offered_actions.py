"""No page offers an action that the user's role will refuse (issue 14).

For each role, the test opens every staff page the role can reach (from the URL configuration,
with the ids of real objects in the fictional clinic of conftest.py, plus an open inquiry with an
urgent task), follows every link to the site's own pages (none may answer 403), reads every
<form method=post> and every hx-post/hx-put/hx-delete element on it, and sends each as that role with the form's own default values, the way a browser would. A 403
fails: the page offered something the role may not do. A 400, a 409 or a form error is fine: the
test is about what is offered, not whether empty defaults succeed. Each post runs in a savepoint
that is rolled back, so one action (a discharge, a signature) cannot change what the next sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from openiop.accounts.domain import Role

# Pages a signed-in staff member does not work on: sign-in and two-factor, the Django admin (its
# own permission system), the health check and the pages the public and patients use.
# fhir and oauth2_provider answer bearer-token clients, not staff pages (openiop/fhir/tests walk them).
SKIP_NAMESPACES = ("accounts", "admin", "fhir", "oauth2_provider")
SKIP_PAGES = {
    "web:healthz",
    "measures:patient_link",
    "admissions:public_inquiry",
    "admissions:public_thanks",
}
HX_METHODS = ("hx-post", "hx-put", "hx-delete")
FILL_TEXT = "Walked by the offered-actions test"


def fill(kind: str) -> str:
    """What the walk types into an empty box of this input type ("" where it types nothing)."""
    if kind == "date":
        return timezone.localdate().isoformat()
    return FILL_TEXT if kind == "text" else ""


@dataclass
class Action:
    """One thing a page offers: where it posts, what a browser would send, and from which page.

    `filled` is the same with its empty boxes filled in (text, a date, the first real choice of a
    list that starts with a prompt): a service checks the role after the form is valid, so empty
    defaults alone would hide a refusal behind "this field is required".
    """

    page: str
    url: str
    method: str
    data: list[tuple[str, str]]
    filled: list[tuple[str, str]]
    htmx: bool = False


@dataclass
class _Form:
    method: str
    action: str
    hx: tuple[str, str] | None
    fields: list[tuple[str, str]] = field(default_factory=list)
    filled: list[tuple[str, str]] = field(default_factory=list)
    submitters: list[tuple[str, str] | None] = field(default_factory=list)


class _ActionParser(HTMLParser):
    """Collects post forms (with what a browser would send for each submit button) and htmx
    elements outside forms."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.actions: list[Action] = []
        self.form: _Form | None = None
        self.select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self.option: list[Any] | None = None
        self.textarea: tuple[str, list[str]] | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        hx = next(((m, a[m]) for m in HX_METHODS if a.get(m)), None)
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(urljoin(self.page, a["href"]))
        if tag == "form":
            method = a.get("method", "get").lower()
            if method == "post" or hx:
                self.form = _Form(method=method, action=a.get("action", ""), hx=hx)
            return
        if hx and self.form is None:  # a button or link that sends its own request
            vals = json.loads(a["hx-vals"]) if a.get("hx-vals") else {}
            self._add(hx[1], hx[0].removeprefix("hx-"), list(vals.items()), htmx=True)
        form = self.form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.submitters.append((name, a.get("value", "")) if name else None)
            elif kind in ("checkbox", "radio"):
                if "checked" in a and name:
                    self._field(name, a.get("value", "on"))
            elif kind not in ("file", "reset", "button") and name and "disabled" not in a:
                value = a.get("value", "")
                self._field(name, value, value or fill(kind))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            form.submitters.append((name, a.get("value", "")) if name else None)
        elif tag == "select" and name and "disabled" not in a:
            self.select = (name, "multiple" in a, [])
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and name and "disabled" not in a:
            self.textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option[2] += data
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self.option is not None and self.select is not None:
            value, selected, text = self.option
            self.select[2].append((text.strip() if value is None else value, selected))
            self.option = None
        elif tag == "select" and self.select is not None and self.form is not None:
            if self.option is not None:  # an option closed by </select>
                self.handle_endtag("option")
            name, multiple, options = self.select
            chosen = [v for v, selected in options if selected]
            if not chosen and options and not multiple:
                chosen = [options[0][0]]  # a browser sends the first option
            real = [v for v, _ in options if v]
            for v in chosen:
                self._field(name, v, v or (real[0] if real else ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            name, text = self.textarea
            value = "".join(text).removeprefix("\n")
            self._field(name, value, value or FILL_TEXT)
            self.textarea = None
        elif tag == "form" and self.form is not None:
            form, self.form = self.form, None
            target, method, htmx = form.action, form.method, False
            if form.hx:
                target, method, htmx = form.hx[1], form.hx[0].removeprefix("hx-"), True
            for submitter in form.submitters or [None]:
                extra = [submitter] if submitter else []
                self._add(
                    target,
                    method,
                    [*form.fields, *extra],
                    filled=[*form.filled, *extra],
                    htmx=htmx,
                )

    def _field(self, name: str, value: str, filled: str | None = None) -> None:
        assert self.form is not None
        self.form.fields.append((name, value))
        self.form.filled.append((name, value if filled is None else filled))

    def _add(
        self,
        target: str,
        method: str,
        data: list[tuple[str, str]],
        *,
        filled: list[tuple[str, str]] | None = None,
        htmx: bool,
    ) -> None:
        self.actions.append(
            Action(
                page=self.page,
                url=urljoin(self.page, target or self.page),
                method=method,
                data=data,
                filled=data if filled is None else filled,
                htmx=htmx,
            )
        )


def offered_actions(page_url: str, html: str) -> list[Action]:
    return _parse(page_url, html).actions


def offered_links(page_url: str, html: str) -> list[str]:
    """The site's own pages the page links to."""
    return _parse(page_url, html).links


def _parse(page_url: str, html: str) -> _ActionParser:
    parser = _ActionParser(page_url)
    parser.feed(html)
    parser.close()
    return parser


def _patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            if item.namespace in SKIP_NAMESPACES:
                continue
            ns = f"{namespace}{item.namespace}:" if item.namespace else namespace
            found.extend(_patterns(item, ns))
        elif item.name and f"{namespace}{item.name}" not in SKIP_PAGES:
            found.append((f"{namespace}{item.name}", item))
    return found


def staff_page_urls(id_sets: list[dict[str, Any]]) -> list[str]:
    """Every staff URL, once per distinct set of ids it takes. Fails when a URL needs an id the
    clinic does not have, so a new page is walked the day it is added."""
    urls: list[str] = []
    for name, pattern in sorted(_patterns(get_resolver())):
        needed = sorted(pattern.pattern.converters)
        for ids in id_sets:
            missing = [k for k in needed if k not in ids]
            assert not missing, f"add {missing} to the world fixture so {name} is walked"
            url = reverse(name, kwargs={k: ids[k] for k in needed})
            if url not in urls:
                urls.append(url)
    return urls


def _open_inquiry(world: Any) -> dict[str, int]:
    """An open inquiry (assessed, so Admit shows) with an open urgent task, at the world's site."""
    from openiop.admissions.models import AdmissionTask, Inquiry

    inquiry = Inquiry.objects.create(
        organization=world.patient.organization,
        site=world.patient.site,
        received_at=timezone.now(),
        channel="call",
        referral_source="self",
        first_name="Perpetua",
        last_name="Dandelionne",
        phone="555-010-4242",
        concerns="mental_health",
        stage="assessed",
        stage_entered_on=timezone.localdate(),
        owner=world.users["intake"],
    )
    task = AdmissionTask.objects.create(inquiry=inquiry, urgent=True, title="Urgent: call back")
    return {"inquiry_id": inquiry.pk, "task_id": task.pk}


def _post(client: Any, action: Action, pairs: list[tuple[str, str]]) -> int:
    headers = {"HTTP_HX_REQUEST": "true"} if action.htmx else {}
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    sid = transaction.savepoint()
    try:
        response = client.generic(
            action.method.upper(),
            action.url,
            _urlencode(data),
            content_type="application/x-www-form-urlencoded",
            **headers,
        )
    finally:
        transaction.savepoint_rollback(sid)
    return int(response.status_code)


def _urlencode(data: dict[str, list[str]]) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, values in data.items() for v in values])


def _namespace(url: str) -> str:
    return resolve(urlsplit(url).path).namespace


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_no_page_offers_an_action_the_role_is_refused(
    role: str, world: Any, client: Any, mfa_passed: Any
) -> None:
    user = world.users[role]
    client.force_login(user)
    id_sets = [world.ids, {**world.ids, **_open_inquiry(world)}]
    actions: list[Action] = []
    links: dict[str, str] = {}  # link -> the page that offers it
    opened = 0
    for url in staff_page_urls(id_sets):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue  # refused (the permission matrix pins which), a PDF, or post-only
        opened += 1
        html = response.content.decode()
        actions.extend(offered_actions(url, html))
        for link in offered_links(url, html):
            links.setdefault(link, url)
    assert opened, f"{role} opened no page"
    refused = [
        f"{page} links to {link}"
        for link, page in links.items()
        if _namespace(link) not in SKIP_NAMESPACES and client.get(link).status_code == 403
    ]
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    for action in actions:
        if _namespace(action.url) in SKIP_NAMESPACES:  # e.g. Log out
            continue
        for pairs in (action.data, action.filled):
            shown = [(k, v) for k, v in pairs if k != "csrfmiddlewaretoken"]
            key = (action.method, action.url, tuple(sorted(shown)))
            if key in seen:
                continue
            seen.add(key)
            if _post(client, action, pairs) == 403:
                refused.append(f"{action.page} offers {action.method} {action.url} {shown}")
    assert not refused, f"{role} was offered what its role is refused:\n" + "\n".join(refused)


def test_the_parser_reads_what_a_browser_would_send() -> None:
    html = """
    <form method="get" action="/search"><input name="q" value="x"><button>Go</button></form>
    <form method="post" action="/a/">
      <input type="hidden" name="version" value="3">
      <input type="checkbox" name="tick" value="1" checked><input type="checkbox" name="off">
      <input type="radio" name="r" value="no" checked><input type="radio" name="r" value="yes">
      <select name="stage"><option value="">Choose</option><option value="x">X</option></select>
      <select name="many" multiple><option value="1">One</option></select>
      <textarea name="note">
typed</textarea>
      <button type="submit" name="step" value="sign">Sign</button>
      <button type="submit">Save</button><button type="button">Nothing</button>
    </form>
    <div hx-delete="/rows/7/" hx-vals='{"why": "gone"}'>remove</div>
    <a href="/elsewhere/?page=2">next</a><a href="https://example.org/">out</a>
    <form method="post" hx-post="/live/" action="/plain/"><button>Save</button></form>
    """
    actions = offered_actions("/page/", html)
    assert [(a.method, a.url, a.htmx) for a in actions] == [
        ("post", "/a/", False),
        ("post", "/a/", False),
        ("delete", "/rows/7/", True),
        ("post", "/live/", True),
    ]
    base = [("version", "3"), ("tick", "1"), ("r", "no"), ("stage", ""), ("note", "typed")]
    assert actions[0].data == [*base, ("step", "sign")]
    assert actions[1].data == base
    assert actions[2].data == [("why", "gone")]
    assert offered_links("/page/", html) == ["/elsewhere/?page=2"]
    # the filled variant: empty boxes typed into, a prompt replaced by the first real choice
    assert actions[1].filled == [
        ("version", "3"),
        ("tick", "1"),
        ("r", "no"),
        ("stage", "x"),
        ("note", "typed"),
    ]
    empty = offered_actions(
        "/p/",
        '<form method="post"><input name="t"><input type="date" name="d">'
        '<input type="number" name="n"><textarea name="w"></textarea></form>',
    )[0]
    assert empty.url == "/p/" and empty.data == [("t", ""), ("d", ""), ("n", ""), ("w", "")]
    today = timezone.localdate().isoformat()
    assert empty.filled == [("t", FILL_TEXT), ("d", today), ("n", ""), ("w", FILL_TEXT)]

"""Production settings pass Django's deployment checklist; every page carries a Content-Security-Policy
and a Permissions-Policy; error pages never show what was posted or the URL map."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

import openiop

# Made at run time, so that the debug page's source listing of this file cannot contain it.
NOTE_TEXT = f"Sunflower Pickleworth said the relapse started {secrets.token_hex(8)}"


def _explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom while saving a note")


urlpatterns = [path("explode/", _explode)]

# The environment README.md documents for production behind TLS.
PRODUCTION_ENV = {
    "OPENIOP_SECRET_KEY": "x" * 20 + "-not-a-real-key-" + "y" * 30,
    "OPENIOP_DEBUG": "0",
    "OPENIOP_ALLOWED_HOSTS": "iop.clinic.example",
    "OPENIOP_SECURE_COOKIES": "1",
    "OPENIOP_SSL_REDIRECT": "1",
    "OPENIOP_HSTS_SECONDS": "31536000",
    "OPENIOP_HSTS_INCLUDE_SUBDOMAINS": "1",
    "OPENIOP_HSTS_PRELOAD": "1",
}


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENIOP_")}
    env.update(PRODUCTION_ENV, OPENIOP_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env={**env, "DJANGO_SETTINGS_MODULE": "openiop.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_tls_settings(tmp_path: Path) -> None:
    """The check is not vacuous: the same run without HSTS and the SSL redirect fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENIOP_")}
    env.update(PRODUCTION_ENV, OPENIOP_VAR_DIR=str(tmp_path))
    del env["OPENIOP_SSL_REDIRECT"], env["OPENIOP_HSTS_SECONDS"]
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env={**env, "DJANGO_SETTINGS_MODULE": "openiop.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/no-such-page/"])
def test_every_response_carries_csp_and_permissions_policy(client: Client, url: str) -> None:
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


def _page_templates() -> list[Path]:
    """Every Jinja2 page template a browser renders (printable templates go to WeasyPrint only)."""
    root = Path(openiop.__file__).parent
    found = []
    for p in sorted(root.glob("*/jinja2/**/*.html")):
        text = p.read_text()
        if 'extends "ui/print.html"' in text or p.name == "print.html":
            continue
        found.append(p)
    return found


@pytest.mark.parametrize("template", _page_templates(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_page_templates_have_no_inline_script_or_style_the_policy_would_block(
    template: Path,
) -> None:
    text = template.read_text()
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute: use a CSS class"
    assert not re.search(r"<style[\s>]", text), "inline <style>: put it in a static CSS file"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler: use a static script"
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag, "inline <script>: load it from a static file"
    assert "javascript:" not in text


def test_inline_check_finds_page_templates() -> None:
    names = {p.name for p in _page_templates()}
    assert {"base.html", "login.html", "404.html"} <= names


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=True)
def test_debug_500_page_never_shows_posted_text() -> None:
    client = Client(raise_request_exception=False)
    response = client.post("/explode/", {"body": NOTE_TEXT, "password": "hunter2-hunter2"})
    assert response.status_code == 500
    page = response.content.decode()
    assert "boom while saving a note" in page  # it is Django's debug page, with the traceback
    assert NOTE_TEXT.split()[-1] not in page
    assert "hunter2-hunter2" not in page
    assert "body" in page  # the field's name is kept, its value hidden


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_500_page_is_plain() -> None:
    client = Client(raise_request_exception=False)
    response = client.post("/explode/", {"body": NOTE_TEXT})
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert NOTE_TEXT.split()[-1] not in page and "Traceback" not in page


@pytest.mark.django_db
def test_404_is_plain_and_lists_no_url_patterns(client: Client) -> None:
    response = client.get("/programs/no-such-thing/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page
    assert "URLconf" not in page and "django-admin/" not in page


def test_make_run_serves_without_debug() -> None:
    """make run must not switch on Django's debug pages (they list every URL and show posts)."""
    makefile = (Path(openiop.__file__).parent.parent / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "runserver" in run_recipe
    assert "OPENIOP_DEBUG=1" not in run_recipe


@pytest.mark.django_db
def test_static_files_are_served_without_debug(client: Client) -> None:
    response = client.get("/static/js/openiop.js")
    assert response.status_code == 200
    assert b"data-autosubmit" in b"".join(response.streaming_content)  # type: ignore[attr-defined]  # a FileResponse

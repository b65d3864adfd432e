from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from markupsafe import Markup

from openiop.accounts import mfa, middleware
from openiop.accounts.access import home_path
from openiop.accounts.forms import CodeForm, LoginForm, ReplaceForm, TokenForm
from openiop.audit.choices import AuditAction, AuditOutcome
from openiop.audit.services import audit_record
from openiop.core.actor import Actor, client_address
from openiop.ui.views_support import refusals

# The id of the authenticator this session is setting up: its key is shown to this session only.
PENDING_KEY = "_openiop_mfa_pending"
EXPIRED = "That set-up had expired. Scan the new code below, then enter the code it shows."


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return home_path(request.user) if request.user.is_authenticated else "/"


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is not None:
            login(request, user)
            audit_record(Actor.from_request(request), action=AuditAction.LOGIN)
            return redirect(_next_url(request))
        audit_record(
            Actor(user=None, client_addr=client_address(request), path=request.path),
            action=AuditAction.LOGIN_FAILED,
            outcome=AuditOutcome.DENIED,
            detail={"username": form.cleaned_data["username"][:150]},
        )
        form.add_error(None, "That username and password do not match. Check them and try again.")
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this once an account has too many failed logins."""
    form = LoginForm(request.POST or None)
    form.is_valid()
    form.add_error(
        None,
        "This account is locked for a while after repeated failed logins. Try again later, "
        "or ask an administrator to unlock it.",
    )
    return render(request, "accounts/login.html", {"form": form, "next": "/"}, status=429)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(Actor.from_request(request), action=AuditAction.LOGOUT)
    logout(request)
    return redirect("accounts:login")


def _to_verify(request: HttpRequest) -> HttpResponse:
    """Send a session that has not passed two-factor to the code page, then back here."""
    return redirect(
        f"{reverse('accounts:mfa_verify')}?{urlencode({'next': request.get_full_path()})}"
    )


def _session_pending(request: HttpRequest) -> tuple[TOTPDevice, bool]:
    """The authenticator this session is setting up (a new one if none, or if it went)."""
    pending, created = mfa.pending_device(
        user=request.user,  # type: ignore[arg-type]
        device_id=request.session.get(PENDING_KEY),
    )
    request.session[PENDING_KEY] = pending.pk
    return pending, created


def _key_page(request: HttpRequest, template: str, pending: TOTPDevice, form: Any) -> HttpResponse:
    return render(
        request,
        template,
        {
            "form": form,
            "qr": Markup(segno.make(pending.config_url).svg_inline(scale=4)),
            "key": mfa.manual_key(pending),
            "next": _next_url(request),
            "required": getattr(request.user, "mfa_required", False),
        },
    )


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """The recovery codes, shown this once (the response of the form that made them)."""
    return render(
        request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)}
    )


def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a first TOTP authenticator (a QR code and the key, confirmed with one code), then
    show the recovery codes. With an authenticator confirmed: its state, to a session that
    passed two-factor; any other session goes to the code page and never sees a new key."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    device = mfa.confirmed_device(request.user)
    if device is not None:
        if not middleware.is_mfa_verified(request):
            return _to_verify(request)
        return render(
            request,
            "accounts/mfa_status.html",
            {
                "device": device,
                "codes_left": mfa.recovery_codes_left(request.user),
            },
        )
    pending, created = _session_pending(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if created:
            form.add_error("token", EXPIRED)
        else:
            with refusals(request, form):
                codes = mfa.mfa_enrol(
                    pending=pending,
                    code=form.cleaned_data["token"],
                    by=Actor.from_request(request),
                )
                request.session.pop(PENDING_KEY, None)
                otp_login(request, pending)
                return _codes_page(request, codes)
    return _key_page(request, "accounts/mfa_setup.html", pending, form)


def mfa_replace(request: HttpRequest) -> HttpResponse:
    """Replace the authenticator: only in a session that passed two-factor, with a code from the
    new one and one from the old one (or a recovery code) in the same form."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if mfa.confirmed_device(request.user) is None:
        return redirect("accounts:mfa_setup")
    verified = middleware.is_mfa_verified(request)
    if not verified:
        return _to_verify(request)
    pending, created = _session_pending(request)
    form = ReplaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if created:
            form.add_error("token", EXPIRED)
        else:
            with refusals(request, form):
                codes = mfa.mfa_replace(
                    pending=pending,
                    code=form.cleaned_data["token"],
                    current=form.cleaned_data["current"],
                    session_verified=verified,
                    by=Actor.from_request(request),
                )
                request.session.pop(PENDING_KEY, None)
                otp_login(request, pending)
                return _codes_page(request, codes)
    return _key_page(request, "accounts/mfa_replace.html", pending, form)


@require_POST
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes (the old ones stop working), shown once."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if not middleware.is_mfa_verified(request):
        return _to_verify(request)
    codes = mfa.recovery_codes_issue(session_verified=True, by=Actor.from_request(request))
    return _codes_page(request, codes)


def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Pass two-factor with a code from the authenticator app or a recovery code."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if mfa.confirmed_device(request.user) is None:
        return redirect(
            f"{reverse('accounts:mfa_setup')}?{urlencode({'next': _next_url(request)})}"
        )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusals(request, form):
            device = mfa.mfa_verify(code=form.cleaned_data["token"], by=Actor.from_request(request))
            otp_login(request, device)
            return redirect(_next_url(request))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)})

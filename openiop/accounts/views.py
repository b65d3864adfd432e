from __future__ import annotations

from typing import Any

import segno
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from markupsafe import Markup

from openiop.accounts.forms import LoginForm, TokenForm
from openiop.audit.models import AuditAction, AuditOutcome
from openiop.audit.services import audit_record
from openiop.core.actor import Actor, client_address


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


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


def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: shows a QR code and the key, confirms with one code."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is not None and request.method == "GET" and not request.GET.get("reset"):
        return render(request, "accounts/mfa_status.html", {"device": device})
    pending, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["token"]):
            TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
            pending.confirmed = True
            pending.save()
            otp_login(request, pending)
            audit_record(
                Actor.from_request(request), action=AuditAction.UPDATE, object_type="mfa_device"
            )
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code did not match. Check the time on your phone and try the newest code.",
        )
    qr = Markup(segno.make(pending.config_url).svg_inline(scale=4))
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "qr": qr,
            "key": pending.key,
            "next": _next_url(request),
            "required": getattr(request.user, "mfa_required", False),
        },
    )


def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                form.add_error(
                    "token", "Too many wrong codes in a row. Wait a little, then try again."
                )
                return render(
                    request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)}
                )
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return redirect(_next_url(request))
        audit_record(
            Actor.from_request(request),
            action=AuditAction.LOGIN_FAILED,
            outcome=AuditOutcome.DENIED,
            object_type="mfa",
        )
        form.add_error("token", "That code did not match. Try the newest code from your app.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)})

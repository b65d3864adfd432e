"""What every page of the Django admin (the set-up pages) shares.

- Who may use it: an active user whose role manages staff (Cap.STAFF_MANAGE: the administrator and
  the director) and who passed TOTP in this session. Django's is_staff, is_superuser, groups and
  permissions play no part, so none of them is a way in.
- Every save and delete writes an OpenIOP audit entry (audit_record) beside Django's admin log.
- Deletion never lists the related rows it would remove or that protect the object (those can be
  patients, inquiries, safety alerts): the confirmation page shows counts per kind of row. An
  object with history outside the set-up pages (anything not edited here: patients, episodes,
  sessions, notes...) cannot be deleted at all; deactivate it instead.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects
from django.core.exceptions import PermissionDenied
from django.db import models, router
from django.db.models.query import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django_otp.admin import OTPAdminSite

from openiop.accounts import middleware
from openiop.accounts.domain import Cap
from openiop.audit.models import AuditAction
from openiop.audit.services import audit_record
from openiop.core.actor import Actor

# Apps whose rows hold no clinical or program history: a user's TOTP devices and Django's own
# admin log go with the account.
HOUSEKEEPING_APPS = frozenset({"admin", "auth", "contenttypes", "sessions", "otp_totp", "axes"})


def may_set_up(request: HttpRequest) -> bool:
    """Whether the request's user may use the set-up pages (role and TOTP; see the module)."""
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.can(Cap.STAFF_MANAGE)
        and middleware.is_mfa_verified(request)
    )


class SetupAdminSite(OTPAdminSite):  # type: ignore[misc]  # django-otp ships no type hints
    """The admin site: OpenIOP's own login and two-factor pages, role-based entry."""

    def has_permission(self, request: HttpRequest) -> bool:
        return may_set_up(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect("admin:index")
            raise PermissionDenied
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('accounts:login')}?next={target}")


def _setup_models(site: admin.AdminSite) -> set[type[models.Model]]:
    found: set[type[models.Model]] = set(site._registry)
    for model_admin in site._registry.values():
        found.update(inline.model for inline in model_admin.inlines)
    return found


def blocking_history(obj: models.Model, site: admin.AdminSite) -> list[str]:
    """The kinds of rows (verbose names, plural) outside the set-up pages that refer to `obj` or
    to the set-up rows that would go with it: any of them means it has history and must be kept.
    Returns [] when it may be deleted."""
    setup = _setup_models(site)
    seen: set[tuple[type[models.Model], Any]] = set()
    todo = [obj]
    while todo:
        current = todo.pop()
        key = (type(current), current.pk)
        if key in seen:
            continue
        seen.add(key)
        for rel in current._meta.related_objects:
            related = rel.related_model
            assert isinstance(related, type)
            if related._meta.app_label in HOUSEKEEPING_APPS:
                continue
            if rel.many_to_many:
                if related in setup:
                    continue
                rows = getattr(current, rel.get_accessor_name() or "").all()
            else:
                rows = related._base_manager.filter(**{rel.field.name: current})
            if related in setup and not rel.many_to_many:
                todo.extend(rows)
            elif rows.exists():
                return [str(related._meta.verbose_name_plural)]
    return []


def _plain(value: Any) -> Any:
    """A value as the audit log's JSON can hold it: rows by id, several rows as sorted ids."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (QuerySet, list, tuple, set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# Form fields whose values stay out of the audit log.
SECRET_FIELDS = frozenset({"password", "password1", "password2", "key"})


class SetupInline(admin.TabularInline):  # type: ignore[type-arg]
    """The base of inlines in the set-up pages: the same role-based permissions as SetupAdmin."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_set_up(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_set_up(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_set_up(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows removed through an inline go with their own history check (obj is the parent).
        return False


class SetupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The base of every ModelAdmin in the set-up pages (see the module docstring)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_set_up(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_set_up(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_set_up(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_set_up(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not may_set_up(request):
            return False
        return obj is None or not blocking_history(obj, self.admin_site)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None and may_set_up(request):
            history = blocking_history(obj, self.admin_site)
            if history:
                can_deactivate = any(f.name == "is_active" for f in self.opts.get_fields())
                messages.error(
                    request,
                    f"This {self.opts.verbose_name} has history ({history[0]}) and is kept: "
                    + (
                        "deactivate it instead of deleting it (untick Active and save)."
                        if can_deactivate
                        else "it cannot be deleted."
                    ),
                )
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                        args=[obj.pk],
                    )
                )
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """What the confirmation page shows: counts per kind of row, never the rows themselves.

        Rows of a kind not edited in the set-up pages are never deleted from here (they block it).
        """
        objs = list(objs)
        if not objs:
            return [], {}, set(), []
        collector = NestedObjects(using=router.db_for_write(self.model), origin=objs)
        collector.collect(objs)
        setup = _setup_models(self.admin_site)
        perms_needed: set[str] = set()
        model_count: dict[str, int] = {}
        model_objs: dict[type[models.Model], set[Any]] = collector.model_objs  # type: ignore[assignment]
        for model, found in model_objs.items():
            opts = model._meta
            model_count[str(opts.verbose_name_plural)] = len(found)
            if opts.app_label in HOUSEKEEPING_APPS:
                continue
            if model not in setup:
                perms_needed.add(str(opts.verbose_name))
            elif self.admin_site.is_registered(model):
                model_admin: admin.ModelAdmin[Any] = self.admin_site.get_model_admin(model)
                if not all(model_admin.has_delete_permission(request, o) for o in found):
                    perms_needed.add(str(opts.verbose_name))
        to_delete = [f"{capfirst(name)}: {count}" for name, count in model_count.items()]
        protected_counts = Counter(str(o._meta.verbose_name_plural) for o in collector.protected)
        protected = [f"{capfirst(name)}: {count}" for name, count in protected_counts.items()]
        return to_delete, model_count, perms_needed, protected

    # Every write in the set-up pages: Django's admin log, and OpenIOP's audit log.

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = [f for f in getattr(form, "changed_data", ()) if f not in SECRET_FIELDS]
        request._setup_change = {  # type: ignore[attr-defined]
            "fields": changed,
            "before": {f: _plain(form.initial.get(f)) for f in changed} if change else {},
            "after": {f: _plain(form.cleaned_data.get(f)) for f in changed},
        }
        super().save_model(request, obj, form, change)

    def _audit(self, request: HttpRequest, action: str, obj: Any, message: Any) -> None:
        detail = getattr(request, "_setup_change", None) or {}
        request._setup_change = None  # type: ignore[attr-defined]
        audit_record(
            Actor.from_request(request),
            action=action,
            object_type=f"setup.{self.opts.model_name}",
            object_id=obj.pk,
            detail={**detail, "message": _plain(_message_text(message))},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        self._audit(request, AuditAction.CREATE, obj, message)
        return entry

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        self._audit(request, AuditAction.UPDATE, obj, message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objs = list(queryset)
        entries = super().log_deletions(request, objs)  # type: ignore[arg-type]
        for obj in objs:
            self._audit(request, AuditAction.DELETE, obj, "deleted")
        return entries


def _message_text(message: Any) -> str:
    """Django's change message (a list of what changed, or text) as one line of text."""
    if isinstance(message, str):
        return message[:500]
    from django.contrib.admin.models import LogEntry

    entry = LogEntry(change_message=json.dumps(_plain_message(message)))
    return entry.get_change_message()[:500]


def _plain_message(message: Any) -> Any:
    if isinstance(message, dict):
        return {str(k): _plain_message(v) for k, v in message.items()}
    if isinstance(message, (list, tuple)):
        return [_plain_message(v) for v in message]
    return str(message)

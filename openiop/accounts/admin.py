"""The Django admin is for setting up the organization: staff, sites and rooms. Never patient data.

Who may enter, how writes are audited and why deletion shows counts only: accounts.admin_base.
Roles, sites and reactivation change only through accounts.services.staff_change_access (its own
page here), which sends changes that grant access to records to the director (or a second
administrator) for approval; they decide on the Access changes page.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.admin_base import SetupAdmin, SetupAdminSite, may_set_up
from openiop.accounts.models import (
    ROLE_CHOICES,
    AccessChangeRequest,
    AccessChangeStatus,
    User,
)
from openiop.accounts.services import access_change_decide, staff_change_access, staff_create
from openiop.core.actor import Actor
from openiop.core.errors import DomainError
from openiop.programs.models import Site

admin.site.__class__ = SetupAdminSite
admin.site.site_header = "OpenIOP set-up"
# Deleting several rows at once would skip the per-object history check and its confirmation.
admin.site.disable_action("delete_selected")

# Groups and Django permissions grant nothing in OpenIOP (roles do): no page edits them.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


def _sites_text(site_ids: Any) -> str:
    names = Site.objects.filter(pk__in=list(site_ids or [])).values_list("name", flat=True)
    return ", ".join(names) or "none"


def _role_text(role: str) -> str:
    return dict(ROLE_CHOICES).get(role, role)


class StaffCreationForm(UserCreationForm):  # type: ignore[type-arg]
    """A new account: its role and sites are requested, not granted (staff_create decides)."""

    role = forms.ChoiceField(choices=ROLE_CHOICES)
    sites = forms.ModelMultipleChoiceField(queryset=Site.objects.active(), required=False)
    reason = forms.CharField(
        max_length=300, required=False, help_text="Why this person needs this access"
    )

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined,misc]
        model = User
        fields = ("username", "first_name", "last_name", "credentials", "organization")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        org = data.get("organization")
        if org is not None and any(s.organization_id != org.pk for s in data.get("sites") or []):
            raise ValidationError({"sites": "Choose sites of the staff member's organization."})
        return data


class StaffChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    """Names, credentials and deactivation; role and sites are read-only here."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "credentials", "is_active")

    def clean_is_active(self) -> bool:
        active = bool(self.cleaned_data.get("is_active"))
        if active and self.instance.pk and not self.instance.is_active:
            raise ValidationError(
                "Reactivating an account grants its role's access again: use 'Change role, "
                "sites or activation' (it may need the director's approval)."
            )
        return active


class AccessChangeForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    activate = forms.BooleanField(required=False, label="Make the account active")
    reason = forms.CharField(max_length=300, required=False)


@admin.register(User)
class StaffAdmin(SetupAdmin, UserAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "sites")
    search_fields = ("username", "first_name", "last_name", "email")
    filter_horizontal = ()
    readonly_fields = (
        "password_page",
        "role_text",
        "site_list",
        "access",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "password_page")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        (
            "Clinic",
            {"fields": ("credentials", "organization", "role_text", "site_list", "access")},
        ),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "first_name",
                    "last_name",
                    "credentials",
                    "organization",
                    "role",
                    "sites",
                    "reason",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The organization decides which sites may be chosen; it is set when the account is made.
        return (*self.readonly_fields, "organization") if obj else ()

    @admin.display(description="Password")
    def password_page(self, obj: User) -> str:
        # Not even a masked hash: only the page that sets a new one (audited like every save).
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">Set a new password</a>',
            reverse("admin:auth_user_password_change", args=[obj.pk]),
        )

    @admin.display(description="Role")
    def role_text(self, obj: User) -> str:
        return obj.role_label

    @admin.display(description="Sites")
    def site_list(self, obj: User) -> str:
        return ", ".join(s.name for s in obj.sites.all()) or "none"

    @admin.display(description="Access")
    def access(self, obj: User) -> str:
        if obj.pk is None:
            return ""
        pending = obj.access_changes.filter(status=AccessChangeStatus.PENDING).count()
        return format_html(
            '<a href="{}">Change role, sites or activation</a> · '
            '<a href="{}?user__id__exact={}">Access changes</a>{}',
            reverse("admin:accounts_user_access", args=[obj.pk]),
            reverse("admin:accounts_accesschangerequest_changelist"),
            obj.pk,
            f" ({pending} waiting for approval)" if pending else "",
        )

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<id:user_id>/access/",
                self.admin_site.admin_view(self.access_view),
                name="accounts_user_access",
            )
        ]
        return extra + super().get_urls()

    def access_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """The page that asks staff_change_access for a new role, sites or reactivation."""
        if not may_set_up(request):
            raise PermissionDenied
        user = get_object_or_404(User, pk=user_id)
        initial = {"role": user.role, "sites": list(user.sites.all())}
        form = AccessChangeForm(request.POST or None, initial=initial)
        # Active sites, and the inactive ones the account already has (kept unless unticked).
        choices = Site.objects.filter(
            Q(pk__in=Site.objects.active().values("pk")) | Q(pk__in=user.sites.values("pk"))
        )
        if user.organization_id:
            choices = choices.filter(organization_id=user.organization_id)
        form.fields["sites"].queryset = choices  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            try:
                change = staff_change_access(
                    user=user,
                    role=form.cleaned_data["role"],
                    sites=list(form.cleaned_data["sites"]),
                    activate=form.cleaned_data["activate"],
                    reason=form.cleaned_data["reason"],
                    by=Actor.from_request(request),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if change.status == AccessChangeStatus.PENDING:
                    messages.warning(
                        request,
                        "This change grants access to records: it waits for the director's "
                        "approval (or another administrator's) before it takes effect.",
                    )
                else:
                    messages.success(request, "The access change is made.")
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change role, sites or activation: {user}",
            "subject": user,
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/accounts/user/access.html", context)

    # A new account goes through staff_create, which holds a chart-reading role for approval.

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        user = staff_create(
            username=data["username"],
            role=data["role"],
            password=data["password1"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            credentials=data.get("credentials", ""),
            organization=data.get("organization"),
            sites=list(data.get("sites") or []),
            reason=data.get("reason", ""),
            by=Actor.from_request(request),
        )
        if not user.is_active:
            messages.warning(
                request,
                "The account is inactive until the director (or another administrator) approves "
                "its role and sites on the Access changes page.",
            )
        return user

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # staff_create wrote the audit entry; Django's admin log still gets its own.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    # Two-factor reset (accounts.mfa.mfa_reset): confirmed on a page of its own, audited.
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor (forces enrolment at next login)")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        from openiop.accounts.mfa import mfa_reset

        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/accounts/reset_two_factor.html",
                {**self.admin_site.each_context(request), "users": list(queryset)},
            )
        for user in queryset:
            try:
                mfa_reset(user=user, by=Actor.from_request(request))
            except DomainError as exc:
                self.message_user(request, f"{user.username}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{user.username}: two-factor reset; they enrol at their next login."
                )
        return None


@admin.register(AccessChangeRequest)
class AccessChangeRequestAdmin(SetupAdmin):
    """Requests to change a staff member's role, sites or activation, and their decisions."""

    list_display = (
        "user",
        "from_access",
        "to_access",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
    )
    list_filter = ("status",)
    list_select_related = ("user", "requested_by", "decided_by")
    actions = ("approve", "reject")
    fields = (
        "user",
        "from_access",
        "to_access",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessChangeRequest]:
        return super().get_queryset(request).prefetch_related("sites")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="From")
    def from_access(self, obj: AccessChangeRequest) -> str:
        prev = obj.previous or {}
        state = "" if prev.get("active", True) else " (inactive)"
        return f"{_role_text(str(prev.get('role', '')))}{state}; sites: {_sites_text(prev.get('site_ids'))}"

    @admin.display(description="To")
    def to_access(self, obj: AccessChangeRequest) -> str:
        active = " (made active)" if obj.activate else ""
        sites = ", ".join(s.name for s in obj.sites.all()) or "none"
        return f"{_role_text(obj.role)}{active}; sites: {sites}"

    def _decide(self, request: HttpRequest, queryset: Any, *, approve: bool) -> None:
        actor = Actor.from_request(request)
        for change in queryset:
            try:
                access_change_decide(change=change, approve=approve, by=actor)
            except DomainError as exc:
                messages.error(request, f"{change.user}: {exc.message}")
            else:
                verb = "approved and applied" if approve else "rejected"
                messages.success(request, f"{change.user}: {verb}.")

    @admin.action(description="Approve the selected access changes")
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected access changes")
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=False)


# Two-factor devices: who has one and when it was last used. The key (and its QR code) is a
# secret and never shown; devices are not added, edited or removed here.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(SetupAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Recovery codes (django-otp's static devices) are secrets too: no page shows them; an
# administrator replaces a lost authenticator with the audited two-factor reset above.
if admin.site.is_registered(StaticDevice):
    admin.site.unregister(StaticDevice)


# django-axes' pages (failed logins, lockouts: staff usernames and addresses): kept, with the same
# role-based entry and audited deletes (deleting an attempt unlocks the account). Axes' own
# classes come first so that what they forbid (adding rows) stays forbidden.
for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        _original = type(admin.site.get_model_admin(_model))
        admin.site.unregister(_model)
        admin.site.register(_model, type(_original.__name__, (_original, SetupAdmin), {}))

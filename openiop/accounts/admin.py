"""The Django admin is for setting up the organization: staff, sites and rooms. Never patient data.

It requires a verified TOTP device for everyone (django-otp's OTPAdminSite); Django records each
change in its own admin log.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django_otp.admin import OTPAdminSite

from openiop.accounts.models import User

admin.site.__class__ = OTPAdminSite
admin.site.site_header = "OpenIOP set-up"


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "sites")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Clinic", {"fields": ("role", "credentials", "organization", "sites")}),
    )
    filter_horizontal = ("sites", "groups", "user_permissions")

    # Two-factor reset (accounts.mfa.mfa_reset): confirmed on a page of its own, audited.
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor (forces enrolment at next login)")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        from openiop.accounts.mfa import mfa_reset
        from openiop.core.actor import Actor
        from openiop.core.errors import DomainError

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

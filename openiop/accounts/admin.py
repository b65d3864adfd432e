"""The Django admin is for setting up the organization: staff, sites and rooms. Never patient data.

It requires a verified TOTP device for everyone (django-otp's OTPAdminSite); Django records each
change in its own admin log.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
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

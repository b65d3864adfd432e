from django.contrib import admin

from openiop.accounts.admin_base import SetupAdmin
from openiop.measures.models import SiteSafetySettings


@admin.register(SiteSafetySettings)
class SiteSafetySettingsAdmin(SetupAdmin):
    """Clinic hours (alerts go to the on-call clinician outside them), on-call, director, escalation."""

    list_display = (
        "site",
        "opens_at",
        "closes_at",
        "open_weekdays",
        "on_call",
        "director",
        "escalation_minutes",
    )

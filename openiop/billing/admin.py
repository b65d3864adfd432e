from django.contrib import admin

from openiop.accounts.admin_base import SetupAdmin
from openiop.billing.models import Payer, PovertyGuidelineYear


@admin.register(Payer)
class PayerAdmin(SetupAdmin):
    list_display = ("name", "payer_id", "payer_type", "organization", "is_active")
    search_fields = ("name", "payer_id")


@admin.register(PovertyGuidelineYear)
class PovertyGuidelineYearAdmin(SetupAdmin):
    """Configuration: the year's poverty guideline, the sliding scale bands and the daily rate."""

    list_display = ("year", "label", "organization", "base_amount", "per_additional_person")

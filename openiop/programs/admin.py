from django.contrib import admin

from openiop.accounts.admin_base import SetupAdmin, SetupInline
from openiop.programs.models import Organization, Room, Site


@admin.register(Organization)
class OrganizationAdmin(SetupAdmin):
    list_display = ("name", "mrn_prefix", "crisis_line")
    readonly_fields = ("next_mrn",)


class RoomInline(SetupInline):
    model = Room
    extra = 0


@admin.register(Site)
class SiteAdmin(SetupAdmin):
    list_display = ("name", "organization", "timezone")
    search_fields = ("name",)
    inlines = [RoomInline]

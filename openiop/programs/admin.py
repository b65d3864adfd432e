from django.contrib import admin

from openiop.programs.models import Organization, Room, Site


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "mrn_prefix", "crisis_line")
    readonly_fields = ("next_mrn",)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "timezone")
    search_fields = ("name",)
    inlines = [RoomInline]

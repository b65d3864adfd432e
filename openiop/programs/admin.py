from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from openiop.accounts.admin_base import SetupAdmin, SetupInline
from openiop.core.actor import Actor
from openiop.programs.models import Organization, Room, Site
from openiop.programs.services import (
    organization_set_active,
    site_deactivation_refusal,
    site_set_active,
)


class _ActivationForm(forms.ModelForm):  # type: ignore[type-arg]
    """Unticking 'active' is refused here, beside the box, while the place has open work."""

    def sites_of(self, instance: Any) -> Iterable[Site]:
        raise NotImplementedError

    def clean_is_active(self) -> bool:
        active = bool(self.cleaned_data.get("is_active"))
        instance = self.instance
        if instance.pk and instance.is_active and not active:
            refusal = site_deactivation_refusal(sites=self.sites_of(instance), name=str(instance))
            if refusal is not None:
                raise ValidationError(refusal.message)
        return active


class OrganizationForm(_ActivationForm):
    class Meta:
        model = Organization
        fields = ("name", "mrn_prefix", "crisis_line", "is_active")

    def sites_of(self, instance: Any) -> Iterable[Site]:
        return Site.objects.filter(organization=instance)


class SiteForm(_ActivationForm):
    class Meta:
        model = Site
        fields = ("organization", "name", "timezone", "address", "is_active")

    def sites_of(self, instance: Any) -> Iterable[Site]:
        return [instance]


class _ActivationAdmin(SetupAdmin):
    """Deactivating or reactivating goes through the programs service (checked and audited); the
    other fields are saved as on every set-up page."""

    def set_active(self, obj: Any, active: bool, by: Actor) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not (change and "is_active" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        wanted = obj.is_active
        obj.is_active = not wanted  # the stored value; the service makes the change
        super().save_model(request, obj, form, change)
        self.set_active(obj, wanted, Actor.from_request(request))


@admin.register(Organization)
class OrganizationAdmin(_ActivationAdmin):
    form = OrganizationForm
    list_display = ("name", "mrn_prefix", "crisis_line", "is_active")
    list_filter = ("is_active",)
    readonly_fields = ("next_mrn",)

    def set_active(self, obj: Organization, active: bool, by: Actor) -> None:
        organization_set_active(organization=obj, active=active, by=by)


class RoomInline(SetupInline):
    model = Room
    extra = 0


@admin.register(Site)
class SiteAdmin(_ActivationAdmin):
    form = SiteForm
    list_display = ("name", "organization", "timezone", "is_active")
    list_filter = ("is_active", "organization")
    search_fields = ("name",)
    inlines = [RoomInline]

    def set_active(self, obj: Site, active: bool, by: Actor) -> None:
        site_set_active(site=obj, active=active, by=by)

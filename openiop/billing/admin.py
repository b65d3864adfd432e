from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from openiop.accounts.admin_base import SetupAdmin, may_set_up
from openiop.accounts.domain import Cap
from openiop.billing import services
from openiop.billing.models import (
    BillingProvider,
    FeeScheduleEntry,
    Payer,
    PayerClaimSetup,
    PayerProgramBilling,
    PovertyGuidelineYear,
    TrackClaimSetup,
)
from openiop.core.actor import Actor
from openiop.core.errors import RuleViolation


class PayerForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Payer
        fields = ("organization", "name", "payer_id", "payer_type", "is_active")

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        if not self.errors:  # the service's own rules, so a refusal keeps what was typed
            try:
                services.payer_check(self.instance)
            except RuleViolation as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)


@admin.register(Payer)
class PayerAdmin(SetupAdmin):
    """Payers are written by admissions.services (payer_create, payer_update), which check
    Cap.BENEFITS_MANAGE and write the audit entry: the director may edit here, an administrator
    only sees the list. Never deleted (coverages name them): deactivate instead."""

    form = PayerForm
    list_display = ("name", "payer_id", "payer_type", "organization", "is_active")
    search_fields = ("name", "payer_id")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("organization",) if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("organization", "name", "payer_id", "payer_type", "is_active")
        return fields if obj else fields[:-1]

    def _may_write(self, request: HttpRequest) -> bool:
        return may_set_up(request) and request.user.can(Cap.BENEFITS_MANAGE)  # type: ignore[union-attr]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data, by = form.cleaned_data, Actor.from_request(request)
        if change:
            return services.payer_update(
                payer=Payer.objects.get(pk=form.instance.pk),
                by=by,
                **{f: data[f] for f in services.PAYER_FIELDS},
            )
        return services.payer_create(
            organization_id=data["organization"].pk,
            name=data["name"],
            payer_id=data["payer_id"],
            payer_type=data["payer_type"],
            by=by,
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # the service saved it

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # a payer has no related rows edited here

    # The service wrote the audit entry; Django's admin log still gets its own.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_change(self, request, obj, message)


@admin.register(PovertyGuidelineYear)
class PovertyGuidelineYearAdmin(SetupAdmin):
    """Configuration: the year's poverty guideline, the sliding scale bands and the daily rate."""

    list_display = ("year", "label", "organization", "base_amount", "per_additional_person")


class _ThroughServices(SetupAdmin):
    """A set-up page whose writes go through billing's services (their permission check, their
    audit entry): the director may write, an administrator only sees. Never deleted here: a fee
    is ended (its last day), billing rules are changed."""

    def _may_write(self, request: HttpRequest) -> bool:
        return may_set_up(request) and request.user.can(Cap.REVENUE_MANAGE)  # type: ignore[union-attr]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("payer", "track") if obj else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # the service saved it

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # nothing related is edited here

    # The service wrote the audit entry; Django's admin log still gets its own.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_change(self, request, obj, message)


def _service_rules(form: forms.ModelForm, check: Any) -> None:  # type: ignore[type-arg]
    """Run a service's own check on the form's instance, so a refusal keeps what was typed."""
    if form.errors:
        return
    try:
        check(form.instance)
    except RuleViolation as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class PayerProgramBillingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PayerProgramBilling
        fields = ("payer", "track", *services.PAYER_BILLING_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        _service_rules(self, services.payer_billing_check)


@admin.register(PayerProgramBilling)
class PayerProgramBillingAdmin(_ThroughServices):
    """How each payer bills each program: written by billing.services (payer_billing_create,
    payer_billing_update), checked by the charge rules' own PayerBillingRules."""

    form = PayerProgramBillingForm
    list_display = ("payer", "track", "mode", "claim_form", "per_diem_code", "min_minutes_per_day")
    list_filter = ("mode", "claim_form")
    search_fields = ("payer__name", "track__name")

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data, by = form.cleaned_data, Actor.from_request(request)
        fields = {f: data[f] for f in services.PAYER_BILLING_FIELDS}
        if change:
            return services.payer_billing_update(
                config=PayerProgramBilling.objects.get(pk=form.instance.pk), by=by, **fields
            )
        return services.payer_billing_create(
            payer=data["payer"], track=data["track"], by=by, **fields
        )


class FeeScheduleEntryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = FeeScheduleEntry
        fields = ("payer", "track", *services.FEE_ENTRY_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        _service_rules(self, services.fee_entry_check)


@admin.register(FeeScheduleEntry)
class FeeScheduleEntryAdmin(_ThroughServices):
    """What each payer pays for a code in a program, from a date: written by billing.services
    (fee_entry_create, fee_entry_update), which refuses an entry overlapping another of the same
    payer, program and code."""

    form = FeeScheduleEntryForm
    list_display = ("code", "modifiers", "payer", "track", "rate", "effective_from", "effective_to")
    list_filter = ("payer",)
    search_fields = ("code", "payer__name", "track__name")

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data, by = form.cleaned_data, Actor.from_request(request)
        fields = {f: data[f] for f in services.FEE_ENTRY_FIELDS}
        if change:
            return services.fee_entry_update(
                entry=FeeScheduleEntry.objects.get(pk=form.instance.pk), by=by, **fields
            )
        return services.fee_entry_create(payer=data["payer"], track=data["track"], by=by, **fields)


# Claims (issue 16): the configuration a claim needs, written through billing.services.claim_setup.


class BillingProviderForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = BillingProvider
        fields = ("site", *services.BILLING_PROVIDER_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        _service_rules(self, services.billing_provider_check)


@admin.register(BillingProvider)
class BillingProviderAdmin(_ThroughServices):
    """Who bills for a site on the 837 (2010AA) and submits it (1000A, ISA/GS): written by
    billing.services.billing_provider_save, checked by the 837 writer's own rules."""

    form = BillingProviderForm
    list_display = ("site", "name", "npi", "ein", "production")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("site",) if obj else ()

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data = form.cleaned_data
        site = form.instance.site if change else data["site"]
        return services.billing_provider_save(
            by=Actor.from_request(request),
            site=site,
            values={f: data[f] for f in services.BILLING_PROVIDER_FIELDS},
        )


class PayerClaimSetupForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PayerClaimSetup
        fields = ("payer", *services.PAYER_CLAIM_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        _service_rules(self, services.payer_claim_setup_check)


@admin.register(PayerClaimSetup)
class PayerClaimSetupAdmin(_ThroughServices):
    """How each payer takes claims (period, sequential, checks, receiver, CLM06-09): written by
    billing.services.payer_claim_setup_save, checked by the claim rules' PayerClaimRules."""

    form = PayerClaimSetupForm
    list_display = ("payer", "period", "sequential", "claim_filing_indicator", "receiver_name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("payer",) if obj else ()

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data = form.cleaned_data
        payer = form.instance.payer if change else data["payer"]
        return services.payer_claim_setup_save(
            by=Actor.from_request(request),
            payer=payer,
            values={f: data[f] for f in services.PAYER_CLAIM_FIELDS},
        )


class TrackClaimSetupForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = TrackClaimSetup
        fields = ("track", "claim_form", *services.TRACK_CLAIM_FIELDS)

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # builds the instance the check reads
        _service_rules(self, services.track_claim_setup_check)


@admin.register(TrackClaimSetup)
class TrackClaimSetupAdmin(_ThroughServices):
    """How each program bills on each claim form (bill type or place of service, condition
    codes, the attending/rendering provider): written by billing.services.track_claim_setup_save,
    checked by the claim rules' ProgramClaimSetup."""

    form = TrackClaimSetupForm
    list_display = ("track", "claim_form", "facility_code", "place_of_service")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("track", "claim_form") if obj else ()

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data = form.cleaned_data
        track = form.instance.track if change else data["track"]
        claim_form = form.instance.claim_form if change else data["claim_form"]
        return services.track_claim_setup_save(
            by=Actor.from_request(request),
            track=track,
            claim_form=claim_form,
            values={f: data[f] for f in services.TRACK_CLAIM_FIELDS},
        )

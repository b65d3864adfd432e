from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models

from openiop.accounts.domain import MFA_REQUIRED_ROLES, ROLE_LABELS, Cap, Role, role_can

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


class User(AbstractUser):
    """A staff member. One role; the sites they work at limit which patients they see."""

    role = models.CharField(max_length=20, choices=ROLE_CHOICES, default=Role.CLINICIAN.value)
    organization = models.ForeignKey(
        "programs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    sites = models.ManyToManyField("programs.Site", blank=True, related_name="staff")
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. LCSW, LPC, RN, MD")
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervisees",
        help_text="Set for supervised staff: their progress notes need this person's co-signature",
    )

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    def can(self, cap: Cap) -> bool:
        return self.is_active and role_can(self.role, cap)

    @property
    def role_label(self) -> str:
        return dict(ROLE_CHOICES).get(self.role, self.role)

    @property
    def mfa_required(self) -> bool:
        return self.role in {r.value for r in MFA_REQUIRED_ROLES}

    def site_ids(self) -> set[int]:
        """The ids of the sites this user works at (cached on the instance)."""
        cached = getattr(self, "_site_ids", None)
        if cached is None:
            cached = set(self.sites.values_list("id", flat=True))
            self._site_ids = cached
        return cached

    def sees_all_sites(self) -> bool:
        return self.can(Cap.ALL_SITES)

    def home_zone_name(self) -> str:
        """The IANA time zone of this user's own pages where a time belongs to no site (the audit
        log's logins and searches, their account): the zone of the first site they work at (by
        id), else of their organization's first site, else settings.TIME_ZONE. Read with the
        session's query on a web request (accounts.backends), else one query, then cached on the
        instance."""
        cached = getattr(self, "_home_zone", None)
        if cached is None:
            from django.conf import settings

            from openiop.programs.models import Site

            site = self.sites.order_by("id").first() or (
                Site.objects.filter(organization_id=self.organization_id).order_by("id").first()
                if self.organization_id
                else None
            )
            cached = site.timezone if site else settings.TIME_ZONE
            self._home_zone = cached
        return cached


class StaffSession(AbstractBaseSession):
    """A database session that also names its user (set whenever it is saved), so that the one
    query every request makes for its session reads the user and their sites with it
    (accounts.backends)."""

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        # The configured engine's store (openiop.accounts.backends), as Django's own Session model
        # does: the models module does not import the module that imports it.
        from importlib import import_module

        from django.conf import settings

        store: type[Any] = import_module(settings.SESSION_ENGINE).SessionStore
        return store


class AccessChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    APPLIED = "applied", "Applied (no approval needed)"


class AccessChangeRequest(models.Model):
    """A change of a staff member's role, sites or activation, as requested and as decided.

    Every change made through accounts.services.staff_change_access leaves one: applied at once,
    or pending until the director (or a second administrator) approves or rejects it.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_changes")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    sites = models.ManyToManyField("programs.Site", blank=True, related_name="+")
    activate = models.BooleanField(
        default=False, help_text="Also make the account active (it grants its role's access)"
    )
    previous = models.JSONField(
        default=dict, help_text="Role, site ids and activation when it was requested"
    )
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=20, choices=AccessChangeStatus.choices, default=AccessChangeStatus.PENDING
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.user}: {ROLE_LABELS.get(Role(self.role), self.role)} ({self.get_status_display()})"

from __future__ import annotations

from django.db import models

# Kept importable from here: most of the code names them as audit.models' (re-exported).
from openiop.audit.choices import AuditAction, AuditOutcome


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditEntry(models.Model):
    """One append-only entry: who, in which role, touched which patient's data, how, when, from where.

    No foreign keys: an entry must outlive and never block anything it names. On PostgreSQL a
    trigger refuses UPDATE and DELETE on this table (migration 0002).
    """

    at = models.DateTimeField(db_index=True)
    # Looked up by user and by patient through the (user_id, at) and (patient_id, at) indexes: an
    # index of its own on either would be one more to write on every page of patient data.
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    channel = models.CharField(max_length=10, default="web")
    path = models.CharField(max_length=500, blank=True)
    client_addr = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.OK)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient_id", "at"], name="audit_patient_at"),
            models.Index(fields=["user_id", "at"], name="audit_user_at"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_type}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type,unused-ignore]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditEntryPatient(models.Model):
    """The patients one entry concerns when a page shows several (a roster, a list, Today).

    `at` is the entry's own time, copied when the entry is written (neither ever changes), so that
    a search of one patient's log reads their linked entries newest first from an index alone;
    joining every link to its entry for the time cost a heap read per link, and a patient seen on
    a roster every program day has hundreds. `on_entry` marks the link of an entry that names the
    patient itself (a list that showed exactly one patient): the search finds it by the entry's
    patient_id, and the index leaves it out so that no entry is counted twice.
    """

    # By entry through the unique (entry, patient_id) index; no second index on entry alone. No
    # foreign key constraint in the database: a link is written in the same statement as its entry
    # and neither table allows UPDATE or DELETE, so it cannot dangle, and checking it at commit
    # cost 5 us a link (0.2 ms on a Today page showing 44 patients).
    entry = models.ForeignKey(
        AuditEntry,
        on_delete=models.PROTECT,
        related_name="patients",
        db_index=False,
        db_constraint=False,
    )
    patient_id = models.BigIntegerField()
    at = models.DateTimeField()
    on_entry = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "patient_id"], name="audit_patient_once")
        ]
        indexes = [
            models.Index(
                fields=["patient_id", "at", "entry"],
                condition=models.Q(on_entry=False),
                name="audit_link_patient_at",
            )
        ]

    def __str__(self) -> str:
        return f"entry {self.entry_id} · patient {self.patient_id}"


__all__ = ["AuditAction", "AuditEntry", "AuditEntryPatient", "AuditEntryQuerySet", "AuditOutcome"]

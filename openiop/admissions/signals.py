"""When an enrollment ends, a seat may have freed: offer it to the track's waitlist.

Connected in AdmissionsConfig.ready(). Runs after the ending transaction commits, as the system.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from openiop.programs.models import Enrollment


@receiver(post_save, sender=Enrollment, dispatch_uid="admissions_offer_freed_seat")
def offer_freed_seat(sender: type[Enrollment], instance: Enrollment, **kwargs: Any) -> None:
    if instance.end_date is None:
        return
    track_id = instance.track_id

    def offer() -> None:
        from openiop.admissions.services import waitlist_offer_seats
        from openiop.core.actor import Actor
        from openiop.programs.models import Track

        track = Track.objects.select_related("site").filter(pk=track_id).first()
        if track is not None and track.waitlist.filter(status="waiting").exists():
            waitlist_offer_seats(track=track, by=Actor.system("waitlist: seat freed"))

    transaction.on_commit(offer)

from typing import Any

from django.apps import AppConfig


class AdmissionsConfig(AppConfig):
    name = "openiop.admissions"
    label = "admissions"
    verbose_name = "Admissions"

    def ready(self) -> None:
        from openiop.programs.signals import seat_freed

        seat_freed.connect(_offer_freed_seats, dispatch_uid="admissions.waitlist_offer_freed_seats")


def _offer_freed_seats(sender: Any, *, track: Any, freed_by: str, **kwargs: Any) -> None:
    """An enrollment ended (programs.services.enrollment_end): offer its seat to the waitlist."""
    from openiop.admissions.services import waitlist_offer_freed_seats

    waitlist_offer_freed_seats(track=track, freed_by=freed_by)

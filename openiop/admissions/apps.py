from django.apps import AppConfig


class AdmissionsConfig(AppConfig):
    name = "openiop.admissions"
    label = "admissions"
    verbose_name = "Admissions"

    def ready(self) -> None:
        from openiop.admissions import signals  # noqa: F401 - connects the waitlist offer

from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "openiop.consents"
    label = "consents"
    verbose_name = "Consents (42 CFR Part 2)"
    default_auto_field = "django.db.models.BigAutoField"

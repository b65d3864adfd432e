from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "openiop.medications"
    label = "medications"

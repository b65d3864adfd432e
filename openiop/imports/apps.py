from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "openiop.imports"
    label = "imports"
    verbose_name = "Imports from another EHR"

from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "openiop.programs"
    label = "programs"

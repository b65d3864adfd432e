from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "openiop.planning"
    label = "planning"
    verbose_name = "Week planning"

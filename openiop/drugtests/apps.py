from django.apps import AppConfig


class DrugTestsConfig(AppConfig):
    name = "openiop.drugtests"
    label = "drugtests"

from django.apps import AppConfig


class CasemgmtConfig(AppConfig):
    name = "openiop.casemgmt"
    label = "casemgmt"
    verbose_name = "Case management"

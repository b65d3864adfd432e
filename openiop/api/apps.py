from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "openiop.api"
    label = "api"
    verbose_name = "REST API"

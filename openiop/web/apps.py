from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "openiop.web"
    label = "web"

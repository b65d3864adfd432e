from django.apps import AppConfig


class WebConfig(AppConfig):
    """The roof: the home page and the health check. It may import any app; no app imports it."""

    name = "openiop.web"
    label = "web"

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "openiop.web"
    label = "web"

    def ready(self) -> None:
        from django.urls import register_converter

        from openiop.web.converters import IdConverter

        register_converter(IdConverter, "id")

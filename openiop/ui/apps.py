from django.apps import AppConfig


class UiConfig(AppConfig):
    """What every page uses, below the apps: the Jinja2 environment, form fields and rendering,
    PDF, the staff_view wrapper, the base templates and the static files."""

    name = "openiop.ui"
    label = "ui"

    def ready(self) -> None:
        from django.urls import register_converter

        from openiop.ui.converters import IdConverter

        register_converter(IdConverter, "id")

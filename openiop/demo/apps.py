from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic and the synthetic network (commands demo, demo_logins, synth). It imports
    the apps it fills; nothing imports it."""

    name = "openiop.demo"
    label = "demo"

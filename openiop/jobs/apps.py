from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The Jobs page: staff see the background jobs of openiop.core.jobs (the runtime and its
    tables stay in core, below every app; this page sits among the apps, above ui)."""

    name = "openiop.jobs"
    label = "jobs"

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PageCacheConfig(AppConfig):
    name = "openiop.pagecache"
    label = "pagecache"
    verbose_name = "Page cache"

    def ready(self) -> None:
        from openiop.pagecache.triggers import install_after_migrate

        # After every migrate (a new table gets its trigger the day its migration runs).
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="pagecache-triggers")

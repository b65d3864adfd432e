from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "openiop.pagecache"
    label = "pagecache"
    verbose_name = "Page cache"

"""The task queue's own admin page (django_tasks_db) is not one of the set-up pages: it shows task
arguments and tracebacks. Staff see background jobs on the Jobs page (openiop.jobs), without either."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

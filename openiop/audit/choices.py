"""What an audit entry records (action, outcome): shared by models, services and the views that
name an action, so that a view need not import audit's models."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Removed"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Logged in"
    LOGOUT = "logout", "Logged out"
    LOGIN_FAILED = "login_failed", "Login failed"


class AuditOutcome(models.TextChoices):
    OK = "ok", "Allowed"
    DENIED = "denied", "Denied"
    ERROR = "error", "Refused (invalid)"

"""The one error tree. Each interface maps it once (form error, problem+json, CLI exit 2)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule or permission stops an action. `message` is written for the person who acted."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field

    def as_problem(self) -> dict[str, object]:
        """An RFC 9457 problem+json body (`detail`: the message, for this occurrence)."""
        body: dict[str, object] = {
            "type": f"https://openiop.org/problems/{self.code}",
            "title": self.message,
            "status": self.http_status,
            "detail": self.message,
            "code": self.code,
        }
        if self.field:
            body["field"] = self.field
        return body


class RuleViolation(DomainError):
    code = "rule_violation"
    http_status = 400


class NotPermitted(DomainError):
    code = "not_permitted"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    """Someone else changed the record since it was read (optimistic concurrency)."""

    code = "conflict"
    http_status = 409

"""The records that carry a 42 CFR Part 2 marking (core.models.Part2Marked), found through the app
registry so that this kernel names no app (../shared/domain.md section 5)."""

from __future__ import annotations

from typing import TypeVar

from django.apps import apps
from django.db.models import Model, QuerySet

from openiop.core.models import Part2Marked

M = TypeVar("M", bound=Part2Marked)


def part2_marked_models() -> list[type[Part2Marked]]:
    """Every concrete model that carries `part2`, in app registry order."""
    return [
        m
        for m in apps.get_models()
        if issubclass(m, Part2Marked) and not m._meta.abstract and not m._meta.proxy
    ]


def mark_episode_records_part2(episode_id: int) -> dict[str, int]:
    """Mark every record derived from one episode as Part 2 (an episode whose focus became
    substance use). Returns the number of rows marked per model label; one UPDATE per model.
    Never unmarks: a record once protected stays protected."""
    marked: dict[str, int] = {}
    for model in part2_marked_models():
        path = f"{model.part2_episode_path}_id"
        # Across a join, Django updates WHERE id IN (SELECT ...): each row once.
        count = model._default_manager.filter(**{path: episode_id}, part2=False).update(part2=True)
        if count:
            marked[model._meta.label] = count
    return marked


def is_part2_record(record: Model) -> bool:
    """Whether a loaded record carries the Part 2 marking (False for a model without one)."""
    return bool(getattr(record, "part2", False))


def unmarked_part2_rows(model: type[M]) -> QuerySet[M]:
    """The rows of `model` that belong to a Part 2 episode but are not marked (empty when every
    service did its job)."""
    path = f"{model.part2_episode_path}__part2_protected"
    return model._default_manager.filter(**{path: True}, part2=False)


def mark_all_part2_records() -> dict[str, int]:
    """Mark every unmarked record of a Part 2 episode (bulk loaders that write rows without the
    services, e.g. the synthetic network). Returns the rows marked per model label."""
    marked: dict[str, int] = {}
    for model in part2_marked_models():
        count = unmarked_part2_rows(model).update(part2=True)
        if count:
            marked[model._meta.label] = count
    return marked

"""Instruments as data plus pure scoring functions. `REGISTRY` maps each key to its Instrument."""

from __future__ import annotations

from openiop.measures.domain import cssrs
from openiop.measures.domain.base import AnswerError, Band, Instrument, Item, Score

REGISTRY: dict[str, Instrument] = {cssrs.KEY: cssrs.INSTRUMENT}

__all__ = ["REGISTRY", "AnswerError", "Band", "Instrument", "Item", "Score"]

"""Instruments as data plus pure scoring functions. `REGISTRY` maps each key to its Instrument.

Adding an instrument is one module (its items, bands, source and `score`) plus one line here and its
tests.
"""

from __future__ import annotations

from openiop.measures.domain import audit, auditc, bam, cssrs, dast10, gad7, pcl5, phq9, phqa
from openiop.measures.domain.base import AnswerError, Band, Instrument, Item, Score

REGISTRY: dict[str, Instrument] = {
    m.INSTRUMENT.key: m.INSTRUMENT
    for m in (phq9, phqa, gad7, cssrs, audit, auditc, dast10, pcl5, bam)
}

__all__ = ["REGISTRY", "AnswerError", "Band", "Instrument", "Item", "Score"]

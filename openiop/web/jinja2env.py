"""The Jinja2 environment settings name: ui's (what every page uses), plus the globals that ask an
app. web is the roof, so it may import the apps; ui, below them, may not."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from openiop.episodes.services import may_discharge as _may_discharge_rule
from openiop.measures.selectors import patient_risk_level
from openiop.ui import jinja2env as ui_jinja2env


def may_discharge(request: Any, episode: Any) -> bool:
    """Whether to offer Discharge on `episode` (the episodes service's own rule)."""
    return _may_discharge_rule(getattr(request, "user", None), episode)


def patient_risk(patient_id: int) -> str:
    """The suicide-risk level for the patient header (measures decides; one or two queries)."""
    return patient_risk_level(patient_id)


def environment(**options: Any) -> Environment:
    env = ui_jinja2env.environment(**options)
    env.globals.update({"patient_risk": patient_risk, "may_discharge": may_discharge})
    return env

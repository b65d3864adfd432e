"""The Jinja2 environment settings name: ui's (what every page uses), plus the globals that ask an
app. web is the roof, so it may import the apps; ui, below them, may not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from jinja2 import Environment

from openiop.accounts.domain import Cap
from openiop.drugtests.selectors import header_last_test
from openiop.episodes.services import may_discharge as _may_discharge_rule
from openiop.measures.selectors import patient_risk_level
from openiop.medications.selectors import HeaderMat, header_mat
from openiop.ui import jinja2env as ui_jinja2env


def may_discharge(request: Any, episode: Any) -> bool:
    """Whether to offer Discharge on `episode` (the episodes service's own rule)."""
    return _may_discharge_rule(getattr(request, "user", None), episode)


def patient_risk(patient_id: int) -> str:
    """The suicide-risk level for the patient header (measures decides; one or two queries)."""
    return patient_risk_level(patient_id)


@dataclass(frozen=True)
class PatientCare:
    """The care facts of the patient header beside the risk level: the current MAT (None: none,
    or the user may not see it) and the last drug test's day (`shows_tests`: whether the user may
    see tests at all, so "none yet" is only said to those who may)."""

    mat: HeaderMat | None
    shows_tests: bool
    last_test: dt.date | None

    @staticmethod
    def day(value: dt.date) -> str:
        """ "Nov 2" this year, "Nov 2, 2025" before."""
        this_year = value.year == timezone.localdate().year
        return value.strftime("%b %-d" if this_year else "%b %-d, %Y")


_CARE_KEY = "_openiop_patient_care"


def patient_care(request: Any, patient_id: int) -> PatientCare:
    """The patient header's MAT (Cap.CLINICAL_VIEW) and last drug test (Cap.DRUGTEST_VIEW): at most
    two queries per page whatever the number of headers on it (kept on the request), none for a
    role that sees neither. Not audited on its own: part of a page whose selector audits."""
    kept: dict[int, PatientCare] | None = getattr(request, _CARE_KEY, None)
    if kept is None:
        kept = {}
        if request is not None:
            setattr(request, _CARE_KEY, kept)
    if patient_id in kept:
        return kept[patient_id]
    user = getattr(request, "user", None)
    sees_mat = sees_tests = False
    if user is not None and user.is_authenticated:
        sees_mat, sees_tests = user.can(Cap.CLINICAL_VIEW), user.can(Cap.DRUGTEST_VIEW)
    care = PatientCare(
        mat=header_mat(patient_id) if sees_mat else None,
        shows_tests=sees_tests,
        last_test=header_last_test(patient_id) if sees_tests else None,
    )
    kept[patient_id] = care
    return care


def environment(**options: Any) -> Environment:
    env = ui_jinja2env.environment(**options)
    env.globals.update(
        {"patient_risk": patient_risk, "may_discharge": may_discharge, "patient_care": patient_care}
    )
    return env

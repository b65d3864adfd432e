"""`openiop demo`: a fictional clinic at every stage; the same seed gives the same clinic; loading
twice keeps the data. Runs the real command in subprocesses against throwaway SQLite files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.demo_subprocess

TODAY = "2026-03-12"  # a Thursday; the six past weeks cross the US daylight-saving change (8 Mar)


def _load(tmp: Path, name: str, seed: int) -> Path:
    db = tmp / f"{name}.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OPENIOP_SQLITE_PATH=str(db), OPENIOP_VAR_DIR=str(tmp))
    cmd = [sys.executable, "-m", "openiop.manage"]
    subprocess.run([*cmd, "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [*cmd, "demo", "--seed", str(seed), "--today", TODAY],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "Demo clinic loaded" in out.stdout
    again = subprocess.run([*cmd, "demo"], env=env, check=True, capture_output=True, text=True)
    assert "keeping its data" in again.stdout
    return db


def _fingerprint(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT p.mrn, p.legal_first_name, p.legal_last_name, p.date_of_birth, e.status, e.discharge_reason,"
            " e.admission_date, a.status, a.minutes_attended, s.date FROM patients_patient p"
            " JOIN episodes_episode e ON e.patient_id = p.id"
            " LEFT JOIN attendance_attendance a ON a.episode_id = e.id"
            " LEFT JOIN programs_groupsession s ON s.id = a.session_id ORDER BY p.mrn, s.starts_at"
        ).fetchall()
    return rows


@pytest.fixture(scope="module")
def demo_dbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("demo")
    return _load(tmp, "a", 7), _load(tmp, "b", 7), _load(tmp, "c", 8)


def test_same_seed_gives_the_same_clinic_and_another_seed_another(
    demo_dbs: tuple[Path, Path, Path],
) -> None:
    a, b, c = demo_dbs
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_the_demo_clinic_has_every_stage_and_discharge_reason(
    demo_dbs: tuple[Path, Path, Path],
) -> None:
    with sqlite3.connect(demo_dbs[0]) as con:

        def q(sql: str) -> list[Any]:
            return con.execute(sql).fetchall()

        assert q("SELECT count(*) FROM programs_site") == [(2,)]
        assert q("SELECT count(*) FROM programs_track") == [(3,)]
        staff = dict(q("SELECT role, count(*) FROM accounts_user GROUP BY role"))
        assert sum(staff.values()) == 12 and set(staff) == {
            "intake",
            "clinician",
            "case_manager",
            "prescriber",
            "billing",
            "director",
            "admin",
            "auditor",
        }
        patients = q("SELECT count(*) FROM patients_patient")[0][0]
        assert 40 <= patients <= 50
        statuses = dict(q("SELECT status, count(*) FROM episodes_episode GROUP BY status"))
        assert {"waitlisted", "active", "on_hold", "discharged"} <= set(statuses)
        reasons = {
            r
            for (r,) in q(
                "SELECT DISTINCT discharge_reason FROM episodes_episode WHERE status='discharged'"
            )
        }
        assert reasons == {"completed", "transferred", "dropped_out", "terminated", "other"}
        weeks = q(
            "SELECT count(DISTINCT strftime('%Y-%W', date)) FROM programs_groupsession s"
            " JOIN attendance_attendance a ON a.session_id = s.id"
        )[0][0]
        assert weeks >= 6
        assert q("SELECT count(*) FROM programs_groupsession WHERE status='cancelled'")[0][0] > 0
        assert q("SELECT count(*) FROM episodes_episode WHERE part2_protected")[0][0] > 0
        names = {n for (n,) in q("SELECT legal_last_name FROM patients_patient")}
        assert names <= set(__import__("openiop.demo.cast", fromlist=["LAST_NAMES"]).LAST_NAMES)


def test_some_demo_weeks_fall_below_the_minimum(demo_dbs: tuple[Path, Path, Path]) -> None:
    """Sum attended minutes per patient per week against the track minimum, as the ledger does."""
    with sqlite3.connect(demo_dbs[0]) as con:
        rows = con.execute(
            "SELECT e.id, strftime('%Y-%W', s.date) AS wk, sum(a.minutes_attended), t.weekly_minimum_minutes"
            " FROM attendance_attendance a JOIN programs_groupsession s ON s.id = a.session_id"
            " JOIN episodes_episode e ON e.id = a.episode_id JOIN programs_track t ON t.id = s.track_id"
            " GROUP BY e.id, wk"
        ).fetchall()
    below = [r for r in rows if r[2] < r[3]]
    met = [r for r in rows if r[2] >= r[3]]
    assert below and met


def test_the_demo_clinic_has_a_month_of_the_revenue_cycle(
    demo_dbs: tuple[Path, Path, Path],
) -> None:
    """Issue 16 point 8: payers, coverages, authorizations (one past 80%, alerted), a Medicare
    patient with a certification, a month of charges, claims in several states and a posted 835."""
    with sqlite3.connect(demo_dbs[0]) as con:

        def q(sql: str) -> list[Any]:
            return con.execute(sql).fetchall()

        payer_types = {t for (t,) in q("SELECT payer_type FROM billing_payer")}
        assert {"commercial", "medicaid", "medicare", "self_pay"} <= payer_types
        covered = q(
            "SELECT p.payer_type, count(*) FROM billing_coverage c"
            " JOIN billing_payer p ON p.id = c.payer_id"
            " JOIN episodes_episode e ON e.patient_id = c.patient_id"
            " WHERE e.status IN ('active', 'on_hold') GROUP BY p.payer_type"
        )
        assert dict(covered).keys() >= {"commercial", "medicaid", "medicare"}
        assert sum(n for _, n in covered) >= 10
        assert q(
            "SELECT count(*) FROM billing_physiciancertification pc"
            " JOIN episodes_episode e ON e.id = pc.episode_id"
            " JOIN billing_coverage c ON c.patient_id = e.patient_id"
            " JOIN billing_payer p ON p.id = c.payer_id WHERE p.payer_type = 'medicare'"
        ) == [(1,)]
        assert q("SELECT count(*) FROM billing_authorization")[0][0] >= 5
        assert q("SELECT count(*) FROM episodes_alert WHERE kind = 'authorization_usage'")[0][0]
        charges = q("SELECT count(*), count(DISTINCT service_date) FROM billing_charge")[0]
        assert charges[0] > 100 and charges[1] >= 20
        assert q("SELECT count(*) FROM billing_unbilledday")[0][0] > 0
        states = {s for (s,) in q("SELECT state FROM billing_claim")}
        assert {"draft", "ready", "submitted", "paid", "denied"} <= states
        assert q("SELECT count(*) FROM billing_claimexport")[0][0] >= 1
        assert q("SELECT count(*) FROM billing_remittance") == [(1,)]
        matched = q("SELECT count(*) FROM billing_remittanceclaim WHERE claim_id IS NOT NULL")
        assert matched[0][0] >= 4
        assert q("SELECT count(*) FROM billing_unmatchedremittanceitem") == [(0,)]
        assert q("SELECT count(*) FROM billing_denialworkitem")[0][0] >= 1


def test_the_demo_clinic_has_part2_consents_and_their_disclosures(
    demo_dbs: tuple[Path, Path, Path],
) -> None:
    """The demo's substance-use patients signed the TPO consent at intake (one in care has not
    yet, one discharged revoked it), so the claims sent to payers went out under a consent, each
    in the accounting of disclosures."""
    with sqlite3.connect(demo_dbs[0]) as con:

        def q(sql: str) -> list[Any]:
            return con.execute(sql).fetchall()

        part2_patients = {p for (p,) in q(
            "SELECT DISTINCT patient_id FROM episodes_episode WHERE part2_protected"
        )}  # fmt: skip
        consents = q("SELECT patient_id, recipient_kind, purpose, revoked_at FROM consents_consent")
        assert {p for p, *_ in consents} < part2_patients  # every consent is a Part 2 patient's
        assert len(part2_patients) - len({p for p, *_ in consents}) == 1
        assert {(k, purpose) for _p, k, purpose, _r in consents} == {("tpo_class", "tpo")}
        assert sum(1 for *_x, revoked in consents if revoked) == 1
        sent_part2 = q(
            "SELECT count(*) FROM billing_claim c JOIN episodes_episode e ON e.id = c.episode_id"
            " WHERE e.part2_protected AND c.state <> 'draft' AND c.state <> 'ready'"
        )[0][0]
        assert sent_part2 > 0
        assert q("SELECT count(*) FROM consents_disclosure")[0][0] > 0

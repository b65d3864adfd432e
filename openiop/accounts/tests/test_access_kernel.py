"""The access kernel (accounts.access): one definition of the sites a user sees, one site check,
one "load this record for this actor, for this purpose" that checks and audits."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from openiop.accounts.access import (
    check_for,
    get_for,
    kernel_checks,
    limited_site_ids,
    pick_site,
    require_site,
    site_scope,
    visible_site_ids,
    visible_sites,
)
from openiop.accounts.domain import Cap, Role
from openiop.audit.models import AuditEntry
from openiop.core.actor import Actor
from openiop.core.errors import NotFound, NotPermitted
from openiop.patients.models import Patient
from openiop.programs.models import Site
from openiop.programs.selectors import visible_sites as programs_visible_sites
from openiop.testing import make_org, make_patient, make_site, make_user

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries


@pytest.fixture
def far(staff: dict[str, Any]) -> dict[str, Any]:
    """Another organization with a site and a patient (fictional)."""
    org = make_org(name="Driftwood Shoals (fictional)", mrn_prefix="DS")
    site = make_site(org, name="Driftwood Pier (fictional)")
    return {"org": org, "site": site, "patient": make_patient(site)}


def test_a_director_sees_every_site_of_their_organization_only(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    actor = Actor(staff["director"])
    mine = {staff["site"].pk, staff["other"].pk}
    assert visible_site_ids(actor) == mine
    assert {s.pk for s in visible_sites(actor)} == mine
    assert {s.pk for s in programs_visible_sites(actor=actor)} == mine  # the same definition
    assert set(Site.objects.filter(site_scope(actor, "id")).values_list("pk", flat=True)) == mine
    assert not Patient.objects.filter(site_scope(actor)).filter(pk=far["patient"].pk).exists()


def test_a_clinician_sees_the_sites_they_work_at(staff: dict[str, Any]) -> None:
    actor = Actor(staff["clinician"])
    assert visible_site_ids(actor) == {staff["site"].pk}
    assert [s.pk for s in visible_sites(actor)] == [staff["site"].pk]


def test_require_site_refuses_another_organizations_site_and_audits(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    actor = Actor(staff["director"])
    require_site(actor, staff["other"], Cap.SCHEDULE_MANAGE, object_type="track")
    for site in (far["site"], far["site"].pk):
        with pytest.raises(NotPermitted, match="a site you do not work at"):
            require_site(actor, site, Cap.SCHEDULE_MANAGE, object_type="track")
    assert (
        AuditEntry.objects.filter(
            outcome="denied", object_type="track", detail__reason="site not permitted"
        ).count()
        == 2
    )


def test_require_site_refuses_a_role_without_the_capability(staff: dict[str, Any]) -> None:
    with pytest.raises(NotPermitted, match="Your role"):
        require_site(
            Actor(staff["billing"]), staff["site"], Cap.SCHEDULE_MANAGE, object_type="track"
        )


def test_get_for_loads_checks_and_audits_naming_the_patient(
    staff: dict[str, Any], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    patient = make_patient(staff["site"])
    actor = Actor(staff["clinician"])
    staff["clinician"].site_ids()  # the request's session query reads these (accounts.backends)
    with kernel_checks() as checks, django_assert_num_queries(1 + 1):  # the record, the entry
        got = get_for(
            actor,
            Patient.objects.all(),
            patient.pk,
            cap=Cap.CLINICAL_VIEW,
            object_type="patient_test",
            missing=NotFound("No such patient."),
            patient_of=lambda p: p,
        )
    assert got == patient
    assert checks == ["get_for", "require_patient"]
    entry = AuditEntry.objects.get(object_type="patient_test")
    assert (entry.action, entry.outcome, entry.patient_id) == ("view", "ok", patient.pk)


def test_get_for_refuses_another_sites_patient_and_audits_naming_them(
    staff: dict[str, Any],
) -> None:
    patient = make_patient(staff["other"])
    with pytest.raises(NotPermitted):
        get_for(
            Actor(staff["clinician"]),
            Patient.objects.all(),
            patient.pk,
            cap=Cap.CLINICAL_VIEW,
            object_type="patient_test",
            missing=NotFound("No such patient."),
            patient_of=lambda p: p,
        )
    entry = AuditEntry.objects.get(object_type="patient_test")
    assert (entry.outcome, entry.patient_id) == ("denied", patient.pk)


def test_get_for_raises_the_callers_not_found_for_a_missing_id(staff: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="No such site"):
        get_for(
            Actor(staff["clinician"]),
            Site.objects.all(),
            10**9,
            cap=Cap.SCHEDULE_VIEW,
            object_type="site_test",
            missing=NotFound("No such site."),
            site_of=lambda s: s,
        )


def test_a_user_of_no_organization_with_all_sites_sees_every_site(
    staff: dict[str, Any], far: dict[str, Any]
) -> None:
    admin = make_user(Role.ADMIN)
    assert {staff["site"].pk, far["site"].pk} <= visible_site_ids(Actor(admin))


def test_check_for_checks_a_loaded_record_and_audits_without_a_query(
    staff: dict[str, Any], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    patient = make_patient(staff["site"])
    actor = Actor(staff["clinician"])
    staff["clinician"].site_ids()
    with kernel_checks() as checks, django_assert_num_queries(1):  # the entry
        got = check_for(
            actor,
            patient,
            cap=Cap.CLINICAL_VIEW,
            object_type="patient_test",
            patient_of=lambda p: p,
        )
    assert got is patient
    assert checks == ["check_for", "require_patient"]
    entry = AuditEntry.objects.get(object_type="patient_test")
    assert (entry.action, entry.patient_id, entry.object_id) == (
        "view",
        patient.pk,
        str(patient.pk),
    )


def test_get_for_by_site_names_the_patient_given_in_the_refusal_and_the_entry(
    staff: dict[str, Any],
) -> None:
    mine, theirs = make_patient(staff["site"]), make_patient(staff["other"])
    actor = Actor(staff["clinician"])
    for patient in (mine, theirs):
        try:
            get_for(
                actor,
                Patient.objects.all(),
                patient.pk,
                cap=Cap.CLINICAL_VIEW,
                object_type="by_site_test",
                missing=NotFound("No such patient."),
                site_of=lambda p: p.site_id,
                patient_id_of=lambda p: p.pk,
            )
        except NotPermitted:
            assert patient == theirs
    entries = AuditEntry.objects.filter(object_type="by_site_test")
    assert sorted(entries.values_list("outcome", "patient_id")) == sorted(
        [("ok", mine.pk), ("denied", theirs.pk)]
    )


def test_limited_site_ids_is_none_only_for_every_site_of_the_organization(
    staff: dict[str, Any],
) -> None:
    assert limited_site_ids(Actor(staff["director"])) is None
    assert limited_site_ids(Actor(staff["clinician"])) == {staff["site"].pk}
    assert limited_site_ids(Actor(None)) == set()


def test_pick_site_takes_the_wanted_site_else_one_the_actor_works_at(staff: dict[str, Any]) -> None:
    actor = Actor(staff["clinician"])
    sites = sorted([staff["site"], staff["other"]], key=lambda s: s.pk == staff["site"].pk)
    assert pick_site(actor, sites, str(staff["other"].pk)) == staff["other"]
    assert pick_site(actor, sites, None) == staff["site"]
    assert pick_site(actor, sites, "nonsense") == staff["site"]
    assert pick_site(actor, [], None) is None


# --- no hand-written copy of the kernel --------------------------------------------------------------

OPENIOP = Path(__file__).resolve().parents[2]

# Denials that are business rules, not site checks: (module, reason).
BUSINESS_DENIALS = {
    ("accounts/services.py", "own access change"),
    ("episodes/services.py", "not the episode's primary clinician"),
    ("notes/services.py", "not the author"),
    ("notes/services.py", "not supervisor"),
}


def _read_and_write_modules() -> list[Path]:
    found: list[Path] = []
    for kind in ("selectors", "services"):
        found += OPENIOP.glob(f"*/{kind}.py")
        found += OPENIOP.glob(f"*/{kind}/**/*.py")
    return sorted(p for p in found if "tests" not in p.parts)


def hand_written_checks(source: str, module: str) -> list[str]:
    """What in `source` (a selector or service module) does the access kernel's work by hand: the
    user's own site list, a comparison of a site id with a set of sites, an audited denial (but
    BUSINESS_DENIALS), and in selectors the patient check that get_for / check_for make."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{module}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = name or (node.func.id if isinstance(node.func, ast.Name) else "")
            if name in {"site_ids", "sees_all_sites"}:
                found.append(f"{where} {name}()")
            elif name == "audit_denied":
                reason = next((k.value for k in node.keywords if k.arg == "reason"), None)
                text = reason.value if isinstance(reason, ast.Constant) else None
                if (module, text) not in BUSINESS_DENIALS:
                    found.append(f"{where} audit_denied(reason={text!r})")
            elif name == "require_patient" and module.endswith("selectors.py"):
                found.append(f"{where} require_patient() (use get_for or check_for)")
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            left = node.left
            if isinstance(left, ast.Attribute) and left.attr.endswith("site_id"):
                found.append(f"{where} .{left.attr} in/not in")
    return found


def test_no_selector_or_service_writes_its_own_site_check() -> None:
    modules = _read_and_write_modules()
    assert len(modules) >= 20  # every app's selectors and services were read
    found = []
    for path in modules:
        module = path.relative_to(OPENIOP).as_posix()
        if module == "audit/services.py":  # where audit_denied is defined
            continue
        found += hand_written_checks(path.read_text(), module)
    assert found == [], "use accounts.access (get_for, check_for, require_site, site_scope)"


@pytest.mark.parametrize(
    "copy",
    [
        "if patient.site_id not in user.site_ids():\n    pass\n",
        "if episode.patient.site_id not in visible_site_ids(actor):\n    pass\n",
        "ok = user.sees_all_sites()\n",
        "audit_denied(by, patient_id=1, object_type='x', reason='patient at another site')\n",
        "def get(actor, patient):\n    require_patient(actor, CAP, patient)\n",
    ],
)
def test_the_guard_finds_a_reintroduced_copy(copy: str) -> None:
    assert hand_written_checks(copy, "patients/selectors.py")
    clean = "require_site(actor, site, object_type='x')\n"
    assert hand_written_checks(clean, "patients/selectors.py") == []
    allowed = "audit_denied(by, patient_id=None, object_type='n', reason='not the author')\n"
    assert hand_written_checks(allowed, "notes/services.py") == []

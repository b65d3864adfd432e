"""Which sites a change to each table counts for: derived from the models, on any database."""

from openiop.pagecache.triggers import ALL, table_specs


def test_every_counted_table_reaches_a_site_or_counts_for_all() -> None:
    specs = {s.table: s.sites for s in table_specs()}
    assert specs["attendance_attendance"].count("UNION") >= 1  # session's site and episode's
    assert specs["patients_patient"] == ALL
    assert "programs_groupsession" in specs["notes_progressnote"]
    # reads write these
    assert "audit_auditentry" not in specs and "accounts_staffsession" not in specs
    assert "core_submission" not in specs  # a form's used token: no page shows it
    # the task queue and background jobs: workers write them all the time, no cached page shows them
    assert not {
        "django_tasks_db_dbtaskresult",
        "core_job",
        "core_jobschedule",
        "core_workerheartbeat",
    } & set(specs)
    assert all(query == ALL or "%1$I" in query for query in specs.values())
    # A treatment plan objective reaches its site through goal, problem, plan and episode.
    assert specs["treatment_planobjective"].count("LEFT JOIN") >= 4

"""The command line and the staff pages of the import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from openiop.core.jobs import run_queued
from openiop.imports.models import BatchStatus, ImportBatch
from openiop.imports.tests.conftest import BAD, GOOD_1, GOOD_2, Clinic, csv_of
from openiop.patients.models import Patient
from openiop.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "openiop.core.clock.now", lambda: dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    )


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_the_cli_dry_run_prints_rows_and_exits_2_on_a_refused_row(
    clinic: Clinic, tmp_path: Path
) -> None:
    path = tmp_path / "harbor.csv"
    path.write_text(csv_of(GOOD_1, BAD), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("patients", str(path), "--site", clinic.site.name, "--as", "ivy.intake", "--dry-run")
    assert exc.value.returncode == 2 and "1 rows would be refused" in str(exc.value)
    assert Patient.objects.count() == 0


def test_the_cli_imports_and_prints_the_report(clinic: Clinic, tmp_path: Path) -> None:
    path = tmp_path / "harbor.csv"
    path.write_text(csv_of(GOOD_1, GOOD_2), encoding="utf-8")
    out = run("patients", str(path), "--site", clinic.site.name, "--as", "ivy.intake")
    assert "row     2  create  Quillon Fakename (LH" in out
    assert "Imported: 2 patients created" in out
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "Nowhere", "--as", "ivy.intake"], "No site named 'Nowhere'"),
        (["--site", "Maple Street (fictional)", "--as", "nobody"], "No active staff user"),
    ],
)
def test_the_cli_exits_2_with_a_message_on_bad_input(
    clinic: Clinic, tmp_path: Path, args: list[str], message: str
) -> None:
    path = tmp_path / "harbor.csv"
    path.write_text(csv_of(GOOD_2), encoding="utf-8")
    with pytest.raises(CommandError, match=message) as exc:
        run("patients", str(path), *args)
    assert exc.value.returncode == 2


def test_the_cli_exits_2_for_an_unreadable_file_and_a_refusal(
    clinic: Clinic, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError) as exc:
        run("patients", str(bad), "--site", clinic.site.name, "--as", "ivy.intake")
    assert exc.value.returncode == 2
    make_user("clinician", sites=[clinic.site], org=clinic.org, username="cal.clinician")
    good = tmp_path / "good.csv"
    good.write_text(csv_of(GOOD_2), encoding="utf-8")
    with pytest.raises(CommandError, match="Your role does not allow this") as exc:
        run("patients", str(good), "--site", clinic.site.name, "--as", "cal.clinician")
    assert exc.value.returncode == 2


def upload(client: Any, clinic: Clinic, text: str, name: str = "harbor.csv") -> Any:
    return client.post(
        reverse("imports:list"),
        {
            "file": SimpleUploadedFile(name, text.encode()),
            "source_name": "Harbor EHR",
            "site": clinic.site.pk,
        },
    )


def test_the_page_uploads_reports_and_imports_on_confirm(clinic: Clinic, client: Any) -> None:
    client.force_login(clinic.intake)
    response = upload(client, clinic, csv_of(GOOD_1, BAD))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "imports:detail", kwargs={"batch_id": batch.pk}
    )
    assert "Quillon" not in response.url
    page = client.get(response.url).content.decode()
    assert "is not a date" in page and "Discard this file" in page and "Import 2 rows" not in page
    assert Patient.objects.count() == 0
    # The fixed file.
    upload(client, clinic, csv_of(GOOD_1, GOOD_2))
    fixed = ImportBatch.objects.order_by("-id").first()
    assert fixed is not None
    page = client.get(reverse("imports:detail", kwargs={"batch_id": fixed.pk})).content.decode()
    assert "Import 2 rows" in page
    assert (
        client.get(reverse("imports:detail", kwargs={"batch_id": fixed.pk}) + "?q=brisa")
        .content.decode()
        .count('<tr class="import-')
        == 1
    )
    response = client.post(reverse("imports:apply", kwargs={"batch_id": fixed.pk}))
    assert response.status_code == 302
    fixed.refresh_from_db()
    assert fixed.status == BatchStatus.APPLIED and fixed.content == ""
    assert Patient.objects.count() == 2
    # Confirming again imports nothing twice.
    client.post(reverse("imports:apply", kwargs={"batch_id": fixed.pk}))
    assert Patient.objects.count() == 2


def test_the_upload_form_keeps_its_input_on_a_bad_file(clinic: Clinic, client: Any) -> None:
    client.force_login(clinic.intake)
    response = upload(client, clinic, "nope,nada\n1,2\n")
    assert response.status_code == 422
    body = response.content.decode()
    assert "Unknown column(s): nope, nada" in body and 'value="Harbor EHR"' in body
    assert ImportBatch.objects.count() == 0


def test_a_large_file_is_imported_in_the_background_with_progress(
    clinic: Clinic, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("openiop.imports.services.INLINE_ROWS", 1)
    client.force_login(clinic.intake)
    upload(client, clinic, csv_of(GOOD_1, GOOD_2))
    batch = ImportBatch.objects.get()
    client.post(reverse("imports:apply", kwargs={"batch_id": batch.pk}))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUEUED and batch.job is not None
    assert Patient.objects.count() == 0
    fragment = client.get(
        reverse("imports:detail", kwargs={"batch_id": batch.pk}), headers={"HX-Request": "true"}
    )
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    run_queued()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.APPLIED and Patient.objects.count() == 2
    batch.job.refresh_from_db()
    assert (batch.job.progress_done, batch.job.progress_total) == (2, 2)


def test_staff_of_another_site_cannot_open_a_kept_file(clinic: Clinic, client: Any) -> None:
    client.force_login(clinic.intake)
    upload(client, clinic, csv_of(GOOD_2))
    batch = ImportBatch.objects.get()
    other = make_user("intake", sites=[clinic.other_site], org=clinic.org)
    client.force_login(other)
    for name in ("imports:detail", "imports:apply", "imports:discard"):
        response = client.post(reverse(name, kwargs={"batch_id": batch.pk}))
        assert response.status_code == 403, name
    assert "Nottareal" not in client.get(reverse("imports:list")).content.decode()
    clinician = make_user("clinician", sites=[clinic.site], org=clinic.org)
    client.force_login(clinician)
    assert client.get(reverse("imports:list")).status_code == 403

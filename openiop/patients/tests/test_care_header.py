"""Issue 18.5: the patient header shows the current MAT (clinical.view) and the day of the last
drug test (drugtest.view) beside the risk level, for the roles that may see them, at a fixed
number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from openiop.drugtests.models import DrugTestOrder
from openiop.episodes.models import Episode
from openiop.medications.models import MatEpisode
from openiop.patients.tests.clinic import Clinic
from openiop.patients.tests.test_views import CHART_QUERIES
from openiop.testing import make_episode, make_patient


@pytest.fixture
def episode(clinic: Clinic) -> Episode:
    clinic.site.timezone = "America/Chicago"
    clinic.site.save()
    patient = make_patient(clinic.site, legal_first_name="Zinnia", legal_last_name="Marrowbury")
    return make_episode(patient)


def _mat(
    episode: Episode, by: Any, kind: str, started: dt.date, ended: dt.date | None = None
) -> Any:
    return MatEpisode.objects.create(
        patient=episode.patient,
        episode=episode,
        kind=kind,
        started_on=started,
        ended_on=ended,
        started_by=by,
        part2=episode.part2_protected,
    )


def _test(
    episode: Episode, by: Any, collected: dt.datetime | None, status: str = "resulted"
) -> Any:
    return DrugTestOrder.objects.create(
        patient=episode.patient,
        episode=episode,
        kind="poc_cup",
        reason="scheduled",
        status=status,
        ordered_by=by,
        ordered_at=collected or timezone.now(),
        collected_at=collected,
        validity="valid" if status == "resulted" else "",
        resulted_at=collected if status == "resulted" else None,
        part2=episode.part2_protected,
    )


def _chart(client: Client, episode: Episode) -> str:
    response = client.get(reverse("patients:chart", kwargs={"patient_id": episode.patient_id}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_clinician_sees_the_open_mat_and_the_last_test_day_in_the_clinic_zone(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    _mat(episode, clinic.clinician, "naltrexone_oral", dt.date(2025, 6, 1), dt.date(2025, 10, 1))
    _mat(episode, clinic.clinician, "buprenorphine", dt.date(2025, 11, 2))
    # 03:00 UTC on March 10 is the evening of March 9 in Chicago, the site's zone.
    _test(episode, clinic.clinician, dt.datetime(2025, 3, 10, 3, 0, tzinfo=dt.UTC))
    _test(episode, clinic.clinician, dt.datetime(2025, 2, 1, 15, 0, tzinfo=dt.UTC))
    _test(episode, clinic.clinician, None, status="ordered")  # not resulted: not a test taken
    client.force_login(clinic.clinician)
    body = _chart(client, episode)
    assert 'data-mat="buprenorphine"' in body
    assert "MAT: buprenorphine since Nov 2, 2025" in body
    assert "naltrexone" not in body.split("</h1>")[0]  # the ended MAT is not current
    assert 'data-last-test="2025-03-09"' in body and "Last drug test: Mar 9, 2025" in body


def test_a_date_of_this_year_is_shown_without_the_year(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    this_year = timezone.localdate().year
    _mat(episode, clinic.clinician, "naltrexone_xr", dt.date(this_year, 1, 2))
    client.force_login(clinic.clinician)
    body = _chart(client, episode)
    assert "MAT: XR naltrexone since Jan 2<" in body
    assert "No drug test yet" in body


def test_the_case_manager_sees_the_mat_but_not_the_tests(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    _mat(episode, clinic.clinician, "buprenorphine", dt.date(2025, 11, 2))
    _test(episode, clinic.clinician, dt.datetime(2025, 3, 10, 15, 0, tzinfo=dt.UTC))
    client.force_login(clinic.case_manager)
    body = _chart(client, episode)
    assert "MAT: buprenorphine since Nov 2, 2025" in body
    assert "data-last-test" not in body and "drug test" not in body.lower().split("</h1>")[0]


@pytest.mark.parametrize("role", ["billing", "intake"])
def test_billing_and_intake_see_neither_mat_nor_tests_in_the_header(
    client: Client, clinic: Clinic, episode: Episode, role: str
) -> None:
    _mat(episode, clinic.clinician, "buprenorphine", dt.date(2025, 11, 2))
    _test(episode, clinic.clinician, dt.datetime(2025, 3, 10, 15, 0, tzinfo=dt.UTC))
    client.force_login(getattr(clinic, role))
    body = _chart(client, episode)
    assert "data-mat" not in body and "MAT:" not in body
    assert "data-last-test" not in body and "No drug test yet" not in body


def test_the_header_on_the_episode_page_shows_the_same(
    client: Client, clinic: Clinic, episode: Episode
) -> None:
    _mat(episode, clinic.clinician, "methadone_elsewhere", dt.date(2025, 11, 2))
    client.force_login(clinic.clinician)
    response = client.get(reverse("episodes:detail", kwargs={"episode_id": episode.pk}))
    assert response.status_code == 200
    assert "MAT: methadone (OTP) since Nov 2, 2025" in response.content.decode()


def test_the_chart_query_count_stays_pinned_with_mat_and_tests(
    client: Client,
    clinic: Clinic,
    episode: Episode,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    url = reverse("patients:chart", kwargs={"patient_id": episode.patient_id})
    client.force_login(clinic.clinician)
    client.get(url)  # warm the session
    with django_assert_num_queries(CHART_QUERIES):
        client.get(url)
    for i in range(4):
        ended = dt.date(2025, 1 + i, 20)
        _mat(episode, clinic.clinician, "naltrexone_oral", dt.date(2025, 1 + i, 1), ended)
        _test(episode, clinic.clinician, dt.datetime(2025, 5, 1 + i, 15, 0, tzinfo=dt.UTC))
    _mat(episode, clinic.clinician, "buprenorphine", dt.date(2025, 11, 2))
    with django_assert_num_queries(CHART_QUERIES):
        body = client.get(url).content.decode()
    assert "MAT: buprenorphine" in body and "Last drug test: May 4, 2025" in body

import pytest

from openiop.patients.tests.clinic import Clinic, build_clinic


@pytest.fixture
def clinic(db) -> Clinic:
    return build_clinic()

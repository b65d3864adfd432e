import pytest

from openiop.patients.tests.clinic import Clinic, build_clinic


@pytest.fixture
def clinic(db: None) -> Clinic:
    return build_clinic()

import pytest

from openiop.patients.tests.clinic import build_clinic


@pytest.fixture
def clinic(db):
    return build_clinic()

"""The admissions tests' fictional clinic (billing works on its inquiries), plus its sliding fee
configuration for the estimate tests."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openiop.admissions.tests.conftest import Clinic, clinic  # noqa: F401 - the shared fixture
from openiop.billing.models import PovertyGuidelineYear


@pytest.fixture
def guideline(clinic: Clinic) -> PovertyGuidelineYear:  # noqa: F811 - uses the imported fixture
    """Fictional figures: 15,000 for one person plus 5,000 for each additional person."""
    return PovertyGuidelineYear.objects.create(
        organization=clinic.org,
        year=2026,
        base_amount=Decimal("15000"),
        per_additional_person=Decimal("5000"),
        sliding_scale=[[100, 10], [200, 50], [None, 100]],
        daily_rate=Decimal("200.00"),
    )

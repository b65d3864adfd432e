"""C-SSRS screener triage, from ../shared/domain.md sections 4 and 7."""

import pytest

from openiop.measures.domain import REGISTRY, AnswerError, cssrs


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        ((0, 0, 0, 0, 0, 0, 0), "none"),
        ((1, 0, 0, 0, 0, 0, 0), "low"),
        ((0, 1, 0, 0, 0, 0, 0), "low"),
        ((1, 1, 1, 0, 0, 0, 0), "moderate"),
        # Intent without a plan is high, never moderate.
        ((1, 1, 0, 1, 0, 0, 0), "high"),
        ((1, 1, 1, 1, 1, 0, 0), "high"),
        # Behavior only more than 3 months ago is moderate; within 3 months is high.
        ((0, 0, 0, 0, 0, 1, 0), "moderate"),
        ((0, 0, 0, 0, 0, 1, 1), "high"),
        ((1, 0, 0, 0, 0, 1, 0), "moderate"),
    ],
)
def test_triage_tiers(answers: tuple[int, int, int, int, int, int, int], tier: str) -> None:
    result = cssrs.score(answers)
    assert result.band == tier
    assert result.total is None
    assert ("screen_positive" in result.flags) == (tier in ("moderate", "high"))


def test_method_without_thoughts_is_refused_naming_the_item() -> None:
    with pytest.raises(AnswerError) as err:
        cssrs.score((1, 0, 1, 0, 0, 0, 0))
    assert err.value.item == 3


def test_recent_without_behavior_is_refused() -> None:
    with pytest.raises(AnswerError) as err:
        cssrs.score((0, 0, 0, 0, 0, 0, 1))
    assert err.value.item == 7


@pytest.mark.parametrize("answers", [(0,) * 6, (0,) * 8, (0, 0, 0, 0, 0, 0, 2)])
def test_wrong_count_or_range_is_refused(answers: tuple[int, ...]) -> None:
    with pytest.raises(AnswerError):
        cssrs.score(answers)


def test_registry_holds_the_screener() -> None:
    assert REGISTRY["cssrs"].loinc_total == "93374-7"

"""ASAM level-of-care recommendation without a database: the most intensive dimension governs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.admissions.domain import asam
from openiop.admissions.domain.asam import (
    DIMENSION_NAMES,
    DIMENSIONS,
    MINIMUM_LEVEL,
    DimensionRating,
    Edition,
    Recommendation,
    dimension_name,
    recommend_level_of_care,
)
from openiop.episodes.choices import LevelOfCare
from openiop.episodes.domain import LEVEL_ORDER, level_rank


def rate(*ratings: int, edition: Edition | str = Edition.THIRD) -> Recommendation:
    """Recommend from six ratings given in dimension order (D1..D6)."""
    items = [
        DimensionRating(d, r, f"fictional note {d}")
        for d, r in zip(DIMENSIONS, ratings, strict=True)
    ]
    return recommend_level_of_care(items, edition)


@pytest.mark.parametrize(
    ("ratings", "level", "withdrawal", "governing"),
    [
        ((0, 0, 0, 0, 0, 0), "1", False, (1, 2, 3, 4, 5, 6)),
        ((1, 1, 1, 1, 1, 1), "1", False, (1, 2, 3, 4, 5, 6)),
        # One dimension high governs even when every other is 0: not an average.
        ((0, 0, 3, 0, 0, 0), "2.5", False, (3,)),
        ((0, 0, 0, 0, 0, 3), "3.1", False, (6,)),
        ((0, 0, 0, 0, 0, 4), "3.5", False, (6,)),
        ((0, 0, 0, 0, 4, 0), "3.5", False, (5,)),
        ((0, 0, 0, 4, 0, 0), "3.1", False, (4,)),
        ((0, 0, 4, 0, 0, 0), "4", False, (3,)),
        # IOP: moderate needs.
        ((0, 1, 2, 2, 1, 1), "2.1", False, (3, 4)),
        # domain.md example: D3 at 2.5 with D4/D5 at 3.1 gives 3.1.
        ((0, 0, 3, 4, 3, 0), "3.1", False, (4, 5)),
        # D1 rating 2 notes withdrawal management at an outpatient level.
        ((2, 0, 0, 0, 0, 0), "2.1", True, (1,)),
        ((2, 0, 3, 0, 0, 0), "2.5", True, (3,)),
        ((1, 0, 0, 0, 0, 0), "1", False, (1, 2, 3, 4, 5, 6)),
        # Medically managed needs in D1/D2 decide early.
        ((3, 0, 0, 0, 0, 0), "3.7", True, (1,)),
        ((4, 0, 0, 0, 0, 0), "4", True, (1,)),
        ((0, 4, 0, 0, 0, 0), "4", False, (2,)),
        ((0, 3, 0, 0, 0, 0), "2.5", False, (2,)),
        ((3, 4, 0, 0, 0, 0), "4", True, (2,)),
        # Another dimension can only raise an early decision.
        ((3, 0, 4, 0, 0, 0), "4", True, (3,)),
        ((4, 4, 4, 4, 4, 4), "4", True, (1, 2, 3)),
    ],
)
def test_most_intensive_dimension_governs(
    ratings: tuple[int, int, int, int, int, int],
    level: str,
    withdrawal: bool,
    governing: tuple[int, int, int, int, int, int]
    | tuple[int]
    | tuple[int, int]
    | tuple[int, int, int],
) -> None:
    result = rate(*ratings)
    assert result.level == level
    assert result.withdrawal_management is withdrawal
    assert result.governing_dimensions == governing


def test_one_severe_dimension_is_not_averaged_away() -> None:
    # Mean rating 0.5 would read as outpatient; the severe environment rating governs.
    result = rate(0, 0, 0, 0, 0, 3)
    assert result.level == "3.1"
    assert any("never averaged" in reason for reason in result.reasons)
    assert "Dimension 6 (Recovery environment) rated 3" in result.reasons[0]


@pytest.mark.parametrize(
    ("ratings", "early"),
    [
        ((3, 0, 0, 0, 0, 0), True),
        ((4, 0, 0, 0, 0, 0), True),
        ((0, 4, 0, 0, 0, 0), True),
        ((2, 3, 0, 0, 0, 0), False),
        ((0, 0, 4, 0, 0, 0), False),
        ((0, 0, 0, 4, 4, 4), False),
    ],
)
def test_medically_managed_need_in_d1_or_d2_decides_early(
    ratings: tuple[int, int, int, int, int, int], early: bool
) -> None:
    result = rate(*ratings)
    assert result.decided_early is early
    assert result.reasons[0].startswith("Stop early") is early
    if early:
        assert result.level in {"3.7", "4"}


def test_withdrawal_management_is_named_in_the_reasons() -> None:
    result = rate(2, 0, 0, 0, 0, 0)
    assert any(
        "Dimension 1 (Acute intoxication/withdrawal) rated 2" in r and "withdrawal management" in r
        for r in result.reasons
    )
    assert "Withdrawal management" in result.why_not_lower


@pytest.mark.parametrize(
    ("edition", "governing_name"),
    [
        (Edition.THIRD, "Dimension 4 (Readiness to change)"),
        (Edition.FOURTH, "Dimension 4 (Substance use-related risks)"),
        ("4", "Dimension 4 (Substance use-related risks)"),
    ],
)
def test_reasons_use_the_editions_dimension_names(
    edition: Edition | str, governing_name: str
) -> None:
    result = rate(0, 0, 0, 3, 0, 0, edition=edition)
    assert governing_name in result.reasons[0]
    assert governing_name in result.why_not_lower


def test_fourth_edition_names() -> None:
    assert dict(DIMENSION_NAMES[Edition.FOURTH]) == {
        1: "Intoxication, withdrawal and addiction medications",
        2: "Biomedical",
        3: "Psychiatric and cognitive",
        4: "Substance use-related risks",
        5: "Recovery environment interactions",
        6: "Person-centered considerations",
    }
    assert dimension_name(6, "4") == "Person-centered considerations"
    assert dimension_name(6, Edition.THIRD) == "Recovery environment"


def test_fourth_edition_rates_environment_in_d5() -> None:
    # The same environment need sits in D6 (3rd edition) and D5 (4th edition).
    assert rate(0, 0, 0, 0, 0, 4, edition="3").level == rate(0, 0, 0, 0, 4, 0, edition="4").level


@pytest.mark.parametrize(
    ("ratings", "lower_part", "higher_part"),
    [
        ((0, 0, 0, 0, 0, 0), "least intensive level", "Level 2.1 or above"),
        ((0, 0, 2, 0, 0, 0), "Level 1)", "Level 2.5 or above"),
        ((3, 0, 0, 0, 0, 0), "Level 3.5 or below", "(Level 4)"),
        ((0, 4, 0, 0, 0, 0), "Level 3.7 or below", "most intensive level"),
    ],
)
def test_why_not_statements_are_written_for_the_record(
    ratings: tuple[int, int, int, int, int, int], lower_part: str, higher_part: str
) -> None:
    result = rate(*ratings)
    assert lower_part in result.why_not_lower
    assert higher_part in result.why_not_higher


def test_levels_are_the_episode_levels() -> None:
    for edition in Edition:
        for dimension in DIMENSIONS:
            assert set(MINIMUM_LEVEL[edition][dimension]) == {0, 1, 2, 3, 4}
            for level in MINIMUM_LEVEL[edition][dimension].values():
                assert level in LevelOfCare.values
    assert rate(0, 0, 0, 0, 0, 0).level == LevelOfCare.L1


def test_table_rises_with_the_rating() -> None:
    for edition in Edition:
        for dimension in DIMENSIONS:
            ranks = [level_rank(MINIMUM_LEVEL[edition][dimension][r]) for r in range(5)]
            assert ranks == sorted(ranks), (edition, dimension)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)],
            r"Missing: Dimension 6 \(Recovery environment\)",
        ),
        ([(1, 0), (2, 0), (3, 0)], r"Missing: Dimension 4 .*Dimension 5 .*Dimension 6"),
        ([], "Missing: Dimension 1"),
        (
            [(1, 0), (2, 0), (2, 1), (3, 0), (4, 0), (5, 0), (6, 0)],
            r"Dimension 2 \(Biomedical\) is rated more than once",
        ),
        ([(1, 0), (2, 0), (3, 5), (4, 0), (5, 0), (6, 0)], r"Dimension 3 .* has rating 5"),
        ([(1, -1), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)], r"Dimension 1 .* has rating -1"),
        ([(1, 0), (2, 0), (3, 0), (4, 2.5), (5, 0), (6, 0)], r"Dimension 4 .* has rating 2.5"),
        ([(1, 0), (2, 0), (3, 0), (4, 0), (5, True), (6, 0)], r"Dimension 5 .* has rating True"),
        ([(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (7, 0)], "Dimension 7 is not an ASAM dimension"),
        ([(0, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0)], "Dimension 0 is not an ASAM dimension"),
    ],
)
def test_invalid_ratings_are_refused_naming_the_dimension(
    items: list[tuple[int, int | float]],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        recommend_level_of_care(
            [DimensionRating(d, r) for d, r in items],  # type: ignore[arg-type]  # floats, on purpose
            Edition.THIRD,
        )


def test_unknown_edition_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ASAM Criteria edition"):
        rate(0, 0, 0, 0, 0, 0, edition="5")


def test_a_clinic_can_configure_its_own_table() -> None:
    stricter = {e: {d: dict(MINIMUM_LEVEL[e][d]) for d in DIMENSIONS} for e in Edition}
    stricter[Edition.THIRD][6][2] = "2.5"
    items = [DimensionRating(d, 2 if d == 6 else 0) for d in DIMENSIONS]
    assert recommend_level_of_care(items, "3").level == "2.1"
    assert recommend_level_of_care(items, "3", minimums=stricter).level == "2.5"


def test_a_table_with_an_unknown_level_is_refused() -> None:
    broken = {e: {d: dict(MINIMUM_LEVEL[e][d]) for d in DIMENSIONS} for e in Edition}
    broken[Edition.THIRD][1][0] = "9"
    with pytest.raises(ValueError, match="not an ASAM level"):
        recommend_level_of_care([DimensionRating(d, 0) for d in DIMENSIONS], "3", minimums=broken)


ratings_st = st.lists(st.integers(min_value=0, max_value=4), min_size=6, max_size=6)
editions_st = st.sampled_from(list(Edition))


@given(
    ratings=ratings_st,
    edition=editions_st,
    dimension=st.sampled_from(DIMENSIONS),
    raise_by=st.integers(min_value=1, max_value=4),
)
def test_raising_any_rating_never_lowers_the_level(
    ratings: list[int], edition: Edition, dimension: int, raise_by: int
) -> None:
    before = rate(*ratings, edition=edition)
    raised = list(ratings)
    raised[dimension - 1] = min(4, raised[dimension - 1] + raise_by)
    after = rate(*raised, edition=edition)
    assert level_rank(after.level) >= level_rank(before.level)
    assert after.withdrawal_management >= before.withdrawal_management


@given(ratings=ratings_st, edition=editions_st)
def test_level_is_the_most_intensive_implied_level(ratings: list[int], edition: Edition) -> None:
    result = rate(*ratings, edition=edition)
    implied = [MINIMUM_LEVEL[edition][d][r] for d, r in zip(DIMENSIONS, ratings, strict=True)]
    assert result.level == max(implied, key=level_rank)
    assert result.level in LEVEL_ORDER
    assert result.governing_dimensions
    assert result.withdrawal_management is (ratings[0] >= 2)
    assert result.reasons and result.why_not_lower and result.why_not_higher


@given(ratings=ratings_st, edition=editions_st, order=st.permutations(DIMENSIONS))
def test_order_of_the_ratings_does_not_matter(
    ratings: list[int], edition: Edition, order: list[int]
) -> None:
    items = [DimensionRating(d, ratings[d - 1]) for d in order]
    assert recommend_level_of_care(items, edition) == rate(*ratings, edition=edition)


@pytest.mark.parametrize(
    ("level", "edition", "name"),
    [
        ("2.5", "3", "Level 2.5 · Partial hospitalization"),
        ("2.5", "4", "Level 2.5 · High-intensity outpatient"),
        ("2.1", "4", "Level 2.1 · Intensive outpatient"),
    ],
)
def test_level_names_follow_the_edition(level: str, edition: str, name: str) -> None:
    assert asam.level_name(level, edition) == name


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError):
        asam.level_name("9", "3")

"""ranking.py: standard competition ranking ("1224"), ties by id, zero scores left out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ripple.domain.ranking import RankedEntry, rank

HYP = settings(deadline=None, derandomize=True, database=None, max_examples=100)


def test_competition_ranking_1_1_3() -> None:
    out = rank([("carol", 3), ("bob", 5), ("alice", 5)], limit=10)
    assert [(e.rank, e.id, e.score) for e in out] == [(1, "alice", 5), (1, "bob", 5), (3, "carol", 3)]


def test_1224() -> None:
    out = rank([("a", 9), ("b", 7), ("c", 7), ("d", 1)], limit=10)
    assert [e.rank for e in out] == [1, 2, 2, 4]


def test_ties_ordered_by_id_regardless_of_input_order() -> None:
    rows = [("zed", 4), ("amy", 4), ("mo", 4)]
    assert [e.id for e in rank(rows, 10)] == ["amy", "mo", "zed"]
    assert rank(rows, 10) == rank(list(reversed(rows)), 10)
    assert {e.rank for e in rank(rows, 10)} == {1}


def test_zero_and_negative_scores_excluded() -> None:
    out = rank([("a", 0), ("b", 2), ("c", -1)], limit=10)
    assert [e.id for e in out] == ["b"]
    assert rank([("a", 0)], 10) == []


def test_limit_keeps_shared_rank_of_the_cut() -> None:
    out = rank([("a", 5), ("b", 3), ("c", 3), ("d", 3)], limit=3)
    assert [(e.rank, e.id) for e in out] == [(1, "a"), (2, "b"), (2, "c")]


def test_to_dict() -> None:
    assert RankedEntry(2, "x", 7).to_dict() == {"rank": 2, "id": "x", "score": 7}


@HYP
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(-3, 6), max_size=20))
def test_rank_is_one_plus_number_of_strictly_better(scores: dict[str, int]) -> None:
    out = rank(scores.items(), limit=100)
    positive = {m: s for m, s in scores.items() if s > 0}
    assert [e.id for e in out] == sorted(positive, key=lambda m: (-positive[m], m))
    for e in out:
        assert e.rank == 1 + sum(1 for s in positive.values() if s > e.score)

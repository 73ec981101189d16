"""The faked-date runner's plans and arguments (tests/fakedates.py); running it is `make test-dates`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakedates import PLANS, FakeDateError, main, parse_moment


def test_a_moment_is_a_local_time_in_a_named_zone() -> None:
    # 01:30 in Berlin on the night of the summer-time switch is still winter time (UTC+1)
    utc = datetime(2027, 3, 28, 0, 30, tzinfo=UTC).timestamp()
    assert parse_moment("2027-03-28T01:30 Europe/Berlin") == (utc, "Europe/Berlin")
    for bad in ("2027-03-28T01:30", "2027-13-01T00:00 UTC", "2027-01-01T00:00 Mars/Olympus"):
        with pytest.raises(FakeDateError):
            parse_moment(bad)


def test_every_plan_runs_the_unit_tests_at_four_dates_and_everything_at_two_at_least() -> None:
    for name, runs in PLANS.items():
        tiers = ("unit", "functional", "integration")
        at = {tier: {m for m, args in runs if f"tests/{tier}" in args} for tier in tiers}
        assert len(at["unit"]) == 4, name
        assert len(at["functional"] & at["integration"]) >= 2, name
        assert len(runs) == len(set(runs)), name
    full = PLANS["full"]
    assert {m for m, a in full if "tests/integration" in a} == {m for m, a in full if "tests/unit" in a}


@pytest.mark.parametrize(
    "argv",
    [[], ["--plan", "weekly"], ["--jobs", "0", "--plan", "ci"], ["--plan", "ci", "2027-01-01T00:05 UTC"], ["noon"]],
)
def test_bad_arguments_are_refused_before_anything_runs(argv: list[str]) -> None:
    with pytest.raises(FakeDateError):
        main(argv)

"""Share and split arithmetic, and validation of references and requests."""

import math

import pytest

from musicapp.core import (
    GenerationRequest,
    InvalidInput,
    Level,
    Provenance,
    Reference,
    RightsHolder,
    Song,
    SourceShare,
    Split,
    TimeRange,
    allocate,
    check_splits,
    holder_shares,
)
from musicapp.core.codec import request_from_dict, request_to_dict


def song(sid, *splits):
    return Song(
        sid, sid, "a", "b", "g", splits=tuple(Split(RightsHolder(h, h), s) for h, s in splits)
    )


def test_royalty_share_is_reference_share_times_split():
    songs = {"a": song("a", ("x", 0.5), ("y", 0.5)), "b": song("b", ("y", 0.25), ("z", 0.75))}
    prov = Provenance((SourceShare(0, "a", 0.6), SourceShare(1, "b", 0.4)))
    shares = holder_shares(prov, songs)
    assert shares == pytest.approx({"x": 0.3, "y": 0.3 + 0.1, "z": 0.3})
    assert math.isclose(sum(shares.values()), 1.0)


def test_provenance_refuses_shares_not_summing_to_one():
    with pytest.raises(InvalidInput, match="add up to"):
        Provenance((SourceShare(0, "a", 0.6), SourceShare(1, "b", 0.3)))


def test_same_song_twice_adds_up():
    prov = Provenance(
        (SourceShare(0, "a", 0.5), SourceShare(1, "a", 0.2), SourceShare(2, "b", 0.3))
    )
    assert prov.song_shares() == pytest.approx({"a": 0.7, "b": 0.3})
    assert Provenance.from_dict(prov.to_dict()) == prov


@pytest.mark.parametrize(
    ("weights", "units", "expected"),
    [
        ((0.7, 0.3), 10, (7, 3)),
        ((1, 1, 1), 10, (4, 3, 3)),
        ((0.99, 0.01), 4, (3, 1)),
        ((2, 1), 0, (0, 0)),
    ],
)
def test_allocate_is_proportional_and_gives_everyone_a_unit(weights, units, expected):
    assert allocate(weights, units) == expected
    assert sum(allocate(weights, units)) == units


def test_splits_must_sum_to_one():
    check_splits("s", (Split(RightsHolder("a", "A"), 0.5), Split(RightsHolder("b", "B"), 0.5)))
    with pytest.raises(InvalidInput, match="add up to 0.900000"):
        check_splits("s", (Split(RightsHolder("a", "A"), 0.5), Split(RightsHolder("b", "B"), 0.4)))


@pytest.mark.parametrize("weight", [0, -1, float("nan"), float("inf")])
def test_weight_must_be_positive(weight):
    with pytest.raises(InvalidInput, match="weight must be a positive number"):
        Reference("s", weight=weight)


def test_time_range_validation_names_the_problem():
    with pytest.raises(InvalidInput, match="end 2 s must be after start 5 s"):
        TimeRange(5, 2)
    with pytest.raises(InvalidInput, match="outside song x, which lasts 30.0 s"):
        TimeRange(10, 40).check_within(30.0, "song x")
    assert TimeRange.parse("1.5-3") == TimeRange(1.5, 3)
    with pytest.raises(InvalidInput, match="START-END"):
        TimeRange.parse("soon")


def test_parameter_reference_needs_a_role_and_request_needs_references():
    with pytest.raises(InvalidInput, match="needs a role"):
        Reference("s", Level.PARAMETER)
    with pytest.raises(InvalidInput, match="at least one reference"):
        GenerationRequest(())
    with pytest.raises(InvalidInput, match="duration"):
        GenerationRequest((Reference("s"),), duration_s=0.5)


def test_request_round_trips_through_its_dict_form():
    req = GenerationRequest(
        (Reference("a", weight=0.7), Reference("b", time_range=TimeRange(1, 4))), seed=3
    )
    assert request_from_dict(request_to_dict(req)) == req

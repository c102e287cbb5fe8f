"""The audit harness's metrics on small hand-made cases whose answers can be checked by hand."""

from __future__ import annotations

import math

import pytest

from musicapp.attribution.scoring import (
    NONE,
    ClipTruth,
    audit_per_second,
    percentile,
    ratio,
    references_recall,
    score_clip,
    share_l1,
    timeline_agreement,
    top_k_hit,
    true_top,
    truth_per_second,
)
from musicapp.attribution.types import AuditResult, Finding, Segment
from musicapp.core.provenance import USER_SOURCE, TimelineSlot


def result(influence: dict[str, float], segments: tuple[Segment, ...] = ()) -> AuditResult:
    return AuditResult(duration_s=4.0, sample_rate=44100, segments=segments, influence=influence)


def seg(start: float, end: float, influence: dict[str, float]) -> Segment:
    return Segment(start, end, (), influence)


TRUTH = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}  # a take of four songs, "a" the largest


def test_top1_and_top3_look_for_the_true_largest_song():
    audit = result({"x": 0.4, "y": 0.3, "a": 0.2, "b": 0.1})
    assert true_top(TRUTH) == "a"
    assert top_k_hit(audit, TRUTH, 1) is False  # the audit's first is x
    assert top_k_hit(audit, TRUTH, 3) is True  # a is third
    assert top_k_hit(result({"a": 0.9}), TRUTH, 1) is True
    assert top_k_hit(audit, {}, 3) is None  # nothing to judge: left out of the rates


def test_references_recall_counts_songs_of_ten_percent_within_the_audits_top_n():
    # The take used 4 songs, so the audit's top 4 count: a, x, c, d. Of the songs with >= 10 %
    # (a, b, c) two are there: 2 of 3.
    audit = result({"a": 0.4, "x": 0.3, "c": 0.1, "d": 0.06, "b": 0.05})
    assert references_recall(audit, TRUTH) == (2, 3)


def test_share_l1_adds_song_differences_and_the_unattributed_rest():
    # Truth: a 0.6, b 0.2, the user's own audio 0.2. Audit: a 0.5, c 0.1, unattributed 0.4.
    # |0.5-0.6| + |0-0.2| + |0.1-0| + |0.4-0.2| = 0.1 + 0.2 + 0.1 + 0.2 = 0.6
    audit = result({"a": 0.5, "c": 0.1})
    assert share_l1(audit, {"a": 0.6, "b": 0.2}) == pytest.approx(0.6)
    assert share_l1(result({"a": 1.0}), {"a": 1.0}) == pytest.approx(0.0)


def test_timeline_agreement_per_second_with_the_users_audio_as_none():
    timeline = (
        TimelineSlot(0.0, 2.0, (("a", 0.7), ("b", 0.3))),
        TimelineSlot(2.0, 3.0, ((USER_SOURCE, 0.8), ("b", 0.2))),
        TimelineSlot(3.0, 4.0, (("b", 1.0),)),
    )
    truth = truth_per_second(timeline, 4.2)  # 4 whole seconds
    assert truth == ["a", "a", NONE, "b"]
    segments = (
        seg(0.0, 1.0, {"a": 0.9}),
        seg(1.0, 2.0, {"b": 0.6, "a": 0.3}),  # wrong song
        seg(2.0, 3.0, {"a": 0.3}),  # 0.7 unattributed: says none, as the truth does
        seg(3.0, 4.0, {"b": 0.5}),  # exactly half unattributed is still b's
    )
    audit = audit_per_second(result({"a": 0.5, "b": 0.4}, segments), 4.2)
    assert audit == ["a", "b", NONE, "b"]
    assert timeline_agreement(truth, audit) == (3, 4)


def test_an_audit_without_segments_answers_its_whole_piece_influence_every_second():
    audit = audit_per_second(result({"a": 0.6, "b": 0.3}), 3.0)
    assert audit == ["a", "a", "a"]
    # A second the timeline does not cover has no truth and is not counted.
    truth = truth_per_second((TimelineSlot(0.0, 2.0, (("a", 1.0),)),), 3.0)
    assert truth == ["a", "a", None]
    assert timeline_agreement(truth, audit) == (2, 2)


def finding(song: str, start: float, end: float) -> Finding:
    return Finding(song, start, end, 0.0, end - start, 0.9)


def test_position_error_is_measured_in_bars_of_the_stretched_excerpt():
    # The excerpt sits at 10-18 s with 2 s bars; found at 9.5-21 s: start off by 0.25 bar, end
    # by 1.5 bars, so not within one bar.
    truth = ClipTruth("a", 10.0, 18.0, 2.0)
    s = score_clip([finding("a", 9.5, 21.0)], truth)
    assert s.found and not s.false_positive
    assert s.start_error_bars == pytest.approx(0.25)
    assert s.end_error_bars == pytest.approx(1.5)
    assert s.within_bar is False
    assert score_clip([finding("a", 11.0, 17.0)], truth).within_bar is True


def test_of_several_findings_of_the_song_the_one_overlapping_the_excerpt_counts():
    truth = ClipTruth("a", 10.0, 18.0, 2.0)
    s = score_clip([finding("a", 0.0, 2.0), finding("a", 10.5, 17.0), finding("b", 3, 5)], truth)
    assert s.found
    assert s.false_positive  # "b" is not in the clip
    assert s.start_error_bars == pytest.approx(0.25)
    assert s.end_error_bars == pytest.approx(0.5)


def test_clean_clips_count_any_finding_as_a_false_positive_and_misses_have_no_position():
    clean = ClipTruth(None)
    assert score_clip([], clean).false_positive is False
    assert score_clip([finding("a", 1, 5)], clean).false_positive is True
    missed = score_clip([finding("b", 1, 5)], ClipTruth("a", 1, 5, 2.0))
    assert not missed.found and missed.false_positive and missed.within_bar is None


def test_percentile_and_ratio():
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert math.isnan(percentile([], 50))
    assert ratio(3, 4) == 0.75
    assert math.isnan(ratio(0, 0))  # nothing counted is "n/a", never 0 %

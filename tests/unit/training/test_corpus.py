"""Who is in the training set: every holder's current consent must allow model training."""

from __future__ import annotations

from training_helpers import (
    ALL,
    ANA,
    BEN,
    NO_TRAINING,
    NOW,
    consent,
    later,
    song,
)

from musicapp.training.corpus import consented_songs, training_consent
from musicapp.training.public_domain import draw, fold_title


def test_a_song_whose_one_holder_refuses_training_is_left_out():
    both = song("both-agree", ANA, BEN)
    one_refuses = song("ben-refuses", ANA, BEN)
    records = [
        consent("both-agree", ANA),
        consent("both-agree", BEN),
        consent("ben-refuses", ANA),
        consent("ben-refuses", BEN, permissions=NO_TRAINING),
    ]
    allowed, excluded = consented_songs([both, one_refuses], records, NOW)
    assert allowed == {"both-agree": {"h-ana": 1, "h-ben": 1}}
    assert [e.song_id for e in excluded] == ["ben-refuses"]
    assert "Ben does not allow model training" in excluded[0].reason


def test_a_revoked_song_and_a_silent_holder_are_left_out_default_deny():
    revoked = song("revoked", ANA)
    silent = song("silent", ANA, BEN)
    no_holders = song("no-holders")
    records = [
        consent("revoked", ANA),
        consent("revoked", ANA, version=2, at=later(30), revoked=later(30)),
        consent("silent", ANA),
    ]
    allowed, excluded = consented_songs([revoked, silent, no_holders], records, NOW)
    assert allowed == {}
    reasons = {e.song_id: e.reason for e in excluded}
    assert "revoked" in reasons["revoked"]
    assert "Ben has not given consent" in reasons["silent"]
    assert "no registered rights holders" in reasons["no-holders"]


def test_the_current_version_decides_and_is_the_one_recorded():
    s = song("changed-mind", ANA)
    v1_refuses = [consent("changed-mind", ANA, permissions=NO_TRAINING)]
    v2_allows = [*v1_refuses, consent("changed-mind", ANA, version=2, at=later(10))]
    assert training_consent(s, v1_refuses, NOW)[0] is None
    assert training_consent(s, v2_allows, NOW) == ({"h-ana": 2}, "")
    # Before version 2 took effect, version 1 (no training) was in force.
    assert training_consent(s, v2_allows, later(5))[0] is None
    # A version that drops the flag again withdraws it.
    v3 = [*v2_allows, consent("changed-mind", ANA, version=3, at=later(20), permissions=ALL - ALL)]
    assert training_consent(s, v3, NOW)[0] is None


def test_a_song_blocked_by_an_unreadable_server_record_is_left_out():
    s = song("blocked", ANA)
    allowed, excluded = consented_songs(
        [s], [consent("blocked", ANA)], NOW, {"blocked": ["the server's version 2 is unreadable"]}
    )
    assert allowed == {} and "unreadable" in excluded[0].reason


def test_public_domain_draw_never_takes_a_tune_the_catalogue_holds():
    """The demo catalogue's revoked O'Neill's tune must not come back as 'public domain'."""
    revoked_source = ("oneills1850/0101-0200.abc", 108)
    first = draw(200, seed=3, avoid_sources=set(), avoid_titles=set())
    held = next(t for t in first if t.collection == "oneills")
    avoid = {revoked_source, (held.source, held.number)}
    again = draw(200, seed=3, avoid_sources=avoid, avoid_titles={fold_title(held.title)})
    assert all((t.source, t.number) not in avoid for t in again)
    assert all(fold_title(t.title) != fold_title(held.title) for t in again)
    # Seeded: the same seed names the same tunes.
    assert draw(50, 9, set(), set()) == draw(50, 9, set(), set())

"""Search ranking and the filters beside the search box: usable for a level and use, genre,
era, instrument."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from catalog_fakes import HOLDER_A, HOLDER_B

from musicapp.catalog.search import SearchFilters
from musicapp.core import ConsentRecord, Level, Permission, Stem, Use

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ALL_USES = frozenset(Use)


def grant(song_id, holder, version, permissions=frozenset(Permission), uses=ALL_USES, **kw):
    return ConsentRecord(
        song_id, holder, version, frozenset(permissions), frozenset(uses), kw.pop("at", T0), **kw
    )


def both(song_id, **kw):
    return [grant(song_id, HOLDER_A.id, 1, **kw), grant(song_id, HOLDER_B.id, 1, **kw)]


@pytest.fixture
def library(store, make_song):
    songs = {
        # every use, every level
        "open": dict(title="Open Road", genre="Rock", era="1970s", consent=both("open")),
        # private and non-commercial only
        "nc": dict(
            title="Night Call",
            genre="Rock",
            era="1980s",
            consent=both("nc", uses={Use.PRIVATE, Use.NON_COMMERCIAL}),
        ),
        # whole-song inference only, for every use
        "songonly": dict(
            title="Song Only",
            genre="Folk",
            era="1970s",
            consent=both("songonly", permissions={Permission.SONG_INFERENCE}),
        ),
        # one holder said nothing: default deny
        "half": dict(title="Half Said", genre="Folk", consent=[grant("half", HOLDER_A.id, 1)]),
        "none": dict(title="No Word", genre="Jazz", era="1950s", consent=[]),
    }
    for sid, fields in songs.items():
        consent = fields.pop("consent")
        song, files = make_song(sid, **fields)
        if sid == "nc":  # a fiddle tune: its stems name a violin
            song = song.__class__(**{**song.__dict__, "stems": _with_violin(song.stems)})
        store.add_song(song, files, consent=consent)
    return store


def _with_violin(stems):
    first = stems[0]
    return (Stem(first.name, "Violin", "strings", first.role), *stems[1:])


def ids(rows):
    return sorted(r.id for r in rows)


def test_usable_filter_follows_the_consent_policy(library):
    def usable(level, use):
        return ids(library.browse.search("", 50, SearchFilters(level=level, use=use)))

    assert usable(Level.AUDIO, Use.COMMERCIAL) == ["open"]
    assert usable(Level.AUDIO, Use.NON_COMMERCIAL) == ["nc", "open"]
    assert usable(Level.SONG, Use.COMMERCIAL) == ["open", "songonly"]
    # A song with a silent rights holder is never usable; nor one with no consent at all.
    assert "half" not in usable(Level.SONG, Use.PRIVATE)
    assert "none" not in usable(Level.SONG, Use.PRIVATE)


def test_filters_narrow_typed_searches_and_completions(library):
    rock = SearchFilters(genre="Rock")
    assert ids(library.browse.search("o", 50)) == ["open", "songonly"]
    assert ids(library.browse.search("o", 50, rock)) == ["open"]
    assert [s.song_id for s in library.browse.suggest("n", 10, rock)] == ["nc"]
    assert ids(library.browse.search("", 50, SearchFilters(era="1970s"))) == ["open", "songonly"]
    assert ids(library.browse.search("", 50, SearchFilters(instrument="Violin"))) == ["nc"]
    assert ids(library.browse.search("", 50, SearchFilters(instrument="strings"))) == ["nc"]
    both_ = SearchFilters(genre="Rock", level=Level.AUDIO, use=Use.COMMERCIAL)
    assert ids(library.browse.search("", 50, both_)) == ["open"]
    # No filters and no words: nothing, as before.
    assert (
        library.browse.search("", 50) == [] and library.browse.search("", 50, SearchFilters()) == []
    )


def test_filter_choices_list_what_the_catalogue_has(library):
    choices = library.browse.filter_choices()
    assert choices["genre"] == ["Folk", "Jazz", "Rock"]
    assert choices["era"] == ["1950s", "1970s", "1980s"]
    assert "strings" in choices["instrument"] and "synth" in choices["instrument"]


def test_new_consent_changes_what_the_filter_lets_through(library):
    commercial_audio = SearchFilters(level=Level.AUDIO, use=Use.COMMERCIAL)
    assert "nc" not in ids(library.browse.search("", 50, commercial_audio))
    library.consent.add_consent(grant("nc", HOLDER_A.id, 2))
    library.consent.add_consent(grant("nc", HOLDER_B.id, 2))
    assert "nc" in ids(library.browse.search("", 50, commercial_audio))
    # A revocation takes the song out again.
    library.consent.add_consent(grant("nc", HOLDER_B.id, 3, revoked_at=T0 + timedelta(days=1)))
    assert "nc" not in ids(library.browse.search("", 50, commercial_audio))


def test_a_revocation_dated_in_the_future_applies_when_its_time_comes(library):
    usable = SearchFilters(level=Level.SONG, use=Use.PRIVATE)
    when = datetime.now(UTC) + timedelta(seconds=1.5)
    library.consent.add_consent(grant("open", HOLDER_A.id, 2, revoked_at=when))
    assert "open" in ids(library.browse.search("", 50, usable))
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 0.1)
    assert "open" not in ids(library.browse.search("", 50, usable))


def test_titles_that_start_with_the_words_come_first(store, make_song):
    for sid, title, artist in [
        ("a", "A Song About Rain", "Rain Makers"),
        ("b", "Rain", "Ann Archer"),
        ("c", "Rainy Day Blues", "Ann Archer"),
        ("d", "Stormy", "Rainbow Choir"),
    ]:
        store.add_song(*make_song(sid, title=title, artist=artist))
    # Title starts first (shortest first), then titles with the word, then other columns.
    assert [s.song_id for s in store.browse.suggest("rain", 10)] == ["b", "c", "a", "d"]
    assert [s.id for s in store.browse.search("rain", 2)] == ["b", "c"]

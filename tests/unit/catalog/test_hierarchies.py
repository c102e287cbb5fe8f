"""The browser's hierarchies, their counts and pages, and the synthetic catalogue behind them."""

import pytest

from musicapp.catalog.store import CatalogError
from musicapp.core import InvalidInput, check_splits
from musicapp.testing import synthetic

SONGS = 5000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    from musicapp.catalog.store import CatalogStore

    folder = tmp_path_factory.mktemp("synthetic")
    s = CatalogStore(folder / "catalog.sqlite", folder / "audio")
    synthetic.build(s, synthetic.SyntheticSpec(songs=SONGS, artists=500))
    yield s
    s.close()


def walk(store, hierarchy, path=(), depth=0):
    """Every node of a hierarchy, checking on the way that children add up to their parent."""
    nodes = store.browse.children(path, hierarchy)
    for node in nodes:
        if node.song_id is None:
            kids = walk(store, hierarchy, node.path, depth + 1)
            assert (
                sum(k.count for k in kids if k.song_id is None) + sum(1 for k in kids if k.song_id)
                == node.count
            ), node.path
    return nodes


@pytest.mark.parametrize("hierarchy", ["genre", "subgenre", "decade", "place"])
def test_each_hierarchy_counts_every_song_once(big, hierarchy):
    roots = walk(big, hierarchy) if hierarchy == "decade" else big.browse.children((), hierarchy)
    assert sum(n.count for n in roots) == SONGS


def test_the_instrument_tree_counts_a_song_under_each_of_its_instruments(big):
    songs = big.all_songs()
    pairs = sum(len({st.instrument for st in s.stems}) for s in songs)
    families = walk(big, "instrument")
    assert sum(f.count for f in families) == pairs
    assert {f.label for f in families} <= set(synthetic.INSTRUMENTS)


def test_pages_are_disjoint_and_consecutive(big):
    for hierarchy, path in [("genre", ()), ("decade", ("1990s", "1995"))]:
        whole = big.browse.children(path, hierarchy)
        pages = [
            big.browse.children(path, hierarchy, offset, 7) for offset in range(0, len(whole), 7)
        ]
        assert all(0 < len(p) <= 7 for p in pages)
        assert [n for p in pages for n in p] == whole
    assert big.browse.children((), "genre", offset=10_000, limit=5) == []


def test_the_synthetic_catalogue_has_a_realistic_fan_out(big):
    genres = big.browse.children((), "genre")
    assert len(genres) == len(synthetic.GENRES)
    assert len(big.browse.children((), "decade")) >= 10
    biggest = max(genres, key=lambda g: g.count)
    assert biggest.count > 3 * min(g.count for g in genres)  # Zipf, not uniform
    assert len(big.browse.children(biggest.path, "subgenre")) >= 2
    artists = big.browse.children(biggest.path, "genre")
    assert max(a.count for a in artists) > 10 * min(a.count for a in artists)
    years = [
        int(n.label)
        for d in big.browse.children((), "decade")
        if d.label != "Unknown"
        for n in big.browse.children(d.path, "decade")
    ]
    assert 1920 <= min(years) and max(years) <= 2025


def test_synthetic_splits_are_valid_and_it_has_no_audio(big):
    songs = big.songs([f"syn-{i:07d}" for i in range(0, SONGS, 97)])
    for song in songs.values():
        check_splits(song.id, song.splits)
        assert song.stems
    with pytest.raises(CatalogError, match="missing or unreadable"):
        big.load_audio("syn-0000000")


def test_missing_year_and_country_go_under_unknown(store, make_song):
    store.add_song(*make_song("dated", year=1994, country="France", region="Paris"))
    store.add_song(*make_song("undated", title="No Date"))
    decades = store.browse.children((), "decade")
    assert [(d.label, d.count) for d in decades] == [("1990s", 1), ("Unknown", 1)]
    assert [n.song_id for n in store.browse.children(("Unknown", "Unknown"), "decade")] == [
        "undated"
    ]
    places = store.browse.children((), "place")
    assert [(p.label, p.count) for p in places] == [("France", 1), ("Unknown", 1)]
    artist = store.browse.children(("Unknown", "Unknown"), "place")[0]
    assert [n.song_id for n in store.browse.children(artist.path, "place")] == ["undated"]


def test_added_songs_are_counted_in_every_hierarchy(store, make_song):
    store.add_song(*make_song("a", subgenre="Reel"))
    store.add_song(*make_song("b"))
    assert [(n.label, n.count) for n in store.browse.children(("Test",), "subgenre")] == [
        ("Reel", 1),
        ("Unknown", 1),
    ]
    (family,) = store.browse.children((), "instrument")
    assert (family.label, family.count) == ("synth", 2)  # one instrument, several stems each
    (instrument,) = store.browse.children(family.path, "instrument")
    assert [n.song_id for n in store.browse.children(instrument.path, "instrument")] == ["a", "b"]
    assert [key for key, _ in store.browse.hierarchies()][0] == "genre"


def test_an_unknown_hierarchy_is_refused(store):
    with pytest.raises(InvalidInput, match="unknown hierarchy"):
        store.browse.children((), "mood")


def test_a_short_prefix_after_a_common_word_finds_titles_first(store, make_song):
    for sid, title in [
        ("road", "The Road Home"),
        ("river", "The River"),
        ("roof", "Rain on the Roof"),
        ("other", "Other Side"),
        ("ruby", "Ruby"),
    ]:
        store.add_song(
            *make_song(sid, title=title, artist="The Ramblers" if sid == "ruby" else "X")
        )
    found = [s.id for s in store.browse.search("the r")]
    assert found[:2] == ["river", "road"]  # titles that start with "the r", shorter first
    assert set(found) == {"river", "road", "roof", "ruby"}
    assert [s.song_id for s in store.browse.suggest("the r", limit=2)] == ["river", "road"]
    assert store.browse.suggest("the ri")[0].title == "The River"


def test_completions_of_same_titled_songs_name_their_album_and_year(store, make_song):
    """Three "Kyrie" by one composer used to read as three identical completion rows."""
    for sid, album, year in [("k1", "Missa Brevis", 1570), ("k2", "Missa Papae", 1567),
                             ("k3", "", None)]:  # fmt: skip
        store.add_song(*make_song(sid, title="Kyrie", artist="Palestrina", album=album, year=year))
    labels = sorted(s.label() for s in store.browse.suggest("kyr"))
    assert labels == [
        "Kyrie — Palestrina",
        "Kyrie — Palestrina (Missa Brevis, 1570)",
        "Kyrie — Palestrina (Missa Papae, 1567)",
    ]

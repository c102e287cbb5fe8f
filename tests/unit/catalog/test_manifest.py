"""Reading manifests strictly: bad rows named by line and skipped, limits on every field."""

import json

import pytest

from musicapp.catalog.manifest import read_manifest
from musicapp.catalog.manifest_files import MAX_ROWS
from musicapp.core import InvalidInput

HEADER = "file,title,artist,rights_holders,permissions,uses\n"


def rows(entries):
    return [(e.where, e.fields.get("title"), e.errors) for e in entries]


def test_an_unclosed_quote_is_an_error_on_its_line_and_the_next_row_still_reads(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        HEADER
        + "a.wav,Alpha,Ann,Ann:1,song_level,private\n"
        + 'b.wav,"Beta,Ann,Ann:1,song_level,private\n'
        + "c.wav,Gamma,Ann,Ann:1,song_level,private\n"
    )
    (alpha, beta, gamma) = read_manifest(manifest)
    assert (alpha.fields["title"], alpha.errors) == ("Alpha", ())
    assert beta.where == "m.csv line 3" and len(beta.errors) == 1
    assert beta.errors[0].startswith("m.csv line 3: ") and "unclosed quote" in beta.errors[0]
    assert (gamma.where, gamma.fields["title"], gamma.errors) == ("m.csv line 4", "Gamma", ())


def test_an_unclosed_quote_on_the_last_line_is_named_too(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + 'a.wav,"Alpha,Ann,Ann:1,song_level,private')
    (alpha,) = read_manifest(manifest)
    assert alpha.errors[0].startswith("m.csv line 2: ") and "unclosed quote" in alpha.errors[0]


def test_a_quote_closed_on_a_later_line_does_not_swallow_the_rows_between(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        HEADER
        + 'a.wav,"Alpha,Ann,Ann:1,song_level,private\n'
        + "b.wav,Beta,Ann,Ann:1,song_level,private\n"
        + 'c.wav,Gamma",Ann,Ann:1,song_level,private\n'
        + "d.wav,Delta,Ann,Ann:1,song_level,private\n"
    )
    found = rows(read_manifest(manifest))
    assert [w for w, _, _ in found] == [f"m.csv line {n}" for n in (2, 3, 4, 5)]
    assert "unclosed quote" in found[0][2][0]
    assert found[1] == ("m.csv line 3", "Beta", ())
    assert found[2] == ("m.csv line 4", 'Gamma"', ())  # a quote inside a field is kept
    assert found[3] == ("m.csv line 5", "Delta", ())


def test_csv_rows_with_extra_fields_and_unknown_columns_are_named(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + "a.wav,Alpha,Ann,Ann:1,song_level,private,surprise\n")
    (extra,) = read_manifest(manifest)
    assert extra.errors == ("m.csv line 2: 7 fields, but the header (line 1) names 6 columns",)
    manifest.write_text("file,title,permisions\na.wav,Alpha,song_level\n")
    with pytest.raises(InvalidInput, match=r"m\.csv line 1: unknown column 'permisions'"):
        read_manifest(manifest)


def test_json_errors_give_line_and_column(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text('{"songs": [\n  {"file": "a.wav"}\n  {"file": "b.wav"}\n]}\n')
    with pytest.raises(InvalidInput, match=r"m\.json line 3 column 3: not valid JSON"):
        read_manifest(manifest)


def test_json_rows_are_named_by_song_and_line_and_unknown_fields_refused(tmp_path):
    manifest = tmp_path / "m.json"
    songs = [
        {"file": "a.wav", "title": "Alpha"},
        {"file": "b.wav", "titel": "Beta"},
        {"file": "c.wav", "rights_holders": [{"name": "Ann", "shares": 1}]},
        {"file": "d.wav", "stems": [{"name": "bass", "file": "bass.wav", "colour": "red"}]},
        "e.wav",
    ]
    manifest.write_text(json.dumps({"songs": songs}, indent=1))
    a, b, c, d, e = read_manifest(manifest)
    assert a.where == "m.json song 1 (line 3)" and not a.errors
    assert b.errors[0].startswith("m.json song 2 (line 7): unknown field 'titel'")
    assert "unknown rights holder field 'shares'" in c.errors[0]
    assert "unknown stem field 'colour'" in d.errors[0]
    assert e.errors == ("m.json song 5 (line 30): not an object",)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("title", "x" * 1_000_000, "title is 1,000,000 characters, at most 300"),
        ("artist", "x" * 301, "artist is 301 characters, at most 300"),
        ("album", "x" * 301, "album is 301 characters, at most 300"),
        ("id", "x" * 101, "id is 101 characters, at most 100"),
        ("id", "no spaces", "id 'no spaces': use letters"),
        (
            "instruments",
            ";".join(f"i{n}" for n in range(51)),
            "instruments has 51 items, at most 50",
        ),
        ("moods", "y" * 101, "an item of moods is 101 characters, at most 100"),
        ("rights_holders", ";".join(f"H{n}:0.01" for n in range(51)), "has 51 items, at most 50"),
        ("rights_holders", "x" * 301 + ":1", "rights holder name is 301 characters, at most 300"),
        ("stems", ";".join(f"s{n}=s{n}.wav" for n in range(51)), "stems has 51 items, at most 50"),
        ("year", "MCMLXX", "year 'MCMLXX' is not a year"),
    ],
)
def test_every_field_has_a_limit_named_with_its_row(tmp_path, column, value, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"file,{column}\nok.wav,\nbad.wav,{value}\n")
    ok, bad = read_manifest(manifest)
    assert ok.errors == ()
    (error,) = bad.errors
    assert error.startswith("m.csv line 3: ") and message in error


def test_a_manifest_over_the_row_or_size_limit_is_refused_whole(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("file\n" + "".join(f"f{n}.wav\n" for n in range(MAX_ROWS + 1)))
    with pytest.raises(InvalidInput, match="10001 songs .*at most 10000"):
        read_manifest(manifest)
    manifest.write_text("file,title\n" + "a.wav," + "x" * (10 * 2**20) + "\n")
    with pytest.raises(InvalidInput, match=r"10\.5 MB, at most 10 MB"):
        read_manifest(manifest)


def test_a_file_or_id_given_twice_is_an_error_on_the_later_row(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "file,id,stems\na.wav,song-a,gtr=g.wav\nb.wav,song-a,\ng.wav,,\nc.wav,,x=c.wav\n"
    )
    a, b, g, c = read_manifest(manifest)
    assert a.errors == ()
    assert b.errors == ("m.csv line 3: id song-a is already given by m.csv line 2",)
    assert (
        g.errors[0].startswith("m.csv line 4: ") and "already named by m.csv line 2" in g.errors[0]
    )
    assert c.errors == ("m.csv line 5: names one file twice",)

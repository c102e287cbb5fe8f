"""Reading a score's notes for rendering: ties sound once, chord symbols stay silent."""

from music21 import harmony, note, stream, tie

from musicapp.catalog import arrange


def test_tied_notes_sound_once_and_chord_symbols_are_silent():
    held = note.Note("C4", quarterLength=2)
    held.tie = tie.Tie("start")
    rest_of_it = note.Note("C4", quarterLength=1)
    rest_of_it.tie = tie.Tie("stop")
    bar = stream.Measure()
    bar.append([harmony.ChordSymbol("F"), held, rest_of_it, note.Note("E4")])
    part = stream.Part([bar])
    assert [(n.start, n.length, n.pitch) for n in arrange._notes(part)] == [(0, 3, 60), (3, 1, 64)]
    assert [(c.root, c.tones) for c in arrange._chord_symbols(part)] == [(5, (5, 0, 9))]

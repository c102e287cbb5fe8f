"""Small scores made by code for the composer's tests."""

from symusic import Note, Score, Tempo, TimeSignature, Track

TPQ = 480


def tune(pitches, lengths_q=None, *, program=0, name="tune", meter=(4, 4), qpm=120.0, drums=None):
    """One track playing `pitches` one after another (a quarter each unless given)."""
    lengths_q = lengths_q or [1.0] * len(pitches)
    score = Score(TPQ)
    score.tempos.append(Tempo(0, qpm=qpm))
    score.time_signatures.append(TimeSignature(0, *meter))
    track = Track(name=name, program=program)
    t = 0
    for p, q in zip(pitches, lengths_q, strict=True):
        track.notes.append(Note(t, round(q * TPQ), p, 90))
        t += round(q * TPQ)
    score.tracks.append(track)
    if drums:
        kit = Track(name="drums", program=0, is_drum=True)
        kit.notes.extend(Note(i * TPQ, TPQ // 2, 36, 100) for i in range(drums))
        score.tracks.append(kit)
    return score


def add_track(score, pitches, *, name, program=0):
    track = Track(name=name, program=program)
    track.notes.extend(Note(i * TPQ, TPQ, p, 80) for i, p in enumerate(pitches))
    score.tracks.append(track)
    return score

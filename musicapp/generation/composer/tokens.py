"""One fixed tokenisation of scores for the composer: miditok's REMI, every track in one stream.

The model, its training data and its shipped weights all depend on this exact vocabulary, so
the configuration lives here once and never changes silently: a change is a new tokenizer
(``TOKENIZER_NAME``), and weights trained on another one are refused by name (``weights.py``).
No torch here: the music side tokenises and decodes without the ML stack loaded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import miditok
    from symusic.core import ScoreTick  # what symusic.Score(...) builds

# Bumped whenever the configuration below changes (the shipped config json names it).
TOKENIZER_NAME = "remi-programs-v1"
# The vocabulary's size under this configuration, pinned so that importing this module (and
# building a model) needs no miditok; `tokenizer()` checks it.
VOCAB_SIZE = 493

# REMI with programs: one stream holds every instrument (Program tokens before each note),
# tempos and time signatures, so a piece's arrangement and meter are part of what is learned.
# Eight velocity bins are enough for the scores we have (they carry little dynamics).
_CONFIG: dict[str, Any] = {
    "pitch_range": (21, 109),
    "beat_res": {(0, 4): 8, (4, 12): 4},
    "num_velocities": 8,
    "use_programs": True,
    "one_token_stream_for_programs": True,
    "use_tempos": True,
    "use_time_signatures": True,
    "use_chords": False,
    "use_rests": False,
    "use_sustain_pedals": False,
    "use_pitch_bends": False,
    "num_tempos": 32,
    "tempo_range": (40, 250),
    "special_tokens": ["PAD", "BOS", "EOS"],
}


def config_dict() -> dict[str, Any]:
    """The tokenizer's settings as plain JSON values (written beside shipped weights)."""
    out = dict(_CONFIG)
    out["pitch_range"] = list(_CONFIG["pitch_range"])
    out["beat_res"] = {f"{a}-{b}": r for (a, b), r in _CONFIG["beat_res"].items()}
    out["tempo_range"] = list(_CONFIG["tempo_range"])
    return {"name": TOKENIZER_NAME, **out}


@lru_cache(maxsize=1)
def tokenizer() -> miditok.REMI:
    """The composer's tokenizer (one instance per process: building it takes a moment)."""
    import miditok

    tok = miditok.REMI(miditok.TokenizerConfig(**_CONFIG))
    if len(tok) != VOCAB_SIZE:  # another miditok version builds another vocabulary
        raise RuntimeError(
            f"the composer's tokenizer has {len(tok)} tokens, not {VOCAB_SIZE}: "
            "this miditok version tokenises differently from the one the model was trained with"
        )
    return tok


def _special(name: str) -> int:
    return int(tokenizer()[f"{name}_None"])


def pad_id() -> int:
    return _special("PAD")


def bos_id() -> int:
    return _special("BOS")


def eos_id() -> int:
    return _special("EOS")


def encode(score: ScoreTick) -> list[int]:
    """A score as token ids: BOS, its REMI tokens (all tracks in one stream), EOS."""
    seq = tokenizer().encode(score)
    if isinstance(seq, list):  # miditok returns one sequence per track when not one stream
        raise TypeError("the composer's tokenizer must give one token stream")
    return [bos_id(), *(int(i) for i in seq.ids), eos_id()]


def decode(ids: list[int]) -> ScoreTick:
    """Token ids back to a score; special tokens (PAD, BOS, EOS) are dropped first."""
    from miditok import TokSequence

    specials = {pad_id(), bos_id(), eos_id()}
    kept = [int(i) for i in ids if int(i) not in specials and 0 <= int(i) < VOCAB_SIZE]
    score: ScoreTick = tokenizer().decode(TokSequence(ids=kept))
    return score

"""The composing engine through the studio, with a STAND-IN model that replays a demo score's
tokens (not a trained model): these tests check the wiring (scores in, prompt, sampling, the
continuation cut from the prompt, rendering with the references' instruments, provenance, the
ledger), not musical quality; the shipped model's takes are judged in docs/composer.md."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("torch")
pytest.importorskip("miditok")

from musicapp.catalog.demo import PERMITTED_SONG_IDS  # noqa: E402
from musicapp.core import (  # noqa: E402
    USER_SOURCE,
    GenerationRequest,
    Level,
    Reference,
    Role,
    TimeRange,
)
from musicapp.generation import registry  # noqa: E402
from musicapp.generation.composer.engine import ComposerEngine  # noqa: E402

A, B, C = PERMITTED_SONG_IDS


@dataclass
class Replaying:
    model: object
    model_id: str = "composer-replaying-stand-in"


def _replaying(audio_dir):
    """A model whose every next token is the next of a demo score's token stream (C's), cycled:
    valid REMI, so the engine's decoding and rendering have notes to work with."""
    import torch

    from musicapp.catalog.scores import score_of
    from musicapp.generation.composer import tokens
    from musicapp.generation.composer.model import ComposerConfig

    class Stand(torch.nn.Module):
        def __init__(self, stream: list[int]) -> None:
            super().__init__()
            self.config = ComposerConfig(vocab=tokens.VOCAB_SIZE, context=4096)
            self.stream = stream
            self.anchor = torch.nn.Parameter(torch.zeros(1))
            self.calls = 0

        def forward(self, ids):
            nxt = self.stream[self.calls % len(self.stream)]
            self.calls += 1
            logits = torch.full((1, ids.shape[1], tokens.VOCAB_SIZE), -1e9)
            logits[0, -1, nxt] = 0.0
            return logits

    def load(_models_dir, _device):
        from musicapp.catalog.store import CatalogStore

        with CatalogStore(audio_dir.parent / "catalog.sqlite", audio_dir) as store:
            song = store.song(C)
        ids = tokens.encode(score_of(song, audio_dir))
        bar = tokens.tokenizer()["Bar_None"]
        body = ids[ids.index(bar) : -1]  # from its first bar, without BOS/EOS
        return Replaying(Stand(body))

    return load


@pytest.fixture
def composer(demo_studio):
    audio_dir = demo_studio.settings.audio_dir
    loader = _replaying(audio_dir)
    registry.register("composer-tiny", lambda: ComposerEngine(audio_dir, loader=loader))
    yield demo_studio
    registry._FACTORIES.pop("composer-tiny", None)


def _generate(studio, refs, **kw):
    request = GenerationRequest(tuple(refs), engine="composer-tiny", duration_s=6.0, seed=3, **kw)
    return studio.generate(request)


def test_stand_in_model_song_level_take_is_logged_with_the_references_weights(composer):
    take = _generate(composer, [Reference(A, weight=0.75), Reference(B, weight=0.25)])
    audio, rate = composer.takes.read(take.id)
    assert rate == take.sample_rate and audio.shape[0] == 2
    assert abs(audio.shape[1] / rate - 6.0) < 0.05
    assert float(np.abs(audio).max()) > 0.01  # something plays
    shares = take.provenance.song_shares()
    assert shares == pytest.approx({A: 0.75, B: 0.25})
    assert (
        take.provenance.engine == "composer"
        and take.provenance.model == "composer-replaying-stand-in"
    )
    event = composer.ledger.get(take.id)
    assert event is not None and event.payload["provenance"]["engine"] == "composer"


def test_stand_in_model_parameter_level_melody_and_rhythm(composer):
    take = _generate(
        composer,
        [
            Reference(A, Level.PARAMETER, Role.MELODY, weight=0.6),
            Reference(C, Level.PARAMETER, Role.RHYTHM, weight=0.4),
        ],
    )
    assert take.provenance.song_shares() == pytest.approx({A: 0.6, C: 0.4})
    assert any("key" in note for note in take.provenance.notes)


def test_stand_in_model_temporal_level_keeps_the_users_audio_outside_the_range(composer, tmp_path):
    rate = 44100
    t = np.arange(8 * rate) / rate
    mono = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    path = tmp_path / "mine.wav"
    sf.write(path, np.stack([mono, mono]).T, rate)
    take = _generate(
        composer,
        [Reference(B, Level.TEMPORAL, time_range=TimeRange(0.0, 8.0))],
        user_audio=str(path),
        user_range=TimeRange(2.0, 6.0),
    )
    audio, got = composer.takes.read(take.id)
    assert got == rate and audio.shape[1] == mono.size
    assert np.allclose(audio[0, :rate], mono[:rate], atol=1e-4)  # untouched before the range
    assert not np.allclose(audio[0, 3 * rate : 5 * rate], mono[3 * rate : 5 * rate], atol=1e-2)
    shares = {s.song_id: s.share for s in take.provenance.shares}
    assert shares[USER_SOURCE] == pytest.approx(0.5, abs=0.01)
    assert shares[B] == pytest.approx(0.5, abs=0.01)


def test_the_composer_refuses_a_take_longer_than_it_writes(composer):
    from musicapp.core import InvalidInput

    request = GenerationRequest((Reference(A),), engine="composer-tiny", duration_s=600.0)
    with pytest.raises(InvalidInput, match="composer writes up to"):
        composer.generate(request)

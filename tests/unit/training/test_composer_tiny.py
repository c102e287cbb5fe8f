"""The composer's tokens, network and training, with tiny random models (wiring, not music)."""

from __future__ import annotations

import pytest
import torch
from training_helpers import tiny_sequences

from musicapp.generation.composer import tokens
from musicapp.generation.composer.model import PAD_ID, ComposerConfig, ComposerModel, generate
from musicapp.generation.composer.train import TrainSpec, train_model, windows
from musicapp.jobs import Cancelled, CancelToken

TINY = ComposerConfig(vocab=tokens.VOCAB_SIZE, d_model=16, n_layers=1, n_heads=2, context=32)


def test_the_pinned_vocabulary_is_the_tokenizers_and_round_trips_notes():
    import symusic

    tok = tokens.tokenizer()
    assert len(tok) == tokens.VOCAB_SIZE and tokens.pad_id() == PAD_ID
    score = symusic.Score(480)
    track = symusic.Track(program=40)
    for i, pitch in enumerate((60, 64, 67, 72)):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 90))
    score.tracks.append(track)
    ids = tokens.encode(score)
    assert ids[0] == tokens.bos_id() and ids[-1] == tokens.eos_id()
    back = tokens.decode(ids)
    assert [n.pitch for t in back.tracks for n in t.notes] == [60, 64, 67, 72]
    assert back.tracks[0].program == 40


def test_windows_cover_every_token_and_pad_only_short_pieces():
    long = list(range(3, 3 + 70))
    short = [1, 5, 6]
    got = windows([long, short], 32)
    assert all(len(w) == 32 for w in got)
    assert got[0] == long[:32] and got[1] == long[32:64] and got[2] == long[-32:]
    assert got[3] == short + [PAD_ID] * 29


def test_padding_is_never_a_target_in_the_loss():
    torch.manual_seed(0)
    model = ComposerModel(TINY).eval()
    ids = torch.tensor([[1, 5, 6, 7] + [PAD_ID] * 4])
    short = torch.tensor([[1, 5, 6, 7]])
    assert torch.allclose(model.example_loss(ids), model.example_loss(short), atol=1e-5)


def test_tiny_random_model_same_seed_two_steps_gives_identical_weights():
    seqs = tiny_sequences(8, 40)
    spec = TrainSpec(epochs=1, batch=4, seed=7)  # 8 windows / 4 = 2 steps
    a = train_model(seqs, TINY, spec).state_dict()
    b = train_model(seqs, TINY, spec).state_dict()
    c = train_model(seqs, TINY, TrainSpec(epochs=1, batch=4, seed=8)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_tiny_random_model_training_reports_each_step_and_stops_when_cancelled():
    seen = []
    cancel = CancelToken()

    def progress(p):
        seen.append(p)
        if len(seen) == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        train_model(tiny_sequences(8, 40), TINY, TrainSpec(epochs=3, batch=4), progress, cancel)
    assert len(seen) == 2 and "loss" in seen[0].message


def test_tiny_random_model_training_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_model(tiny_sequences(4, 40), TINY, TrainSpec(epochs=1, batch=4))
    assert torch.equal(torch.rand(3), expected)


def test_generate_is_seeded_and_stops_at_the_stop_token():
    torch.manual_seed(0)
    model = ComposerModel(TINY)
    a = generate(model, [1], 20, seed=3, top_k=8)
    assert a == generate(model, [1], 20, seed=3, top_k=8) and len(a) == 21
    assert a != generate(model, [1], 20, seed=4, top_k=8)
    greedy = generate(model, [1], 5, temperature=0)
    stop = greedy[1]
    assert generate(model, [1], 5, temperature=0, stop=stop) == [1, stop]

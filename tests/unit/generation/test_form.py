"""The concat engine's form: a statement, its variation, a contrast, a return."""

from musicapp.generation.form import build_form, phrase_labels


def test_labels_repeat_in_sections():
    assert phrase_labels(4) == ["A", "A'", "B", "A"]
    assert phrase_labels(9) == ["A", "A'", "B", "A", "C", "C'", "B", "A", "D"]
    assert phrase_labels(1) == ["A"]


def test_returns_copy_and_variations_keep_half_the_phrase():
    form = build_form(15)
    assert form.labels == ("A", "A'", "B", "A")
    assert form.copy_of[:4] == (None,) * 4  # A is new
    assert form.copy_of[4:6] == (0, 1) and form.varies[6:8] == (2, 3)  # A'
    assert form.copy_of[8:12] == (None,) * 4  # B is new
    assert form.copy_of[12:15] == (0, 1, 2)  # A returns (cut short by the end)
    assert len(form.copy_of) == len(form.varies) == 15


def test_a_short_piece_is_all_new():
    form = build_form(3)
    assert form.copy_of == (None, None, None) and form.varies == (None, None, None)

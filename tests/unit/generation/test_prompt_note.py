"""Words given to an engine that takes none are not silently dropped: the take says so."""

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Reference
from musicapp.generation.base import prompt_note


def test_a_weight_free_take_says_its_prompt_was_not_used(demo_studio):
    request = GenerationRequest(
        (Reference(PERMITTED_SONG_IDS[0]),), duration_s=4.0, prompt="gentle, for a wedding"
    )
    take = demo_studio.generate(request)
    assert (
        "The prompt was not used: the Concatenative (no weights) engine takes no words, "
        "only its references" in take.provenance.notes
    )
    logged = demo_studio.ledger.get(take.id).payload
    assert logged["request"]["prompt"] == "gentle, for a wedding"  # what was asked, kept


def test_no_note_without_words_or_for_an_engine_that_reads_them():
    assert prompt_note("concat", "  ") == ""
    assert prompt_note("musicgen-melody", "gentle") == ""
    assert prompt_note("composer", "gentle").startswith("the prompt was not used")

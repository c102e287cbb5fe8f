"""Mediated selection in the window, over the fake studio and its fake selection room: the
Prompt tab (text, chips, More, Preview, Add), the Similar tab, alternatives with Swap under a
refused consent check, proposed references, and a room that fails."""

import inspect

import pytest
from PySide6.QtCore import Qt
from ui_fake_selection import FAKE_AUDIO_EMBEDDING, FAKE_EMBEDDING, FakeSelection
from ui_fakes import FakePlayer

from musicapp.core import Level, Role, Use
from musicapp.rooms.selection import SelectionRoom
from musicapp.ui.catalog_model import song_ids_from_mime
from musicapp.ui.main_window import MainWindow
from musicapp.ui.select_pane import SelectPane
from musicapp.ui.services import SelectionPort

WAIT_MS = 3000


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


@pytest.fixture
def room(fake_studio) -> FakeSelection:
    return fake_studio.selection


def prompt_tab(window):
    window.selection_ui.pane.show_tab(SelectPane.PROMPT)
    return window.selection_ui.prompt


def similar_tab(window):
    window.selection_ui.pane.show_tab(SelectPane.SIMILAR)
    return window.selection_ui.similar


def listed(widget) -> list[str]:
    return widget.results.song_ids()


def test_enter_in_the_prompt_lists_songs_and_names_the_embedding(qtbot, window, room):
    prompt = prompt_tab(window)
    qtbot.keyClicks(prompt.text_box, "a melancholic fiddle tune for a funeral")
    qtbot.keyClick(prompt.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(listed(prompt)) == room.page, timeout=WAIT_MS)
    assert room.calls_of("prompt")[-1]["text"] == "a melancholic fiddle tune for a funeral"
    line = prompt.results.answered.text()
    assert FAKE_EMBEDDING in line and "private use" in line  # the take's use filtered them
    first = prompt.results.list.item(0)
    assert first.text().startswith("Song 1 — ")
    assert "matches “a melancholic" in first.toolTip() and "Holder 1" in first.toolTip()
    assert "long tail" in prompt.results.list.item(1).text()  # s2 is a long-tail song (fake)


def test_the_prompt_is_filtered_for_the_takes_use_and_says_so(qtbot, window, room):
    window.settings_panel.set_use(Use.COMMERCIAL)
    prompt = prompt_tab(window)
    prompt.text_box.setText("sacred hymn")
    prompt.ask()
    qtbot.waitUntil(lambda: len(listed(prompt)) == room.page, timeout=WAIT_MS)
    call = room.calls_of("prompt")[-1]
    assert call["use"] is Use.COMMERCIAL and call["level"] is Level.SONG
    assert "s3" not in listed(prompt)  # refused for commercial use: never offered
    assert "usable at song level for commercial distribution" in prompt.results.answered.text()


def test_a_chip_adds_its_category_to_the_prompt(qtbot, window, room):
    prompt = prompt_tab(window)
    qtbot.waitUntil(lambda: "mood:sad" in prompt.chips.chips, timeout=WAIT_MS)
    prompt.chips.chips["mood:sad"].click()  # a chip alone asks
    qtbot.waitUntil(lambda: bool(listed(prompt)), timeout=WAIT_MS)
    assert room.calls_of("prompt")[-1]["categories"] == ["mood:sad"]
    prompt.text_box.setText("fiddle")
    prompt.chips.chips["situation:funeral"].click()
    qtbot.waitUntil(
        lambda: room.calls_of("prompt")[-1]["categories"] == ["mood:sad", "situation:funeral"],
        timeout=WAIT_MS,
    )
    assert room.calls_of("prompt")[-1]["text"] == "fiddle"


def test_more_appends_songs_not_shown_yet(qtbot, window, room):
    prompt = prompt_tab(window)
    prompt.text_box.setText("jig for fiddle")
    prompt.ask()
    qtbot.waitUntil(lambda: len(listed(prompt)) == 3, timeout=WAIT_MS)
    first = listed(prompt)
    prompt.results.more_button.click()
    qtbot.waitUntil(lambda: len(listed(prompt)) == 6, timeout=WAIT_MS)
    assert room.calls_of("prompt")[-1]["exclude"] == first
    assert listed(prompt)[:3] == first and len(set(listed(prompt))) == 6


def test_add_and_preview_from_the_prompt(qtbot, window, room):
    player = FakePlayer()
    window.browser.preview._player = player
    prompt = prompt_tab(window)
    prompt.text_box.setText("happy")
    prompt.ask()
    qtbot.waitUntil(lambda: bool(listed(prompt)), timeout=WAIT_MS)
    prompt.results.list.setCurrentRow(1)
    prompt.results.preview_button.click()
    qtbot.waitUntil(lambda: len(player.played) == 1, timeout=WAIT_MS)
    assert window.studio.preview_calls == ["s2"]
    prompt.results.add_button.click()
    assert [r.song_id for r in window.references.references()] == ["s2"]
    prompt.results.list.setCurrentRow(2)
    qtbot.keyClick(prompt.results.list, Qt.Key.Key_Space)  # Space previews, as in the catalogue
    qtbot.waitUntil(lambda: len(player.played) == 2, timeout=WAIT_MS)
    assert window.studio.preview_calls == ["s2", "s3"]
    # Dragged onto the References list, a result carries its song id like a catalogue song.
    dragged = prompt.results.list.mimeData([prompt.results.list.item(2)])
    assert song_ids_from_mime(dragged) == ["s3"]


def test_the_similar_tab_follows_the_selected_reference(qtbot, window, room):
    for song_id in ("s1", "s4"):
        window.add_reference(song_id)
    similar = similar_tab(window)
    # Nothing selected: the session's recommendations, labelled as such.
    qtbot.waitUntil(lambda: bool(listed(similar)), timeout=WAIT_MS)
    assert "Recommended for this session" in similar.title.text()
    assert room.calls_of("recommend")[-1]["session"] == ["s1", "s4"]
    assert not {"s1", "s4"} & set(listed(similar))

    window.references.table.selectRow(1)
    qtbot.waitUntil(lambda: similar.title.text() == "Similar to “Song 4”", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: room.calls_of("similar") != [], timeout=WAIT_MS)
    assert room.calls_of("similar")[-1]["song_id"] == "s4"
    qtbot.waitUntil(lambda: FAKE_AUDIO_EMBEDDING in similar.results.answered.text())
    assert not {"s1", "s4"} & set(listed(similar))  # neither it nor another reference
    similar.like_button.click()
    qtbot.waitUntil(lambda: room.liked == ["s4"], timeout=WAIT_MS)

    window.references.table.selectRow(0)
    qtbot.waitUntil(lambda: room.calls_of("similar")[-1]["song_id"] == "s1", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(listed(similar)), timeout=WAIT_MS)
    added = listed(similar)[0]
    similar.results.list.setCurrentRow(0)
    similar.results.add_button.click()
    assert [r.song_id for r in window.references.references()][-1] == added


def test_a_refused_reference_shows_alternatives_and_swap_clears_it(qtbot, window, room):
    window.settings_panel.set_use(Use.COMMERCIAL)
    window.add_reference("s1")
    window.add_reference("s3")  # refused for commercial use
    window.references.set_weight(1, 2.5)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused", timeout=WAIT_MS)
    panel = window.verification.alternatives
    qtbot.waitUntil(lambda: bool(panel.swap_buttons), timeout=WAIT_MS)
    offered = [song_id for refused, song_id in panel.swap_buttons if refused == "s3"]
    assert offered and "s3" not in offered and "s1" not in offered
    assert room.calls_of("alternatives")[-1]["verification"].use is Use.COMMERCIAL

    checks = len(room.calls_of("alternatives"))
    panel.swap_buttons[("s3", offered[0])].click()
    assert [r.song_id for r in window.references.references()] == ["s1", offered[0]]
    assert window.references.references()[1].weight == 2.5  # the weight stayed
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared", timeout=WAIT_MS)
    assert not panel.isVisible()  # allowed now: no alternatives to show
    assert len(room.calls_of("alternatives")) == checks  # a cleared check asks for none


def test_swap_keeps_the_level_and_role(qtbot, window, room):
    window.settings_panel.set_use(Use.COMMERCIAL)
    window.add_reference("s3")
    window.references.set_level(0, Level.PARAMETER, Role.RHYTHM)
    panel = window.verification.alternatives
    qtbot.waitUntil(lambda: bool(panel.swap_buttons), timeout=WAIT_MS)
    assert (
        room.calls_of("alternatives")[-1]["verification"].refused[0].reference.role is Role.RHYTHM
    )
    (refused, song_id), button = next(iter(panel.swap_buttons.items()))
    button.click()
    ref = window.references.references()[0]
    assert (ref.song_id, ref.level, ref.role) == (song_id, Level.PARAMETER, Role.RHYTHM)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared", timeout=WAIT_MS)


def test_a_proposal_is_not_in_the_request_until_accepted(qtbot, window, room):
    window.add_reference("s1")
    window.add_reference("s2")
    window.references.set_level(0, Level.PARAMETER, Role.MELODY)
    window.references.set_level(1, Level.PARAMETER, Role.RHYTHM)
    proposals = window.selection_ui.proposals
    qtbot.waitUntil(lambda: bool(proposals.proposals), timeout=WAIT_MS)
    proposal = proposals.proposals[0]
    assert proposal.reference.role is Role.TIMBRE
    assert proposals.isVisible()
    shown = _texts(proposals)
    assert "Proposed" in shown and proposal.song.title in shown and "Holder" in shown
    assert proposal.song.id not in {r.song_id for r in window.current_request().references}
    asked = len(room.calls_of("propose"))

    accept, _dismiss = proposals.buttons[0]
    accept.click()
    request = window.current_request()
    assert [(r.song_id, r.role) for r in request.references][-1] == (proposal.song.id, Role.TIMBRE)
    assert not proposals.isVisible()
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared", timeout=WAIT_MS)
    qtbot.wait(800)  # the proposals' pause: asked once for the new request, then quiet
    assert len(room.calls_of("propose")) == asked + 1
    assert not proposals.proposals  # timbre is given now: nothing more to propose


def test_a_dismissed_proposal_stays_away(qtbot, window, room):
    window.add_reference("s1")
    window.add_reference("s2")
    window.references.set_level(0, Level.PARAMETER, Role.MELODY)
    window.references.set_level(1, Level.PARAMETER, Role.RHYTHM)
    proposals = window.selection_ui.proposals
    qtbot.waitUntil(lambda: bool(proposals.proposals), timeout=WAIT_MS)
    proposals.buttons[0][1].click()
    assert not proposals.proposals and not proposals.isVisible()
    window.references.set_weight(0, 2.0)  # a weight opens or fills no parameter: not asked
    qtbot.wait(800)
    assert len(room.calls_of("propose")) == 1
    window.settings_panel.set_use(Use.NON_COMMERCIAL)  # a new request: asked again...
    qtbot.waitUntil(lambda: len(room.calls_of("propose")) == 2, timeout=WAIT_MS)
    qtbot.wait(100)
    assert not proposals.proposals  # ...but the dismissed song is not shown again
    assert len(window.current_request().references) == 2


def test_a_failing_room_says_so_and_the_window_stays_usable(qtbot, window, room):
    room.failing = {"prompt", "recommend", "alternatives"}
    prompt = prompt_tab(window)
    prompt.text_box.setText("wedding waltz")
    prompt.ask()
    qtbot.waitUntil(lambda: "did not work" in prompt.results.message.text(), timeout=WAIT_MS)
    assert "broke (fake)" in prompt.results.message.text()
    assert "did not work" in window.statusBar().currentMessage()
    similar = similar_tab(window)
    qtbot.waitUntil(lambda: "unavailable" in similar.results.message.text(), timeout=WAIT_MS)

    window.settings_panel.set_use(Use.COMMERCIAL)
    window.add_reference("s3")
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused", timeout=WAIT_MS)
    panel = window.verification.alternatives
    qtbot.waitUntil(lambda: "Alternatives are unavailable" in _texts(panel), timeout=WAIT_MS)

    room.failing.clear()  # the room is back: asking again works
    prompt_tab(window)
    prompt.ask()
    qtbot.waitUntil(lambda: bool(listed(prompt)), timeout=WAIT_MS)
    window.browser.search_box.setText("Song 5")
    window.browser.run_search()
    assert window.browser.results_model.rowCount() == 1


def _texts(widget) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in widget.findChildren(QLabel))


@pytest.mark.parametrize("cls", [SelectionRoom, FakeSelection], ids=lambda c: c.__name__)
def test_the_room_and_the_fake_offer_every_call_of_the_port(cls):
    for name, member in vars(SelectionPort).items():
        if name.startswith("_") or not callable(member):
            continue
        wanted = [p for p in inspect.signature(member).parameters if p != "self"]
        offered = [p for p in inspect.signature(getattr(cls, name)).parameters if p != "self"]
        assert offered[: len(wanted)] == wanted, f"{cls.__name__}.{name}"


def test_proposals_for_another_request_go_at_once(qtbot, window, room):
    window.add_reference("s1")
    window.add_reference("s2")
    window.references.set_level(0, Level.PARAMETER, Role.MELODY)
    window.references.set_level(1, Level.PARAMETER, Role.RHYTHM)
    proposals = window.selection_ui.proposals
    qtbot.waitUntil(lambda: bool(proposals.proposals), timeout=WAIT_MS)
    window.references.set_level(1, Level.SONG)  # no rhythm any more: the gap is another
    assert not proposals.proposals and not proposals.isVisible()


def test_the_real_room_in_the_window_names_its_embedding_and_swaps_to_a_cleared_song(
    qtbot, context
):
    """The window over the real studio and the small demo catalogue (the embedded default:
    MiniLM over song descriptions, no CLAP weights): a prompt lists catalogue songs and names
    the embedding; a refused reference's alternatives are all cleared, and Swap clears it."""
    from musicapp.catalog.demo import NON_COMMERCIAL_SONG_ID
    from musicapp.core import GenerationRequest, Reference

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    prompt = prompt_tab(window)
    prompt.text_box.setText("jig for fiddle")
    prompt.ask()
    qtbot.waitUntil(lambda: bool(listed(prompt)), timeout=180_000)
    assert "MiniLM" in prompt.results.answered.text()
    assert all(window.studio.song(song_id) is not None for song_id in listed(prompt))

    window.settings_panel.set_use(Use.COMMERCIAL)
    window.add_reference(NON_COMMERCIAL_SONG_ID)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused", timeout=WAIT_MS)
    panel = window.verification.alternatives
    qtbot.waitUntil(lambda: bool(panel.swap_buttons), timeout=60_000)
    for _refused, song_id in panel.swap_buttons:
        request = GenerationRequest((Reference(song_id),), use=Use.COMMERCIAL)
        assert window.studio.check(request).allowed, song_id
    button = next(iter(panel.swap_buttons.values()))
    button.click()
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared", timeout=WAIT_MS)
    window.close()


def test_the_status_bar_says_when_new_songs_were_indexed_for_prompts(qtbot, window, room):
    room.pending_index = 3
    window.selection_ui.catalogue_changed()  # what the demo build and an import end with
    qtbot.waitUntil(
        lambda: "3 songs indexed for prompts" in window.statusBar().currentMessage(),
        timeout=WAIT_MS,
    )
    assert room.calls_of("catch_up_job")

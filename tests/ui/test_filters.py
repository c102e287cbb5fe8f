"""The filter bar narrows what the browser shows: search results, completions, and with an empty
search box the songs that pass."""

from ui_fakes import FakeStudio

from musicapp.core import Use
from musicapp.ui.browser_widget import BrowserWidget
from musicapp.ui.filter_bar import FilterBar


def _browser(qtbot, studio: FakeStudio) -> BrowserWidget:
    browser = BrowserWidget(studio)
    qtbot.addWidget(browser)
    browser.show()
    return browser


def _shown(browser: BrowserWidget) -> list[str]:
    model = browser.results_model
    return [model.song_at(r).id for r in range(model.rowCount())]


def _completions(browser: BrowserWidget) -> list[str]:
    model = browser.suggestions
    return [model.item(r).text() for r in range(model.rowCount())]


def _genres(studio: FakeStudio, ids: list[str]) -> set[str]:
    return {studio.songs[i].genre for i in ids}


def test_the_filter_bar_offers_the_catalogue_choices(qtbot, fake_studio):
    browser = _browser(qtbot, fake_studio)
    bar = browser.filter_bar
    assert [bar.genre_box.itemText(i) for i in range(bar.genre_box.count())] == [
        "Any genre",
        "Baroque",
        "Romantic",
    ]
    assert bar.era_box.count() == 1 + len(fake_studio.filter_choices()["era"])
    assert [bar.instrument_box.itemText(i) for i in range(1, 3)] == ["Piano", "Violin"]
    assert not bar.filters().active and not bar.clear_button.isEnabled()


def test_a_genre_narrows_the_results_and_the_completions_and_clear_restores(qtbot, fake_studio):
    browser = _browser(qtbot, fake_studio)
    browser.search_box.setText("Song")
    browser.run_search()
    assert len(_shown(browser)) == 12
    assert _genres(fake_studio, _shown(browser)) == {"Baroque", "Romantic"}

    browser.filter_bar.select("genre", "Romantic")
    qtbot.waitUntil(lambda: len(_shown(browser)) == 6)
    assert _genres(fake_studio, _shown(browser)) == {"Romantic"}
    assert browser.filter_bar.clear_button.isEnabled()
    # The completion popup respects the filter too.
    popup = _completions(browser)
    assert popup and all(" — Romantic" in text for text in popup)

    browser.filter_bar.clear_button.click()
    qtbot.waitUntil(lambda: len(_shown(browser)) == 12)
    assert not browser.filter_bar.filters().active
    assert any(" — Baroque" in text for text in _completions(browser))


def test_filters_with_an_empty_search_box_list_the_songs_that_pass(qtbot, fake_studio):
    browser = _browser(qtbot, fake_studio)
    assert browser.pages.currentIndex() == browser.PAGE_TREE
    browser.filter_bar.select("instrument", "Violin")
    qtbot.waitUntil(lambda: browser.pages.currentIndex() == browser.PAGE_RESULTS)
    assert _shown(browser) == ["s1", "s3", "s5", "s7", "s9", "s11"]
    assert fake_studio.search_calls[-1][0] == ""

    browser.filter_bar.select("use", Use.COMMERCIAL.value)  # s3 refuses commercial use
    qtbot.waitUntil(lambda: "s3" not in _shown(browser))
    assert _shown(browser) == ["s1", "s5", "s7", "s9", "s11"]

    browser.filter_bar.select("genre", "Baroque")
    browser.filter_bar.select("era", "1710s")
    qtbot.waitUntil(lambda: _shown(browser) == [])
    assert browser.no_results.isVisible()
    assert "No songs pass these filters" in browser.no_results.text()

    browser.filter_bar.clear()
    qtbot.waitUntil(lambda: browser.pages.currentIndex() == browser.PAGE_TREE)


def test_without_filters_search_calls_stay_plain(qtbot, fake_studio):
    """With no filter chosen the browser calls search(text, limit) exactly as before, so a
    catalogue service without filters keeps working."""
    browser = _browser(qtbot, fake_studio)
    browser.search_box.setText("Song 1")
    browser.run_search()
    assert fake_studio.search_calls[-1] == ("Song 1", None)


def test_new_choices_keep_the_current_choice(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_choices({"genre": ["Baroque", "Romantic"], "era": [], "instrument": []})
    bar.select("genre", "Romantic")
    with qtbot.assertNotEmitted(bar.changed):
        bar.set_choices({"genre": ["Baroque", "Jazz", "Romantic"], "era": [], "instrument": []})
    assert bar.filters().genre == "Romantic"
    with qtbot.waitSignal(bar.changed) as signal:  # the chosen genre is gone: back to Any
        bar.set_choices({"genre": ["Jazz"], "era": [], "instrument": []})
    assert signal.args[0].genre is None


def test_a_catalogue_without_filter_choices_leaves_the_bar_empty(qtbot, fake_studio, monkeypatch):
    def broken() -> dict:
        raise RuntimeError("no filters here")

    monkeypatch.setattr(fake_studio, "filter_choices", broken)
    browser = _browser(qtbot, fake_studio)
    assert browser.filter_bar.genre_box.count() == 1

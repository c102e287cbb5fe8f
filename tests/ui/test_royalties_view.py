"""Tools → Royalties…: what this take (or the request being built) pays whom, the period's
statement, and the simulator, over the fake studio; and once over the real one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from PySide6.QtWidgets import QApplication

from musicapp.ui.main_window import MainWindow
from musicapp.ui.royalties_statement_widget import current_month
from musicapp.ui.royalties_view import RoyaltiesView

TAKE_MS = 10_000
SIM_MS = 30_000
REAL_TAKE_MS = 180_000


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def table_rows(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def make_take(qtbot, window: MainWindow, *song_ids: str):
    for sid in song_ids:
        window.add_reference(sid)
    window.refresh_check()
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)
    qtbot.waitUntil(lambda: window.generation is None, timeout=TAKE_MS)
    return window.result.take


def test_tools_menu_opens_one_non_modal_view(qtbot, window):
    action = window.royalties_ui.action
    assert action.shortcut().toString() == "Ctrl+Shift+R"
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert action in tools.actions()
    action.trigger()
    view = window.royalties_ui.view
    assert isinstance(view, RoyaltiesView) and view.isVisible() and not view.isModal()
    assert [view.tabs.tabText(i) for i in range(3)] == ["This take", "Statement", "Simulator"]
    action.trigger()
    assert window.royalties_ui.view is view  # raised, not a second one


def test_before_a_take_the_tab_previews_the_request_being_built(qtbot, window):
    view = window.royalties_ui.open_view()
    tab, room = view.take_tab, window.studio.compensation
    assert tab.shows == "" and tab.table.rowCount() == 0
    assert not tab.take_choice.isEnabled()  # no take yet
    assert "add reference songs" in tab.source_label.text()
    window.add_reference("s1")
    window.add_reference("s2")
    qtbot.waitUntil(lambda: tab.shows == "request", timeout=2000)
    assert "Before generating" in tab.source_label.text()
    assert room.calls[-1] == ("preview_request", "proportional", 3)
    # Equal weights: each song's holder 30 EUR per 100, the shared estate (e1: s1) and e0 (s2)
    assert table_rows(tab.table) == [
        ["Holder 1", "Song 1", "30.00"],
        ["Holder 2", "Song 2", "30.00"],
        ["Estate 0", "Song 2", "20.00"],
        ["Estate 1", "Song 1", "20.00"],
    ]


def test_after_a_take_the_tab_shows_what_the_take_pays(qtbot, window):
    view = window.royalties_ui.open_view()
    tab, room = view.take_tab, window.studio.compensation
    take = make_take(qtbot, window, "s1", "s2", "s3")
    qtbot.waitUntil(lambda: tab.shows == "take", timeout=2000)
    assert room.calls[-1][0] == "preview_take"
    assert take.id[:8] in tab.source_label.text()
    names = [row[0] for row in table_rows(tab.table)]
    assert sorted(names) == ["Estate 0", "Estate 1", "Holder 1", "Holder 2", "Holder 3"]
    cents = sum(round(float(row[2]) * 100) for row in table_rows(tab.table))
    assert cents == 10_000  # per 100 EUR, to the cent
    # Looking ahead: the request being built again, before generating it.
    tab.request_choice.setChecked(True)
    assert tab.shows == "request" and room.calls[-1][0] == "preview_request"
    assert "Before generating" in tab.source_label.text()
    tab.take_choice.setChecked(True)
    assert tab.shows == "take" and room.calls[-1][0] == "preview_take"
    # A new take is shown as it arrives, even while the request was chosen.
    tab.request_choice.setChecked(True)
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not take, timeout=TAKE_MS)
    qtbot.waitUntil(lambda: tab.shows == "take", timeout=2000)
    assert tab.take_choice.isChecked() and window.result.take.id[:8] in tab.source_label.text()


def test_changing_the_mechanism_asks_again_with_it_and_k(qtbot, window):
    window.add_reference("s1")
    window.add_reference("s2")
    window.references.set_weight(0, 2.0)
    view = window.royalties_ui.open_view()
    tab, room = view.take_tab, window.studio.compensation
    picker = tab.picker
    assert not picker.k_spin.isEnabled()  # proportional has no K
    picker.set_mechanism("top_k_uniform")
    assert picker.k_spin.isEnabled()
    assert room.calls[-1] == ("preview_request", "top_k_uniform", 3)
    picker.k_spin.setValue(1)
    assert room.calls[-1] == ("preview_request", "top_k_uniform", 1)
    # Only the largest reference (Song 1, weight 2) is paid under Top-1.
    assert {row[1] for row in table_rows(tab.table)} == {"Song 1"}
    assert "Top-1 uniform" in tab.source_label.text()
    picker.set_mechanism("proportional")
    assert not picker.k_spin.isEnabled()
    assert {row[1] for row in table_rows(tab.table)} == {"Song 1", "Song 2"}


def test_a_failing_preview_is_said_in_the_view(qtbot, window, monkeypatch):
    window.add_reference("s1")
    view = window.royalties_ui.open_view()

    def broken(request, policy):
        raise RuntimeError("the catalogue is gone")

    monkeypatch.setattr(window.studio.compensation, "preview_request", broken)
    view.take_tab.picker.set_mechanism("top_k_proportional")
    assert view.take_tab.error_label.isVisibleTo(view)
    assert "the catalogue is gone" in view.take_tab.error_label.text()
    assert view.take_tab.table.rowCount() == 0


def test_the_statement_tab_computes_with_a_flat_pool_and_states_it(qtbot, window):
    view = window.royalties_ui.open_view(RoyaltiesView.STATEMENT_TAB)
    tab, room = view.statement_tab, window.studio.compensation
    first, last = current_month(datetime.now(UTC).date())
    assert tab.from_date.date().toString("yyyy-MM-dd") == first.isoformat()
    assert tab.to_date.date().toString("yyyy-MM-dd") == last.isoformat()
    tab.picker.set_mechanism("top_k_proportional", 2)
    tab.pool.setValue(250.0)
    tab.minimum.setValue(120.0)
    tab.compute_button.click()
    qtbot.waitUntil(lambda: tab.statement is not None and not tab.busy, timeout=5000)
    start, end, policy = room.statement_calls[-1]
    assert (start.date(), end.date()) == (first, date.fromordinal(last.toordinal() + 1))
    assert (policy.mechanism, policy.k, policy.pricing) == ("top_k_proportional", 2, "flat")
    assert (policy.pool_cents, policy.minimum_cents) == (25_000, 12_000)
    # 60/40 of 250 EUR; the estate's 100 EUR is under the 120 EUR minimum: carried over.
    assert table_rows(tab.table) == [
        ["Holder 1", "150.00", "0.00", "150.00", "0.00"],
        ["Estate 1", "100.00", "0.00", "0.00", "100.00"],
    ]
    stated = tab.stated.text()
    assert "Pool 250.00 EUR" in stated and "Top-2 proportional" in stated
    assert "k = 2" in stated and "pricing flat" in stated and "minimum 120.00 EUR" in stated
    assert "abababababab…" in stated and "ab" * 32 not in stated  # the digest, shortened
    assert "flat pricing" in " ".join(w.text() for w in tab.findChildren(type(tab.stated)))


def test_a_bad_policy_shows_an_error_in_the_view(qtbot, window, monkeypatch):
    view = window.royalties_ui.open_view(RoyaltiesView.STATEMENT_TAB)
    tab = view.statement_tab
    window.studio.compensation.fail = "k: 0 must be at least 1"
    tab.compute_button.click()
    qtbot.waitUntil(lambda: tab.error_label.isVisibleTo(view), timeout=5000)
    assert "k: 0 must be at least 1" in tab.error_label.text()
    assert tab.table.rowCount() == 0 and view.isVisible()
    qtbot.waitUntil(lambda: tab.compute_button.isEnabled(), timeout=5000)
    # A policy the royalties refuse (here a negative minimum) is said before anything is asked.
    calls = len(window.studio.compensation.statement_calls)
    monkeypatch.setattr(tab.minimum, "value", lambda: -1.0)
    tab.compute_button.click()
    assert "minimum_cents: -100 is negative" in tab.error_label.text()
    assert len(window.studio.compensation.statement_calls) == calls
    monkeypatch.undo()
    # An impossible period is refused before anything is asked.
    calls = len(window.studio.compensation.statement_calls)
    tab.to_date.setDate(tab.from_date.date().addDays(-3))
    tab.compute_button.click()
    assert "ends before it starts" in tab.error_label.text()
    assert len(window.studio.compensation.statement_calls) == calls


def test_the_simulator_runs_as_a_job_and_plots_every_mechanism(qtbot, window):
    view = window.royalties_ui.open_view(RoyaltiesView.SIMULATOR_TAB)
    tab, room = view.simulator_tab, window.studio.compensation
    assert [tab.inputs[k].value() for k in ("events", "songs", "holders")] == [
        200_000,
        20_000,
        2_000,
    ]
    assert (tab.zipf.value(), tab.pool.value(), tab.minimum.value()) == (1.0, 100_000.0, 10.0)
    tab.inputs["events"].setValue(3_000)
    tab.inputs["songs"].setValue(500)
    tab.inputs["holders"].setValue(100)
    tab.run()
    assert not tab.run_button.isEnabled()  # running off the GUI thread
    qtbot.waitUntil(lambda: tab.simulation is not None and not tab.busy, timeout=SIM_MS)
    assert room.simulate_calls[-1] == {
        "n_events": 3_000,
        "n_songs": 500,
        "n_holders": 100,
        "zipf": 1.0,
        "pool_cents": 10_000_000,
        "minimum_cents": 1_000,
    }
    rows = table_rows(tab.table)
    assert [r[0] for r in rows] == [
        "Proportional",
        "Top-1 proportional",
        "Top-1 uniform",
        "Top-3 proportional",
        "Top-3 uniform",
    ]
    for row in rows:
        assert 0.0 <= float(row[1]) < 1.0
        assert row[2].endswith(" %") and row[4].endswith(" of 100")
    assert len(tab.lorenz_curves) == len(rows) == len(tab.hist_curves)
    legend = [label.text for _item, label in tab.lorenz_legend.items]
    assert legend == ["equality", "proportional", *(r[0] for r in rows[1:])]
    x, y = tab.lorenz_curves[0].getData()
    assert x[0] == 0.0 and x[-1] == 1.0 and y[-1] == pytest.approx(1.0)
    assert all(y <= x + 1e-9)  # a Lorenz curve lies under the line of equality
    assert "log-binned" in tab.hist_plot.getPlotItem().titleLabel.text
    # Run again: the plot is redrawn, not stacked.
    tab.run()
    qtbot.waitUntil(lambda: not tab.busy, timeout=SIM_MS)
    assert len(tab.lorenz_plot.getPlotItem().listDataItems()) == len(rows) + 1


@pytest.mark.slow
def test_the_take_tab_shows_a_real_takes_holders(qtbot, demo_studio):
    from musicapp.catalog.demo import PERMITTED_SONG_IDS
    from musicapp.core import GenerationRequest, Level, Reference
    from musicapp.ui.job_runner import JobRunner

    refs = PERMITTED_SONG_IDS[:2]
    take = demo_studio.generate(
        GenerationRequest(tuple(Reference(s, Level.SONG) for s in refs), duration_s=10, seed=4)
    )
    runner = JobRunner()
    view = RoyaltiesView(
        lambda: demo_studio.compensation, runner, lambda: take, lambda: None, demo_studio.song
    )
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    tab = view.take_tab
    assert tab.shows == "take"
    expected = {sp.holder.name for s in refs for sp in demo_studio.song(s).splits}
    assert {row[0] for row in table_rows(tab.table)} == expected
    titles = {demo_studio.song(s).title for s in refs}
    assert {t for row in table_rows(tab.table) for t in row[1].split(", ")} <= titles
    assert sum(round(float(row[2].replace(",", "")) * 100) for row in table_rows(tab.table)) == (
        10_000
    )
    QApplication.processEvents()
    runner.cancel_all()
    runner.wait()


@pytest.mark.parametrize("cls_name", ["RoyaltiesRoom", "FakeRoyalties"])
def test_the_room_and_its_fake_offer_the_port(cls_name):
    import inspect

    from ui_fake_rooms import FakeRoyalties

    from musicapp.rooms.royalties import RoyaltiesRoom
    from musicapp.ui.services import RoyaltiesPort

    cls = {"RoyaltiesRoom": RoyaltiesRoom, "FakeRoyalties": FakeRoyalties}[cls_name]
    for name in ("preview_request", "preview_take", "statement", "simulate"):
        wanted = [p for p in inspect.signature(getattr(RoyaltiesPort, name)).parameters]
        offered = [p for p in inspect.signature(getattr(cls, name)).parameters]
        wanted = [p for p in wanted if p != "self"]
        offered = [p for p in offered if p != "self"]
        assert offered[: len(wanted)] == wanted, f"{cls_name}.{name}"

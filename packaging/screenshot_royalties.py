"""Save the pictures of the Royalties view (issue 16): the simulator after a run (Lorenz curves
and payout histogram of every mechanism), what a take pays whom, and the month's statement.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_royalties.py --data-dir DEMO
    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_royalties.py --fake

With --data-dir the window runs over the real studio on a copy of that demo data folder (the
take and its ledger events are written to the copy, never to DEMO) and makes a real take of
three demo songs. --fake drives the window over the tests' fake studio (tests/ui/ui_fakes.py)
with demo titles; its simulator is the real one. The pictures go to --out (docs/screenshots):
royalties.png (the Simulator tab after a run at the default 200,000 generations),
royalties-take.png (This take) and royalties-statement.png (Statement), the view alone.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from screenshot_director import Director, screenshot_main  # noqa: E402  (beside this script)

from musicapp.ui.royalties_view import RoyaltiesView

GIVE_UP_S = 600.0
# (song id, weight): the demo's songs that allow every use, the first twice as loud.
REFERENCES = (("bach-bwv269", 2.0), ("oneills-1183", 1.0), ("ryans-soldiers-joy", 1.0))
DEMO_TITLES = {
    "bach-bwv269": ("Aus meines Herzens Grunde", "Johann Sebastian Bach"),
    "oneills-1183": ("Music in the Glen", "Traditional (Irish)"),
    "ryans-soldiers-joy": ("Soldier's Joy", "Traditional (American)"),
}
TAKE_S = 20.0
VIEW_SIZE = (1000, 860)


def stage(d: Director, references: tuple[tuple[str, float], ...]) -> None:
    w = d.window

    def make() -> None:
        for row, (song_id, weight) in enumerate(references):
            w.add_reference(song_id)
            w.references.set_weight(row, weight)
        w.settings_panel.duration.setValue(TAKE_S)
        w.refresh_check()
        w.start_generation()
        d.wait_for(lambda: w.result.take is not None and w.generation is None, simulate, "the take")

    def view() -> RoyaltiesView:
        v = w.royalties_ui.view
        assert v is not None
        return v

    def simulate() -> None:
        v = w.royalties_ui.open_view(RoyaltiesView.SIMULATOR_TAB)
        v.resize(*VIEW_SIZE)
        v.simulator_tab.run()
        tab = v.simulator_tab
        d.wait_for(lambda: tab.simulation is not None and not tab.busy, shot_simulator, "the run")

    def grab(name: str) -> None:
        d.out.mkdir(parents=True, exist_ok=True)
        path = d.out / name
        view().grab().save(str(path))
        print(f"saved {path}", flush=True)

    def shot_simulator() -> None:
        grab("royalties.png")
        view().tabs.setCurrentIndex(RoyaltiesView.TAKE_TAB)
        tab = view().take_tab
        tab.picker.set_mechanism("top_k_proportional", 2)
        d.wait_for(lambda: tab.shows == "take", shot_take, "the take's preview")

    def shot_take() -> None:
        grab("royalties-take.png")
        view().tabs.setCurrentIndex(RoyaltiesView.STATEMENT_TAB)
        tab = view().statement_tab
        tab.pool.setValue(1000.0)
        tab.minimum.setValue(5.0)
        tab.compute_button.click()
        d.wait_for(lambda: tab.statement is not None and not tab.busy, shot_statement, "it")

    def shot_statement() -> None:
        grab("royalties-statement.png")
        QTimer.singleShot(100, lambda: d.app.exit(0))

    make()


def fake_context() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))
    from ui_fakes import FakeContext, FakeSettings, FakeStudio

    studio = FakeStudio()
    studio.sample_rate = 44100
    studio.step_s = 0.01
    # The fake's songs under the demo's names, so the picture reads like the real thing.
    for (old, song), (new, (title, artist)) in zip(
        list(studio.songs.items())[:3], DEMO_TITLES.items(), strict=True
    ):
        del studio.songs[old]
        studio.songs[new] = replace(song, id=new, title=title, artist=artist)
        studio.instruments[new] = studio.instruments.pop(old)
    return FakeContext(FakeSettings(Path(tempfile.mkdtemp())), studio)


def main(argv: list[str] | None = None) -> int:
    return screenshot_main(
        argv,
        __doc__.splitlines()[0],
        lambda d: stage(d, REFERENCES),
        fake_context,
        prefix="musicapp-royalties-shot-",
        size="1440x900",
        give_up_s=GIVE_UP_S,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Save the three pictures of mediated selection (issue 14): prompt results, the Similar pane,
and a refusal with its compliant alternatives.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_selection.py --data-dir DEMO
    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_selection.py --fake

With --data-dir the window runs over the real studio and that demo catalogue (`musicapp
--data-dir DEMO demo --headless` builds it); --fake drives it over the tests' fake studio
(tests/ui/ui_fakes.py), for when the real selection room is not there. Pictures go to --out
(docs/screenshots): selection-prompt.png, selection-similar.png, selection-alternatives.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from screenshot_director import Director  # noqa: E402  (beside this script)

from musicapp.core import Level, Role, Use
from musicapp.ui.app import make_application
from musicapp.ui.main_window import MainWindow
from musicapp.ui.select_pane import SelectPane

PROMPT = "a melancholic fiddle tune for a funeral"
GIVE_UP_S = 120.0


def first_songs(window: MainWindow, want: int, use: Use, allowed: bool) -> list[str]:
    """Catalogue songs in tree order whose song-level check for `use` is `allowed`."""
    from musicapp.core import GenerationRequest, Reference

    studio, found = window.studio, []

    def walk(path: tuple[str, ...]) -> None:
        for node in studio.catalogue_children(path):
            if len(found) >= want:
                return
            if node.song_id:
                request = GenerationRequest((Reference(node.song_id),), use=use)
                if studio.check(request).allowed is allowed:
                    found.append(node.song_id)
            else:
                walk(node.path)

    walk(())
    return found


def stage(d: Director, refused_id: str | None) -> None:
    w = d.window
    ui = w.selection_ui
    prompt, similar = ui.prompt, ui.similar

    def step_prompt() -> None:
        ui.pane.show_tab(SelectPane.PROMPT)
        d.wait_for(lambda: bool(prompt.chips.chips), ask_prompt, "the category chips")

    def ask_prompt() -> None:
        prompt.text_box.setText(PROMPT)
        chip = prompt.chips.chips.get("situation:funeral")
        if chip is not None:
            chip.blockSignals(True)
            chip.setChecked(True)
            chip.blockSignals(False)
        prompt.ask()
        d.wait_for(lambda: bool(prompt.results.song_ids()), shot_prompt, "prompt results")

    def shot_prompt() -> None:
        prompt.results.list.setCurrentRow(1)
        d.grab("selection-prompt.png")
        step_similar()

    def step_similar() -> None:
        for song_id in prompt.results.song_ids()[:2]:
            w.add_reference(song_id)
        w.references.set_level(0, Level.PARAMETER, Role.MELODY)
        ui.pane.show_tab(SelectPane.SIMILAR)
        w.references.table.selectRow(0)
        d.wait_for(
            lambda: similar.song is not None and bool(similar.results.song_ids()),
            shot_similar,
            "similar songs",
        )

    def shot_similar() -> None:
        similar.results.list.setCurrentRow(0)
        d.grab("selection-similar.png")
        step_alternatives()

    def step_alternatives() -> None:
        # Taller, so the refusal's reasons and the alternatives under them both show.
        w.resize(w.width(), w.height() + 260)
        w.references.clear()
        w.settings_panel.set_use(Use.COMMERCIAL)
        refused = refused_id or first_songs(w, 1, Use.COMMERCIAL, allowed=False)[0]
        allowed = first_songs(w, 1, Use.COMMERCIAL, allowed=True)
        for song_id in [*allowed, refused]:
            w.add_reference(song_id)
        ui.pane.show_tab(SelectPane.PROMPT)
        w.refresh_check()
        panel = w.verification.alternatives
        d.wait_for(lambda: bool(panel.swap_buttons), shot_alternatives, "alternatives")

    def shot_alternatives() -> None:
        d.grab("selection-alternatives.png")
        d.app.exit(0)

    step_prompt()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", type=Path, help="a musicapp data folder with the demo")
    source.add_argument("--fake", action="store_true", help="the tests' fake studio instead")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--size", default="1440x900", help="window size, WxH")
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    width, height = (int(v) for v in args.size.split("x"))

    def run(context, refused_id: str | None) -> int:
        window = MainWindow(context)
        window.resize(width, height)
        window.show()
        director = Director(window, args.out.resolve(), app, GIVE_UP_S, 400)
        QTimer.singleShot(800, lambda: stage(director, refused_id))
        code = app.exec()
        window.close()
        return 1 if director.failed else code

    if args.fake:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))
        import tempfile

        from ui_fakes import FakeContext, FakeSettings, FakeStudio

        studio = FakeStudio()
        studio.selection.page = 8
        return run(FakeContext(FakeSettings(Path(tempfile.mkdtemp())), studio), "s3")

    from musicapp.catalog.demo import NON_COMMERCIAL_SONG_ID
    from musicapp.config import Settings
    from musicapp.context import AppContext

    settings = Settings()
    settings.data_dir = args.data_dir
    with AppContext.open(settings) as ctx:
        return run(ctx, NON_COMMERCIAL_SONG_ID)


if __name__ == "__main__":
    sys.exit(main())

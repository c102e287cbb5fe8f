"""Save the picture of a composer take's training-data attribution (issue 18): the "Learned
from" tab of the take panel, beside the references' shares.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_training.py --data-dir DEMO

The window runs over the real studio on a copy of DEMO (never DEMO itself) and makes a real
composer take of two demo songs with the shipped model, which attributes it to the training
songs as it makes it (the first take of a model also computes its training side: about a
minute here). The picture goes to --out (docs/screenshots): training-attribution.png.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QTimer
from screenshot_director import Director, screenshot_main  # noqa: E402  (beside this script)

GIVE_UP_S = 900.0
REFERENCES = (("ryans-soldiers-joy", 2.0), ("aird-0003", 1.0))
TAKE_S = 20.0


def stage(d: Director) -> None:
    w = d.window

    def make() -> None:
        for row, (song_id, weight) in enumerate(REFERENCES):
            w.add_reference(song_id)
            w.references.set_weight(row, weight)
        w.settings_panel.duration.setValue(TAKE_S)
        w.settings_panel.set_engine("composer")
        w.refresh_check()
        w.start_generation()
        d.wait_for(lambda: w.result.take is not None and w.generation is None, shot, "the take")

    def shot() -> None:
        if w.result.take.provenance.training is None:
            print("screenshot: the take has no training attribution", file=sys.stderr)
            d.failed = True
        w.result.details.setCurrentIndex(w.result.TRAINING_TAB)
        QTimer.singleShot(300, lambda: (d.grab("training-attribution.png"), d.app.exit(0)))

    make()


def no_fake() -> Any:
    raise SystemExit("screenshot_training.py: a real composer take needs --data-dir")


def main(argv: list[str] | None = None) -> int:
    return screenshot_main(
        argv,
        __doc__.splitlines()[0],
        stage,
        no_fake,
        prefix="musicapp-training-shot-",
        size="1440x1000",
        give_up_s=GIVE_UP_S,
    )


if __name__ == "__main__":
    sys.exit(main())

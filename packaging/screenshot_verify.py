"""Show the Verify window (issue 17) on a real signed FLAC export, or on a copy of it with one
sample changed, for the pictures docs/screenshots/verify-clean.png and verify-tampered.png.

    ../shared/tools/screenshot /tmp/clean.png 12 -- \\
        .venv/bin/python packaging/screenshot_verify.py --hold 30
    ../shared/tools/screenshot /tmp/tampered.png 12 -- \\
        .venv/bin/python packaging/screenshot_verify.py --tampered --hold 30
    convert /tmp/clean.png -crop 860x820+0+0 +repage docs/screenshots/verify-clean.png

The pictures in docs/ are of the signed sample, checked offline with the server's CA only:

    --file docs/samples/sample.flac --offline --ca docs/samples/server-ca.pem [--tampered]

The script makes a small data folder of its own (removed when it ends): a ledger, the device's
signing identity, and one take of three demo songs exported the way ``Studio.export`` does
(``export_audio`` with a C2PA manifest request). It then opens the studio over that folder and
the Verify window on the export through ``studio.records``, the door the app's window uses,
placed at the screen's top-left corner at --size so the picture can be cropped to it. With
--grab OUT the window saves itself to OUT once verified and the script ends (offscreen works).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.export import export_audio
from musicapp.export.c2pa_manifest import ManifestRequest
from musicapp.ledger import Ledger
from musicapp.testing.audio_edit import edit_one_sample
from musicapp.testing.exports import stereo_music
from musicapp.ui.app import make_application
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.verify_window import VerifyWindow

RATE = 44100
TAKE_S = 8.0
# The demo's songs that allow every use, as a take of them would credit them.
REFERENCES = (
    ("bach-bwv269", "Aus meines Herzens Grunde", "Johann Sebastian Bach", "song", None, 0.5),
    ("oneills-1183", "Music in the Glen", "Traditional (Irish)", "parameter", "melody", 0.3),
    ("ryans-soldiers-joy", "Soldier's Joy", "Traditional (American)", "parameter", "rhythm", 0.2),
)


def attribution() -> dict[str, Any]:
    refs = [
        {"song_id": sid, "title": title, "artist": artist, "level": level, "role": role,
         "weight": 1.0, "share": share}
        for sid, title, artist, level, role, share in REFERENCES
    ]  # fmt: skip
    return {
        "generation_event_id": "screenshot-take",
        "use": "commercial",
        "engine": "concat",
        "references": refs,
        "user_share": 0.0,
        "rights_holders": [
            {"id": f"holder-{sid}", "name": artist, "share": share}
            for sid, _t, artist, _l, _r, share in REFERENCES
        ],
    }


def make_export(settings: Settings) -> Path:
    """One signed FLAC export in the data folder's exports, logged in its ledger."""
    out = settings.exports_dir / "after-aus-meines-herzens-grunde.flac"
    out.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(settings.ledger_path) as ledger:
        export_audio(
            stereo_music(TAKE_S, RATE),
            RATE,
            out,
            attribution(),
            ledger,
            title="After Aus meines Herzens Grunde & Music in the Glen & Soldier's Joy",
            c2pa=ManifestRequest(settings.data_dir),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tampered", action="store_true", help="one sample changed after export")
    parser.add_argument("--offline", action="store_true", help="check as a third party would")
    parser.add_argument(
        "--file",
        type=Path,
        help="verify this export instead of making one (docs/samples/sample.flac: synced, "
        "signed with the server's certificate, receipts inside)",
    )
    parser.add_argument("--ca", type=Path, help="with --offline: the server's CA certificate")
    parser.add_argument("--size", default="860x820", help="window size, WxH")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to stay open")
    parser.add_argument("--grab", type=Path, help="save the window here once verified, then end")
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    width, height = (int(v) for v in args.size.split("x"))
    folder = Path(tempfile.mkdtemp(prefix="musicapp-verify-shot-"))
    try:
        settings = Settings(data_dir=folder / "data", models_dir=folder / "models", device="cpu")
        if args.file is not None:
            path = folder / args.file.name
            shutil.copyfile(args.file, path)
        else:
            path = make_export(settings)
        if args.tampered:
            path = edit_one_sample(path, path.with_name(f"{path.stem}-edited{path.suffix}"))
        with AppContext.open(settings) as ctx:
            runner = JobRunner()
            window = VerifyWindow(ctx.studio.records, runner, path)
            window.resize(width, height)
            window.move(0, 0)
            window.offline.setChecked(args.offline)
            if args.ca is not None:
                window.set_ca(args.ca)
            window.show()
            if args.grab is not None:
                grab: Path = args.grab

                def save(_report: object) -> None:
                    QTimer.singleShot(300, lambda: (window.grab().save(str(grab)), app.exit(0)))

                window.verified.connect(save)
            window.start()
            QTimer.singleShot(int(args.hold * 1000), lambda: app.exit(0))
            code = app.exec()
            window.close()
            runner.cancel_all()
            runner.wait(5000)
            return code
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

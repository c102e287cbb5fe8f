"""Save the picture of the audit in the result panel (issue 15): a take's attribution by design
beside the audit's, per song, with where they disagree.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_audit.py --data-dir DEMO
    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_audit.py --fake

With --data-dir the window runs over the real studio on a copy of that demo data folder (the
take and its ledger events are written to the copy, never to DEMO) and makes a real take of
three demo songs, which the studio audits as it makes it. --fake drives the window over the
tests' fake studio (tests/ui/ui_fakes.py) with demo titles and an audit result shaped like a
real one, for when the real audit is not there. The picture goes to --out (docs/screenshots):
audit-result.png, the whole window.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from screenshot_director import Director, screenshot_main  # noqa: E402  (beside this script)

from musicapp.ui.audit_widget import AuditWidget

GIVE_UP_S = 600.0
# (song id, weight): the demo's songs that allow every use, the first twice as loud.
REFERENCES = (("bach-bwv269", 2.0), ("oneills-1183", 1.0), ("ryans-soldiers-joy", 1.0))
DEMO_TITLES = {
    "bach-bwv269": ("Aus meines Herzens Grunde", "Johann Sebastian Bach"),
    "oneills-1183": ("Music in the Glen", "Traditional (Irish)"),
    "ryans-soldiers-joy": ("Soldier's Joy", "Traditional (American)"),
}
TAKE_S = 20.0


def stage(d: Director, references: tuple[tuple[str, float], ...]) -> None:
    w = d.window

    def make() -> None:
        for row, (song_id, weight) in enumerate(references):
            w.add_reference(song_id)
            w.references.set_weight(row, weight)
        w.settings_panel.duration.setValue(TAKE_S)
        w.refresh_check()
        w.start_generation()
        d.wait_for(lambda: w.result.take is not None and w.generation is None, shot, "the take")

    def shot() -> None:
        audit = w.result.audit
        if audit.pages.currentIndex() != AuditWidget.PAGE_AUDIT:
            print("screenshot: the take has no audit (is auditing on?)", file=sys.stderr)
            d.failed = True
        w.result.details.setCurrentIndex(w.result.AUDIT_TAB)
        QTimer.singleShot(300, lambda: (d.grab("audit-result.png"), d.app.exit(0)))

    make()


def fake_audit(take: Any) -> Any:
    """An audit shaped like a real one of the fake take: the loudest reference found outright
    where it plays, the third stretched by the engine, and the second heard only faintly (so
    its share differs from the one by design: the panel shows the disagreement)."""
    from musicapp.attribution.types import AuditResult, Candidate, Finding, Segment

    first, second, third = (r.song_id for r in take.request.references)
    segments, findings = [], []
    for k in range(int(take.duration_s)):
        slot = next(s for s in take.provenance.timeline if s.start_s <= k + 0.5 < s.end_s)
        sid = slot.sources[0][0]
        if sid == second:
            influence = {second: 0.2, first: 0.3}
        else:
            influence = {sid: 0.88 if sid == first else 0.8}
        top = max(influence, key=lambda s: influence[s])
        cand = Candidate(top, k + 3.0, k + 4.0, influence[top], "fingerprint", 41.0)
        segments.append(Segment(float(k), k + 1.0, (cand,), influence))
    for slot in take.provenance.timeline:
        sid = slot.sources[0][0]
        if sid in (first, third):
            tempo = 1.08 if sid == third else 1.0
            song_start = 12.0 + slot.start_s
            findings.append(
                Finding(
                    sid,
                    slot.start_s,
                    slot.end_s,
                    song_start,
                    song_start + (slot.end_s - slot.start_s) * tempo,
                    0.97 if sid == first else 0.91,
                    tempo_ratio=tempo,
                )
            )
    total: dict[str, float] = {}
    for seg in segments:
        for sid, v in seg.influence.items():
            total[sid] = total.get(sid, 0.0) + v / len(segments)
    return AuditResult(
        take.duration_s,
        take.sample_rate,
        tuple(segments),
        total,
        tuple(findings),
        embedder="embedded audio features (chroma + MFCC, 64-d)",
        catalogue_songs=64,
        elapsed_s=1.4,
    )


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
    studio.audit.audit_of = fake_audit  # type: ignore[method-assign]
    return FakeContext(FakeSettings(Path(tempfile.mkdtemp())), studio)


def main(argv: list[str] | None = None) -> int:
    return screenshot_main(
        argv,
        __doc__.splitlines()[0],
        lambda d: stage(d, REFERENCES),
        fake_context,
        prefix="musicapp-audit-shot-",
        size="1440x1200",
        give_up_s=GIVE_UP_S,
    )


if __name__ == "__main__":
    sys.exit(main())

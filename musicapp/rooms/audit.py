"""The studio's door to the corroborative audit (``studio.audit``): who is really in a piece of
audio, found from the audio alone, logged beside the by-design attribution.

The Auditor (``attribution/auditor.py``) is made on first use and its index
(``audit_index_path``, beside the catalogue) caught up with the catalogue before an audit when
songs were added. The studio calls ``audit_new_take`` after every generation and ``declare``
before a take that uses the user's own audio (``musicapp/undeclared.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicapp.attribution.auditor import COMBINED, METHODS, Auditor, audit_index_path
from musicapp.attribution.compare import compare
from musicapp.attribution.types import AuditResult, AuditStatus, Comparison, Finding
from musicapp.core import InvalidInput
from musicapp.jobs import (
    Cancelled,
    CancelToken,
    FunctionJob,
    Progress,
    ProgressCallback,
    no_progress,
)
from musicapp.ledger.kinds import (
    AUDIT,
    AUDIT_OVERRIDE,
    AuditComparisonPayload,
    audit_override_payload,
    take_audit_payload,
    user_audio_audit_payload,
)
from musicapp.undeclared import (
    Declared,
    UndeclaredMaterial,
    added_references,
    found_notes,
    in_file,
    undeclared,
)

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.core import GenerationRequest
    from musicapp.ledger import Ledger
    from musicapp.material import UserAudio
    from musicapp.takes import Take

log = logging.getLogger(__name__)


class AuditRoom:
    """Audits of takes and files against the studio's catalogue, and their ledger events."""

    def __init__(
        self,
        settings: Settings,
        catalog: CatalogStore,
        ledger: Ledger,
        take: Callable[[str], Take],
        read_take: Callable[[str], tuple[np.ndarray, int]],
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._ledger = ledger
        self._take = take
        self._read_take = read_take
        self._index_path = audit_index_path(Path(settings.catalog_path))
        self._auditor: Auditor | None = None
        self._lock = threading.Lock()  # making the Auditor, reading the ledger
        # One catch-up at a time; status() (the window's thread) never waits for one.
        self._index_lock = threading.Lock()
        self._indexed_at: int | None = None  # catalog.songs_stamp() at the last catch-up
        # take id -> id of its newest audit event; read from the ledger as it grows
        self._audits: dict[str, str] = {}
        self._seen_seq = 0

    def _get(self) -> Auditor:
        with self._lock:
            if self._auditor is None:
                self._auditor = Auditor(self._index_path, self._catalog)
            return self._auditor

    def close(self) -> None:
        with self._lock:
            if self._auditor is not None:
                self._auditor.close()
                self._auditor = None

    # -- the index ------------------------------------------------------------------------------

    def status(self) -> AuditStatus:
        """Songs in the catalogue and in the audit's index, and what answers (in words)."""
        return self._get().status()

    def index_job(self) -> FunctionJob[int]:
        """Index the catalogue songs the audit's index lacks (resumable); how many were added."""
        return FunctionJob("Index the catalogue for the audit", self._catch_up, lane="compute")

    def _catch_up(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        with self._index_lock:
            stamp = self._catalog.songs_stamp()
            added = self._get().catch_up(progress, cancel)
            self._indexed_at = stamp
            return added

    def _ready(self, progress: ProgressCallback, cancel: CancelToken) -> Auditor:
        """The Auditor, its index caught up unless no song was added since the last catch-up
        (finding what is pending reads every song id: too much for each audit at scale)."""
        if self._catalog.songs_stamp() != self._indexed_at:
            self._catch_up(progress, cancel)
        return self._get()

    # -- audits ---------------------------------------------------------------------------------

    def _audit(
        self,
        audio: np.ndarray,
        sample_rate: int,
        progress: ProgressCallback,
        cancel: CancelToken,
        method: str = COMBINED,
        user_audio: bool = False,
    ) -> AuditResult:
        if method not in METHODS:
            raise InvalidInput(f"audit method {method!r} is not one of {', '.join(METHODS)}")
        progress(Progress(0.0, "index", "Catching up the audit's index"))
        auditor = self._ready(
            lambda p: progress(Progress(0.2 * p.fraction, p.stage, p.message)), cancel
        )
        return auditor.audit(
            audio,
            sample_rate,
            lambda p: progress(Progress(0.2 + 0.8 * p.fraction, p.stage, p.message)),
            cancel,
            method=method,
            user_audio=user_audio,
        )

    def _read(self, path: str | Path) -> tuple[np.ndarray, int]:
        from musicapp.audio.io import MIN_AUDIO_S, read_audio

        return read_audio(path, self._settings.max_user_audio_s, min_duration_s=MIN_AUDIO_S)

    def audit_file_job(self, path: str | Path, method: str = COMBINED) -> FunctionJob[AuditResult]:
        """The audit of any audio file the app can read; a bad file raises AudioError (an
        InvalidInput) naming it. A file is the user's audio: a recording is found in it only
        where ``find_material`` would find it (and a take refuse it)."""

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            audio, sr = self._read(path)
            return self._audit(audio, sr, progress, cancel, method, user_audio=True)

        return FunctionJob(f"Audit {Path(str(path)).name}", run, lane="compute")

    def audit_take_job(self, take_id: str, method: str = COMBINED) -> FunctionJob[AuditResult]:
        """The audit of a take (by id, or "last"); the app's audit (``COMBINED``) of a take
        that has none logged yet is logged as its ``audit`` event."""

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            take = self._take(take_id)
            audio, sr = self._read_take(take.id)
            result = self._audit(audio, sr, progress, cancel, method)
            if method == COMBINED and self.of_take(take.id) is None:
                self._log_take_audit(take, result)
            return result

        return FunctionJob(f"Audit take {take_id}", run, lane="compute")

    def find_material(self, path: str | Path) -> tuple[Finding, ...]:
        """Catalogue recordings found outright in an audio file (fingerprints), times in it."""
        audio, sr = self._read(path)
        return self._ready(no_progress, CancelToken()).find_material(audio, sr)

    # -- what the ledger holds ------------------------------------------------------------------

    def _scan(self) -> None:
        with self._lock:
            for event in self._ledger.events(AUDIT, since_seq=self._seen_seq):
                take_id = event.payload.get("take_event_id")
                if event.payload.get("subject") == "take" and isinstance(take_id, str):
                    self._audits[take_id] = event.id
                self._seen_seq = max(self._seen_seq, event.seq)

    def of_take(self, take_id: str) -> AuditResult | None:
        """The take's logged audit (its newest ``audit`` event), or None."""
        self._scan()
        event_id = self._audits.get(take_id)
        event = self._ledger.get(event_id) if event_id else None
        if event is None or event.payload.get("take_event_id") != take_id:
            return None
        return AuditResult.from_dict(event.payload["result"])

    def comparison(self, take: Take, result: AuditResult | None = None) -> Comparison | None:
        """``result`` (default: the take's logged audit) beside the take's by-design song
        shares; None when the take has no audit."""
        result = result or take.audit or self.of_take(take.id)
        if result is None:
            return None
        return compare(result, take.provenance.song_shares(), new_notes=_new_notes(take))

    def _log_take_audit(self, take: Take, result: AuditResult) -> AuditResult:
        """Append the take's ``audit`` event; the audit as logged (rounded, each segment's
        best candidates), so a take shows the same audit now and when read back."""
        by_design = take.provenance.song_shares()
        c = compare(result, by_design, new_notes=_new_notes(take))
        summary: AuditComparisonPayload = {
            "missed": list(c.missed),
            "undeclared": list(c.undeclared),
            "share_l1": round(c.share_l1, 6),
            "agrees": c.agrees,
        }
        payload = take_audit_payload(take.id, result.to_dict(), by_design, summary)
        self._ledger.append(AUDIT, payload)
        return replace(AuditResult.from_dict(payload["result"]), elapsed_s=result.elapsed_s)

    # -- the workflow's steps (called by Studio.generate) ---------------------------------------

    def audit_new_take(
        self,
        take: Take,
        audio: np.ndarray,
        sample_rate: int,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> Take:
        """Audit a take just made and log it (``settings.audit_takes``). A failure never loses
        the take: it is logged as a warning and the take comes back without an audit."""
        if not self._settings.audit_takes:
            return take
        try:
            result = self._audit(audio, sample_rate, progress, cancel or CancelToken())
            result = self._log_take_audit(take, result)
        except Exception as exc:  # the take is already recorded and published
            log.warning("the audit of take %s did not finish: %s", take.id, exc, exc_info=True)
            return replace(take, audit_note=f"the audit of this take did not finish: {exc}")
        return replace(take, audit=result)

    def declare(
        self,
        request: GenerationRequest,
        user: UserAudio | None,
        user_audio_file_sha256: str | None,
        cancel: CancelToken,
    ) -> Declared:
        """Audit the part of the user's audio the request uses, log what was found, and act on
        the request's ``on_undeclared`` for catalogue recordings no reference declares: raise
        UndeclaredMaterial ("refuse"), add each song as an audio-level reference ("add"), or
        leave the request as it is ("override": ``log_override`` before the engine runs)."""
        if user is None or not user_audio_file_sha256:
            return Declared(request)
        audio, offset = user.audio, 0.0
        rng = request.user_range
        if rng is not None:
            a, b = (int(round(t * user.sample_rate)) for t in (rng.start_s, rng.end_s))
            audio, offset = audio[:, a:b], rng.start_s
        used_s = audio.shape[1] / user.sample_rate
        try:
            auditor = self._ready(no_progress, cancel)
            findings = in_file(auditor.find_material(audio, user.sample_rate, cancel), offset)
        except (Cancelled, InvalidInput):
            raise
        except Exception as exc:
            # Fail closed: unchecked audio is made into a take only when the user overrides.
            log.warning("could not audit the user's audio: %s", exc, exc_info=True)
            if request.on_undeclared != "override":
                raise InvalidInput(
                    f"your audio {request.user_audio}: could not be checked for catalogue "
                    f"recordings ({type(exc).__name__}: {exc}); nothing was made. Override "
                    "the check to make the take anyway (it is logged)",
                    field="user_audio",
                    path=str(request.user_audio),
                ) from exc
            note = "your audio was not checked for catalogue recordings (the audit failed); "
            note += "you overrode the check"
            return Declared(request, unchecked=True, notes=(note,))
        extra = undeclared(findings, request)
        titles = self._titles({f.song_id for f in findings})
        choice = request.on_undeclared if extra else "clean"
        decision = {"refuse": "refused", "add": "added", "override": "overridden"}.get(
            choice, "clean"
        )
        result = AuditResult(used_s, user.sample_rate, (), {}, findings, method="fingerprints")
        event = self._ledger.append(
            AUDIT,
            user_audio_audit_payload(
                request,
                user_audio_file_sha256,
                result.to_dict(),
                sorted({f.song_id for f in extra}),
                decision,  # type: ignore[arg-type]
            ),
        )
        if choice == "refuse":
            raise UndeclaredMaterial(extra, titles, event.id)
        if choice == "add":
            added = added_references(extra, request, used_s)
            request = replace(request, references=request.references + added)
            notes = found_notes(extra, titles, "added as a reference (you chose to add it)")
        elif choice == "override":
            notes = found_notes(extra, titles, "not attributed: you overrode the audit")
        else:
            notes = ()
        return Declared(request, findings, extra, event.id, notes)

    def log_override(self, declared: Declared, user_audio_file_sha256: str | None) -> str:
        """Append the ``audit_override`` event (write-ahead: before the engine runs)."""
        payload = audit_override_payload(
            declared.request,
            user_audio_file_sha256,
            [f.to_dict() for f in declared.undeclared],
            declared.audit_event_id,
        )
        return self._ledger.append(AUDIT_OVERRIDE, payload).id

    def _titles(self, song_ids: set[str]) -> dict[str, str]:
        songs = self._catalog.songs(sorted(song_ids)) if song_ids else {}
        return {s: f"{songs[s].title} — {songs[s].artist}" if s in songs else s for s in song_ids}


def _new_notes(take: Take) -> bool:
    """Whether the take's engine writes new notes (no reference's recording is in it)."""
    from musicapp.core import NOTE_ENGINES

    return (take.provenance.engine or take.request.engine) in NOTE_ENGINES

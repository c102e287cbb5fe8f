"""The studio's door to exported files: a take written as WAV, FLAC or MP3 with its attribution
inside, mastered as the user chose (``export/master.py``), its stems beside it, and an earlier
export again with the server's receipts (``musicapp export``, ``reexport``, the Export dialog)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.core import InvalidInput
from musicapp.export.master import (
    CEILING_RANGE,
    DEFAULT_CEILING_DBTP,
    DEFAULT_TARGET_LUFS,
    DEFAULT_TEMPLATE,
    EXPORT_RATES,
    LOUDNESS_RANGE,
    TEMPLATE_FIELDS,
    Mastering,
    describe,
    file_name,
    master,
)
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress, scaled

# What the front ends need of the mastering choices (they do not import the export package).
__all__ = [
    "CEILING_RANGE",
    "DEFAULT_CEILING_DBTP",
    "DEFAULT_TARGET_LUFS",
    "DEFAULT_TEMPLATE",
    "EXPORT_RATES",
    "LOUDNESS_RANGE",
    "TEMPLATE_FIELDS",
    "ExportBatch",
    "ExportPlan",
    "ExportsRoom",
    "Mastering",
]

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.export import ExportResult
    from musicapp.ledger import Ledger
    from musicapp.rooms.sync import SyncRoom
    from musicapp.takes import Take, TakeStore


@dataclass(frozen=True)
class ExportPlan:
    """One export as the Export dialog sets it: where, as what, and how mastered."""

    folder: Path
    template: str
    suffix: str  # ".wav", ".flac" or ".mp3"
    bits: int = 24
    bitrate: int | None = None
    mastering: Mastering | None = None
    stems: bool = False


@dataclass(frozen=True)
class ExportBatch:
    """What one plan wrote: the mix first, then each stem; every file with its ledger event."""

    files: list[ExportResult] = field(default_factory=list)
    mastering: str = "as made"  # describe() of the mix's mastering
    stems_label: str = ""  # how the stems were made (their own, Demucs or the DSP fallback)

    @property
    def folder(self) -> Path:
        return self.files[0].path.parent


class ExportsRoom:
    """Writes takes out; every file is logged before it appears (``export/writer.py``)."""

    def __init__(
        self,
        settings: Settings,
        catalog: CatalogStore,
        ledger: Ledger,
        sync: SyncRoom,
        takes: TakeStore,
        take: Callable[[str], Take],
    ) -> None:
        self._settings, self._catalog, self._ledger = settings, catalog, ledger
        self._sync, self._takes, self._take = sync, takes, take

    def attribution(self, take: Take) -> dict[str, Any]:
        """The attribution record that travels inside exported files."""
        from musicapp.credits import attribution

        return attribution(take, self._catalog)

    def export(
        self,
        take: Take,
        out_path: Path,
        bits: int = 24,
        bitrate: int | None = None,
        mastering: Mastering | None = None,
        audio: Any = None,
        part: str = "",
        part_of: str = "",
    ) -> ExportResult:
        """Write the take (or ``audio``, one of its stems) as WAV or FLAC, ``bits``-bit (24 or
        16), or as MP3 (``bitrate`` kbit/s), with its attribution inside; at the take's own rate
        and channels unless ``mastering`` says otherwise; logged before it appears."""
        from musicapp.export import export_audio
        from musicapp.export.c2pa_manifest import ManifestRequest, c2pa_module
        from musicapp.export.identity import load_identity

        self._ledger.refuse_if_damaged()  # before any file is written
        sr = take.sample_rate
        if audio is None:
            audio, sr = self._takes.read(take.id)
            if sr != take.sample_rate:
                raise InvalidInput(
                    f"take {take.id}: its file {take.audio_path} is at {sr} Hz but the ledger "
                    f"recorded {take.sample_rate} Hz"
                )
            seconds = audio.shape[1] / sr
            if abs(seconds - take.duration_s) > 0.05:  # cut short (a full disk, a copy)
                raise InvalidInput(
                    f"take {take.id}: its file {take.audio_path} holds {seconds:.2f} s but the "
                    f"ledger recorded {take.duration_s:.2f} s; it is damaged, not exported"
                )
        attribution = self.attribution(take)
        mp3 = Path(out_path).suffix.lower() == ".mp3"
        report: dict[str, Any] = {}
        if mastering is not None:
            done = master(audio, sr, mastering, None if mp3 else bits, f"{take.id}/{part}")
            audio, sr = done.audio, done.sample_rate
            report = done.report
            if report:
                attribution["mastering"] = report
        if part:
            # A stem of the export ``part_of`` (its mix): its own event vouches for its file.
            # Exports earn no statement lines (the generation does), so a stem costs nothing.
            attribution["stem"] = part
            attribution["part_of_export"] = part_of
        titles = [r["title"] for r in attribution["references"] if r["title"]]
        events = [self._ledger.get(i) for i in (take.verification_event_id, take.id)]
        proofs = self._sync.proofs(
            [e for e in events if e is not None],
            lambda: (
                load_identity(self._settings.data_dir).chain_pem.decode() if c2pa_module() else ""
            ),
        )
        title = f"After {' & '.join(titles[:3])}" if titles else "musicapp take"
        result = export_audio(
            audio,
            sr,
            Path(out_path),
            attribution,
            self._ledger,
            title=f"{title} ({part})" if part else title,
            bits=bits,
            bitrate=bitrate,
            # signed with the device's identity; the consent records say what training allows
            c2pa=ManifestRequest(
                self._settings.data_dir,
                self._catalog.consent.consent_records(
                    [r["song_id"] for r in attribution["references"]]
                ),
            ),
            proofs=proofs,  # the server's receipts for the take's events, once synced
        )
        return replace(result, mastering=describe(report))

    def names(self, take: Take, plan: ExportPlan) -> list[Path]:
        """The files ``plan`` would write (the mix, then ``<name> (stems)`` is decided later)."""
        titles = [r["title"] for r in self.attribution(take)["references"] if r["title"]]
        fields = {
            "title": f"After {' & '.join(titles[:2])}" if titles else "musicapp take",
            "take": take.id[:8],
            "engine": take.request.engine,
            "references": ", ".join(titles),
            "format": plan.suffix.lstrip("."),
        }
        return [Path(plan.folder) / file_name(plan.template, fields, plan.suffix)]

    def export_plan(
        self,
        take: Take,
        plan: ExportPlan,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ExportBatch:
        """The take as ``plan`` says: the mix, then (``plan.stems``) each of its stems as
        ``<name> - <stem><suffix>``, each file with the take's attribution and its own export
        event. Nothing is overwritten: an existing name is refused before anything is written."""
        from musicapp.stems.separate import SeparationOptions
        from musicapp.stems.service import stems_for

        (out,) = self.names(take, plan)
        if out.exists():
            raise InvalidInput(f"export {out}: a file of that name is already there")
        progress(Progress(0.0, "export", f"writing {out.name}"))
        mix = self.export(take, out, plan.bits, plan.bitrate, plan.mastering)
        batch = ExportBatch([mix], mix.mastering)
        if not plan.stems:
            return batch
        options = SeparationOptions(device=self._settings.device)
        stems = stems_for(
            take.audio_path,
            self._settings,
            self._catalog,
            options,
            scaled(progress, 0.05, 0.7),
            cancel,
        )
        import soundfile as sf

        for i, (name, path) in enumerate(sorted(stems.stems.items())):
            target = out.with_name(f"{out.stem} - {name}{out.suffix}")
            if target.exists():
                raise InvalidInput(f"export {target}: a file of that name is already there")
            progress(Progress(0.7 + 0.3 * i / len(stems.stems), "export", f"writing {target.name}"))
            data, _sr = sf.read(path, dtype="float32", always_2d=True)
            batch.files.append(
                self.export(
                    take,
                    target,
                    plan.bits,
                    plan.bitrate,
                    plan.mastering,
                    data.T,
                    name,
                    mix.event_id,
                )
            )
        return ExportBatch(batch.files, batch.mastering, stems.label)

    def reexport(self, path: Path, out: Path | None = None) -> ExportResult:
        """Export the take of the earlier export ``path`` again, beside it, now with the server's
        receipts inside (``export/reexport.py``); refused until the take has been synced. The
        same format, depth, bitrate and mastering as before."""
        from musicapp.export.reexport import plan_reexport

        plan = plan_reexport(path, out)
        take = self._take(plan.take_id)
        events = [e for e in (self._ledger.get(take.id),) if e is not None]
        if self._sync.proofs(events, str) is None:
            raise InvalidInput(
                f"reexport {path}: the rights server has not receipted take {take.id} yet; "
                "run `musicapp sync` first"
            )
        return self.export(take, plan.out, plan.bits, plan.bitrate, plan.mastering)

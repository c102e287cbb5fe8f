"""Fakes of the studio's rooms (``musicapp/rooms/``) over a ``ui_fakes.FakeStudio``'s state, so
tests that flip its ``empty`` flag or its ``ledger`` damage see the rooms follow."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.attribution.compare import compare
from musicapp.catalog.import_report import ImportReport
from musicapp.core import InvalidInput
from musicapp.core.codec import request_to_dict
from musicapp.export.links import Credit, Link, credits_of, links_of
from musicapp.export.master import describe, file_name
from musicapp.export.report import Check, FileReport
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.ledger import Damage
from musicapp.rooms.exports import ExportBatch, ExportPlan
from musicapp.rooms.history import TakeEntry
from musicapp.rooms.royalties import PREVIEW_POOL_CENTS, HolderPay
from musicapp.royalties import simulate as royalty_simulate
from musicapp.royalties.events import use_event
from musicapp.royalties.money import largest_remainder
from musicapp.royalties.period import Policy
from musicapp.royalties.take_price import TakePrices, take_prices
from musicapp.studio_types import AuditResult, AuditStatus, Comparison, Finding
from musicapp.sync.claims import Claim

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ui_fakes import FakeStudio

    from musicapp.core import GenerationRequest, Song, Use
    from musicapp.takes import Take
    from musicapp.ui.services import AuditPort, LibraryPort, RecordsPort, RoyaltiesPort


class FakeLibrary:
    """The studio's library room over a FakeStudio (its `empty` flag and songs)."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.declared: list[tuple[list[str], str, str, list[str]]] = []
        self.server = ""  # the rights server the user's songs are claimed on ("" none)
        self.claimed: list[Claim] = []  # how earlier claims stand there

    def is_empty(self) -> bool:
        return self._studio.empty

    def build_demo_job(self) -> FunctionJob[int]:
        studio = self._studio

        def run(progress: ProgressCallback, cancel: CancelToken) -> int:
            for k in range(5):
                cancel.check()
                time.sleep(studio.step_s)
                progress(Progress((k + 1) / 5, "demo catalogue", f"Added Song {k + 1}"))
            studio.empty = False
            return len(studio.songs)

        return FunctionJob("Build the demo catalogue", run, lane="io")

    def index_audio_job(self) -> FunctionJob[int] | None:
        return None  # the fake catalogue has no audio to index

    def demo_unfinished(self) -> tuple[int, int] | None:
        return self._studio.demo_unfinished

    def resume_demo_job(self) -> FunctionJob[int] | None:
        return None if self._studio.demo_unfinished is None else self.build_demo_job()

    def unclaimed(self) -> list[Song]:
        return [self._studio.songs[i] for i in sorted(self._studio.unclaimed_ids)]

    def declare_own_rights(
        self, song_ids: list[str], name: str, kind: str = "composer", uses: Iterable[Use] = ()
    ) -> list[str]:
        self._studio._refuse_if_damaged()
        if not name.strip():
            raise InvalidInput("your name as rights holder: it is empty")
        for song_id in song_ids:
            if song_id not in self._studio.unclaimed_ids:
                raise InvalidInput(
                    f"“{self._studio.songs[song_id].title}” already has rights holders"
                )
        self.declared.append((list(song_ids), name.strip(), kind, sorted(u.value for u in uses)))
        self._studio.unclaimed_ids -= set(song_ids)
        if self.server:
            titles = {i: self._studio.songs[i].title for i in song_ids}
            self.claimed += [Claim(i, titles[i], "unsent") for i in song_ids]
        return [f"evt-rights-{i}" for i in song_ids]

    def claims_server(self) -> str:
        return self.server

    def claims(self) -> list[Claim]:
        return list(self.claimed)

    def import_job(self, path: Path, manifest: Path | None = None) -> FunctionJob[ImportReport]:
        """An import that finds nothing (the import dialog's tests give their own job)."""
        return FunctionJob("import_library", lambda _p, _c: ImportReport(), lane="io")


class FakeRecords:
    """The studio's records room over a FakeStudio (its `ledger` damage). `verify_file` answers
    `report` (or raises `verify_error`) and records each call's (path, offline, ca) in
    `verify_calls`; `links` and `credits` are the real readings of a report."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.report: FileReport | None = None
        self.verify_error: Exception | None = None
        self.verify_calls: list[tuple[Path, bool, Path | None]] = []

    def verify_file(
        self, path: Path, *, offline: bool = False, ca: Path | None = None
    ) -> FileReport:
        self.verify_calls.append((Path(path), offline, ca))
        time.sleep(self._studio.step_s)
        if self.verify_error is not None:
            raise self.verify_error
        report = self.report or FileReport(path, [Check("readable", True, "WAV, 1 channel")], True)
        return replace(report, path=Path(path), offline=offline)

    def links(self, report: FileReport) -> list[Link]:
        return links_of(report)

    def credits(self, report: FileReport) -> list[Credit]:
        return credits_of(report)

    @property
    def damage(self) -> Damage | None:
        return self._studio.ledger

    def check_job(self) -> FunctionJob[Damage | None]:
        return FunctionJob("Check the ledger", lambda _p, _c: self._studio.ledger, "io")


FAKE_EMBEDDER = "embedded audio features (fake)"


def agreeing_audit(take: Take) -> AuditResult:
    """An audit that finds exactly the take's by-design shares, every song outright."""
    shares = take.provenance.song_shares()
    findings = tuple(
        Finding(sid, 0.0, take.duration_s, 0.0, take.duration_s, 0.97) for sid in shares
    )
    return AuditResult(
        take.duration_s, take.sample_rate, (), shares, findings, embedder=FAKE_EMBEDDER
    )


class FakeAudit:
    """The studio's audit room over a FakeStudio: `planned` (if set) is what every audit finds,
    else a take's audit agrees with its by-design shares; `auto` audits each take as it is made
    (as the real studio does after every generation); `material` is what `find_material` and the
    undeclared check find in the user's audio. `take_calls` and `file_calls` record the jobs."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.auto = True
        self.planned: AuditResult | None = None
        self.material: tuple[Finding, ...] = ()
        self.results: dict[str, AuditResult] = {}
        self.takes: dict[str, Take] = {}
        self.take_calls: list[str] = []
        self.file_calls: list[Path] = []

    def audit_of(self, take: Take) -> AuditResult:
        return self.planned if self.planned is not None else agreeing_audit(take)

    def took(self, take: Take) -> None:
        """The studio made `take`: remember it, and audit it when `auto`."""
        self.takes[take.id] = take
        if self.auto:
            self.results[take.id] = self.audit_of(take)

    def status(self) -> AuditStatus:
        n = len(self._studio.songs)
        return AuditStatus(n, n, FAKE_EMBEDDER, "landmark hashes (fake)")

    def index_job(self) -> FunctionJob[int]:
        return FunctionJob("Index the catalogue for audits", lambda _p, _c: 0, lane="io")

    def _steps(self, progress: ProgressCallback, cancel: CancelToken, what: str) -> None:
        for k in range(5):
            cancel.check()
            time.sleep(self._studio.step_s)
            progress(Progress((k + 1) / 5, "audit", f"{what}: segment {k + 1} of 5"))

    def audit_file_job(self, path: Path) -> FunctionJob[AuditResult]:
        self.file_calls.append(Path(path))

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            self._steps(progress, cancel, "Auditing")
            if self.planned is not None:
                return self.planned
            return AuditResult(10.0, 8000, (), {"s1": 0.6}, self.material, embedder=FAKE_EMBEDDER)

        return FunctionJob(f"Audit {Path(path).name}", run)

    def audit_take_job(self, take_id: str) -> FunctionJob[AuditResult]:
        self.take_calls.append(take_id)

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            self._steps(progress, cancel, "Auditing the take")
            result = self.audit_of(self.takes[take_id])
            self.results[take_id] = result
            return result

        return FunctionJob("Audit the take", run)

    def of_take(self, take_id: str) -> AuditResult | None:
        return self.results.get(take_id)

    def comparison(self, take: Take) -> Comparison | None:
        result = self.results.get(take.id)
        return None if result is None else compare(result, take.provenance.song_shares())

    def find_material(self, path: Path) -> tuple[Finding, ...]:
        return self.material


class FakeRoyalties:
    """The studio's compensation room over a FakeStudio: previews split 100 EUR by share x
    split (Top-K keeps the K largest songs, as the real mechanisms do, uniform or scaled);
    `statement` pays the pool 60/40 to the first song's holders, or raises ValueError(`fail`)
    when `fail` is set; `simulate` runs the real simulator (small sizes in tests). Every call
    is recorded in `calls` as (method, mechanism, k)."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.fail = ""
        self.server: str | None = None
        self.prices: dict[tuple[str, str], dict[str, float]] = {}
        self.prices_error = ""
        self.calls: list[tuple[str, str, int]] = []
        self.statement_calls: list[tuple[datetime, datetime, Policy]] = []
        self.simulate_calls: list[dict[str, Any]] = []

    def _pays(self, song_shares: dict[str, float], policy: Policy) -> list[HolderPay]:
        ranked = sorted(song_shares.items(), key=lambda kv: (-kv[1], kv[0]))
        if policy.mechanism != "proportional":
            ranked = ranked[: policy.k]
            if policy.mechanism == "top_k_uniform":
                ranked = [(sid, 1.0) for sid, _ in ranked]
        weights: dict[tuple[str, str], float] = {}
        names: dict[str, str] = {}
        for sid, share in ranked:
            for split in self._studio.songs[sid].splits:
                weights[(split.holder.id, sid)] = share * split.share
                names[split.holder.id] = split.holder.name
        if not weights:
            return []
        keys = sorted(weights)
        cents = largest_remainder(PREVIEW_POOL_CENTS, np.array([weights[k] for k in keys]))
        total: dict[str, int] = {}
        songs: dict[str, set[str]] = {}
        for (holder, sid), c in zip(keys, cents, strict=True):
            total[holder] = total.get(holder, 0) + int(c)
            songs.setdefault(holder, set()).add(sid)
        pays = [HolderPay(h, names[h], c, tuple(sorted(songs[h]))) for h, c in total.items()]
        return sorted(pays, key=lambda p: (-p.cents, p.holder_id))

    def preview_request(self, request: GenerationRequest, policy: Policy) -> list[HolderPay]:
        self.calls.append(("preview_request", policy.mechanism, policy.k))
        shares: dict[str, float] = {}
        for ref in request.references:
            shares[ref.song_id] = shares.get(ref.song_id, 0.0) + ref.weight
        return self._pays(shares, policy)

    def preview_take(self, take: Take, policy: Policy) -> list[HolderPay]:
        self.calls.append(("preview_take", policy.mechanism, policy.k))
        return self._pays(take.provenance.song_shares(), policy)

    def take_prices(self, take: Take) -> TakePrices:
        """The real pricing over the take, every holder citing consent version 1, with the
        prices in ``prices`` ((song, holder) -> tier -> euros) from ``server`` (None: none set;
        ``prices_error``: raised as ValueError)."""
        if self.prices_error:
            raise ValueError(self.prices_error)
        payload = {
            "request": request_to_dict(take.request),
            "provenance": take.provenance.to_dict(),
        }
        event = use_event(take.id, payload)
        assert event is not None
        songs = {c.song_id: self._studio.songs[c.song_id] for c in event.contributions}
        cited = {sid: {sp.holder.id: 1 for sp in s.splits} for sid, s in songs.items()}
        event = replace(event, consent_versions=cited)
        published = {(sid, h, 1): p for (sid, h), p in self.prices.items()}
        return take_prices(event, songs, published if self.server else {}, self.server)

    def statement(
        self, start: datetime, end: datetime, policy: Policy, holder_id: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(("statement", policy.mechanism, policy.k))
        self.statement_calls.append((start, end, policy))
        if self.fail:
            raise ValueError(self.fail)
        pool = policy.pool_cents or 0
        earned = [int(c) for c in largest_remainder(pool, np.array([0.6, 0.4]))] if pool else [0, 0]
        payouts = []
        for holder, cents in zip(("h1", "e1"), earned, strict=True):
            paid = cents if cents >= policy.minimum_cents else 0
            payouts.append(
                {
                    "holder_id": holder,
                    "earned_cents": cents,
                    "carried_in_cents": 0,
                    "paid_cents": paid,
                    "carried_out_cents": cents - paid,
                }
            )
        lines = [
            {"holder_id": p["holder_id"], "song_id": "s1", "amount_cents": p["earned_cents"]}
            for p in payouts
        ]
        return {
            "format": 1,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "holder_id": holder_id,
            "policy": policy.params(),
            "inputs_sha256": "ab" * 32,
            "pool_cents": pool,
            "undistributed_cents": 0,
            "payouts": payouts,
            "lines": lines,
        }

    def simulate(
        self,
        n_events: int = 200_000,
        n_songs: int = 20_000,
        n_holders: int = 2_000,
        *,
        zipf: float = 1.0,
        pool_cents: int = 10_000_000,
        minimum_cents: int = 1000,
        seed: int = 0,
    ) -> list[royalty_simulate.MechanismFigures]:
        self.simulate_calls.append(
            {
                "n_events": n_events,
                "n_songs": n_songs,
                "n_holders": n_holders,
                "zipf": zipf,
                "pool_cents": pool_cents,
                "minimum_cents": minimum_cents,
            }  # fmt: skip
        )
        usage = royalty_simulate.synthetic_usage(n_events, n_songs, n_holders, zipf=zipf, seed=seed)
        return royalty_simulate.run(usage, pool_cents=pool_cents, minimum_cents=minimum_cents)


if TYPE_CHECKING:

    def _royalties_fits(room: FakeRoyalties) -> RoyaltiesPort:
        return room

    def _audit_fits(room: FakeAudit) -> AuditPort:
        return room

    def _library_fits(room: FakeLibrary) -> LibraryPort:
        return room

    def _records_fits(room: FakeRecords) -> RecordsPort:
        return room


class FakeExports:
    """The exports room: names from the real template code, the mix written by the studio's
    ``export`` (which tests replace to fail or to record), each stem a copy at half level."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.plans: list[ExportPlan] = []  # every plan export_plan was given

    def names(self, take: Take, plan: ExportPlan) -> list[Path]:
        fields = {"title": "After fake", "take": take.id[:8], "engine": "fake"}
        fields |= {"references": "fake", "format": plan.suffix.lstrip(".")}
        return [plan.folder / file_name(plan.template, fields, plan.suffix)]

    def export_plan(
        self, take: Take, plan: ExportPlan, progress: ProgressCallback, cancel: CancelToken
    ) -> ExportBatch:
        self.plans.append(plan)
        (out,) = self.names(take, plan)
        files = [self._studio.export(take, out)]
        if plan.stems:
            import soundfile as sf

            for name in ("drums", "other"):
                path = out.with_name(f"{out.stem} - {name}{out.suffix}")
                sf.write(path, 0.5 * self._studio.audio[take.id].T, take.sample_rate)
                files.append(replace(files[0], path=path))
        report = {"sample_rate": {"from": take.sample_rate, "to": 48000}}
        mastered = plan.mastering is not None and plan.mastering.sample_rate == 48000
        return ExportBatch(files, describe(report) if mastered else "as made", "fake stems")


class FakeHistory:
    """Take history over the fake's takes (``FakeStudio.made``), names and deletions in memory."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.names: dict[str, str] = {}
        self.deleted: list[str] = []

    def entries(self, limit: int = 500) -> list[TakeEntry]:
        out = []
        for take in reversed(list(self._studio.made.values())):
            titles = tuple(self._studio.songs[r.song_id].title for r in take.request.references)
            out.append(
                TakeEntry(
                    take.id,
                    self.names.get(take.id, ""),
                    take.created_at,
                    take.provenance.engine,
                    take.request.use.value,
                    take.duration_s,
                    take.sample_rate,
                    titles,
                    True,
                )
            )
        return out[:limit]

    def rename(self, take_id: str, name: str) -> str:
        name = " ".join(name.split())
        if len(name) > 120:
            raise InvalidInput(f"take name: {len(name)} characters, at most 120")
        self.names[take_id] = name
        return name

    def delete(self, take_id: str) -> str:
        self._studio._refuse_if_damaged()
        self._studio.made.pop(take_id)
        self.deleted.append(take_id)
        return f"evt-deleted-{take_id}"

    def matched_gains(self, take_ids: list[str]) -> dict[str, float]:
        levels = {t: float(np.sqrt(np.mean(self._studio.audio[t] ** 2))) for t in take_ids}
        quietest = min(levels.values())
        return {t: quietest / v for t, v in levels.items()}

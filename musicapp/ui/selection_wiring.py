"""Connects mediated selection (``studio.selection``) to the window: the Prompt and Similar tabs,
the alternatives under a refused consent check (Swap), and proposed references under the
References list (Accept / Dismiss).

Every call to the selection room runs off the GUI thread (`LatestCall`: a newer question
supersedes an older one). The window keeps only its composition; the decisions about when to
ask live here:
- Similar follows the selected reference; with none selected it shows the session's
  recommendations. It asks again only when what it would ask changes.
- Alternatives are asked whenever the consent check shows a refusal; Swap replaces the refused
  song in its row (level, role and weight kept) and the window's check runs again on the edit,
  so the loop repeats until the request is allowed.
- Proposals are asked after the user edits the references or the take settings (debounced), at
  most once per distinct request; showing them, accepting or dismissing one never asks by
  itself, so proposing cannot loop.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from musicapp.core import InvalidInput, Level, Use
from musicapp.ui.latest_call import LatestCall
from musicapp.ui.prompt_widget import PromptWidget
from musicapp.ui.proposals_widget import ProposalsWidget, proposal_key
from musicapp.ui.select_pane import SelectPane
from musicapp.ui.similar_widget import SimilarWidget

if TYPE_CHECKING:
    from musicapp.core import Song, Verification
    from musicapp.selection.types import Alternatives, Proposal
    from musicapp.ui.main_window import MainWindow
    from musicapp.ui.services import SelectionPort

FOLLOW_MS = 250  # the Similar pane waits this long after the last change before asking
PROPOSE_MS = 600  # proposals wait for a pause in the edits
ALTERNATIVES_K = 5


class SelectionWiring(QObject):
    """Builds the selection panes (`pane` for the left of the window, `proposals` for under the
    References list) and connects them to the references and the consent check."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        studio, runner, browser = window.studio, window.runner, window.browser
        references, settings = window.references, window.settings_panel
        verification, add, status = window.verification, window.add_reference, window.show_status

        # Read when a call runs (off the GUI thread): a studio without the room fails the call,
        # and the pane says so, instead of failing the window.
        def selection() -> SelectionPort:
            return studio.selection

        self._selection = selection
        self._runner = runner
        self._references, self._settings, self._verification = references, settings, verification
        self._request, self._status = window.current_request, status
        self.prompt = PromptWidget(selection, runner, browser.preview, self.filters)
        self.similar = SimilarWidget(selection, runner, browser.preview)
        self.pane = SelectPane(browser, self.prompt, self.similar)
        self.proposals = ProposalsWidget()
        self._alternatives = LatestCall(runner, self)
        self._proposing = LatestCall(runner, self)
        self._followed: Hashable = None  # what the Similar pane last asked
        self._alternatives_for: Hashable = None  # the refusal the alternatives answer
        self._proposed_for: Hashable = None  # the request proposals were last asked for
        self._dismissed: set[tuple[str, str]] = set()

        self._follow_timer = _timer(self, FOLLOW_MS, self.follow)
        self._propose_timer = _timer(self, PROPOSE_MS, self.propose)
        for widget in (self.prompt, self.similar):
            widget.add_requested.connect(add)
            widget.status.connect(status)
        references.selected.connect(lambda _row: self._follow_timer.start())
        references.changed.connect(self._follow_timer.start)
        references.changed.connect(self._on_edit)
        settings.changed.connect(self._follow_timer.start)
        settings.changed.connect(self._on_edit)
        verification.shown.connect(self.show_alternatives)
        verification.alternatives.swap_requested.connect(self.swap)
        self.proposals.accepted.connect(self.accept)
        self.proposals.dismissed.connect(self.dismiss)
        self.pane.tabs.currentChanged.connect(self._on_tab)

        if not studio.library.is_empty():
            self.catalogue_changed()  # songs imported by the CLI since the last start

    def catalogue_changed(self) -> None:
        """Embed new songs for prompts in the background (after the demo build, an import)."""
        handle = self._runner.submit(self._selection().catch_up_job())
        # Say what a first prompt is waiting for (the same lane runs it after this job).
        handle.progress.connect(lambda p: self._status(f"Indexing for prompts: {p.message}"))
        handle.finished.connect(self._on_caught_up)
        handle.failed.connect(
            lambda exc: self._status(f"The catalogue could not be indexed for prompts: {exc}")
        )
        handle.done.connect(self.prompt.load_facets)

    def _on_caught_up(self, count: object) -> None:
        if isinstance(count, int) and count > 0:
            self._status(f"{count} songs indexed for prompts and similar songs")

    # -- the consent filter the panes ask with ----------------------------------------------

    def filters(self) -> tuple[Use | None, Level | None]:
        """The take settings' use, and the references' level (when they share one; song level
        otherwise, the level a song added from a list starts at)."""
        levels = self._references.levels()
        level = next(iter(levels)) if len(levels) == 1 else Level.SONG
        return self._settings.use(), level

    def _on_tab(self, index: int) -> None:
        if index == SelectPane.PROMPT and not self.prompt.chips.chips:
            self.prompt.load_facets()  # none yet (the catalogue was still being built)
        elif index == SelectPane.SIMILAR:
            if self.similar.results.ranking is None:
                self._followed = None  # the last attempt failed or never ran: ask again
            self.follow()

    # -- Similar: the selected reference, or the session ---------------------------------------

    def follow(self) -> None:
        """Ask for what the Similar tab should show, when it shows (a hidden tab asks when it
        is opened)."""
        self._follow_timer.stop()
        if self.pane.tabs.currentIndex() != SelectPane.SIMILAR:
            return
        refs, row = self._references, self._references.selected_row()
        use, level = self.filters()
        if row >= 0:
            song, level, chosen = refs.song_at(row), refs.level_at(row), tuple(refs.songs())
            key: Hashable = ("similar", song.id, use, level, chosen)
            if key != self._followed:
                self.similar.show_similar(song, use, level, chosen)
        else:
            session = tuple(refs.songs())
            key = ("session", session, use, level)
            if key != self._followed:
                self.similar.show_session(session, use, level)
        self._followed = key

    # -- alternatives to refused references ------------------------------------------------------

    def show_alternatives(self, verification: Verification | None) -> None:
        """Called with every consent check shown: alternatives for its refusals (if any)."""
        panel = self._verification.alternatives
        if verification is None or verification.allowed:
            self._alternatives.forget()
            self._alternatives_for = None
            panel.clear()
            return
        key = (verification.use, tuple(d.reference for d in verification.refused))
        if key == self._alternatives_for:
            return  # the same refusal (a weight moved elsewhere): what is shown still holds
        self._alternatives_for = key
        panel.show_message("Looking for permitted songs near the refused reference…")
        selection = self._selection

        def failed(exc: BaseException) -> None:
            self._alternatives_for = None
            panel.show_message(f"Alternatives are unavailable: {exc}")

        self._alternatives.run(
            "Alternatives",
            lambda: selection().alternatives(verification, k=ALTERNATIVES_K),
            self._on_alternatives,
            failed,
        )

    def _on_alternatives(self, found: list[Alternatives]) -> None:
        names = {sid: song.title for sid, song in self._references.songs().items()}
        self._verification.alternatives.show_alternatives(found, names)
        self._verification.reveal_alternatives()

    def swap(self, alternatives: Alternatives, song: Song) -> None:
        """Replace the refused reference's song by `song` in its row (level, role, weight and
        range kept: `Alternatives.swapped`); the check runs again on the edit."""
        refs, refused = self._references, alternatives.refused
        if not refs.editable:
            self._status("Wait for the take (or cancel it) before changing the references")
            return
        wanted = alternatives.swapped(song.id)
        for row in range(refs.count()):
            if refs.song_at(row).id == refused.song_id and refs.level_at(row) is wanted.level:
                old = refs.song_at(row).title
                refs.replace_song(row, song)
                self._status(f"Swapped “{old}” for “{song.title}”: checking consent again")
                return
        self._status("That reference is no longer in the list")

    # -- proposed references ---------------------------------------------------------------------

    def _proposal_key(self) -> Hashable:
        """What proposals depend on: the references' songs, levels and roles, the use and the
        engine (not the weights: moving one does not open or fill a parameter). None when
        there is no complete request to fill in."""
        if not self._references.count() or not self._references.editable:
            return None
        try:
            request = self._request()
        except InvalidInput:  # incomplete: nothing to fill in yet
            return None
        refs = tuple((r.song_id, r.level, r.role) for r in request.references)
        return refs, request.use, request.engine

    def _on_edit(self) -> None:
        """Proposals made for another request go at once (they would fill the wrong gap); new
        ones are asked after a pause in the edits."""
        if self._proposal_key() != self._proposed_for:
            self._proposing.forget()
            self.proposals.show_proposals([])
        self._propose_timer.start()

    def propose(self) -> None:
        """Ask for proposals for the request shown, once per distinct request."""
        self._propose_timer.stop()
        key = self._proposal_key()
        if key == self._proposed_for:
            return
        self._proposed_for = key
        if key is None:
            self._proposing.forget()
            self.proposals.show_proposals([])
            return
        request = self._request()
        selection = self._selection

        def failed(exc: BaseException) -> None:
            self.proposals.show_proposals([])
            self._status(f"Proposals are unavailable: {exc}")

        self._proposing.run(
            "Proposals", lambda: selection().propose(request), self._on_proposals, failed
        )

    def _on_proposals(self, proposals: list[Proposal]) -> None:
        chosen = self._references.songs()
        self.proposals.show_proposals(
            [
                p
                for p in proposals
                if proposal_key(p) not in self._dismissed and p.song.id not in chosen
            ]
        )

    def accept(self, proposal: Proposal) -> None:
        """The proposal becomes a normal reference (verified like any other)."""
        if not self._references.editable:
            self._status("Wait for the take (or cancel it) before changing the references")
            return
        self._remove_proposal(proposal)
        self._references.add_reference(proposal.song, proposal.reference)
        self._status(f"Accepted the proposed reference “{proposal.song.title}”")

    def dismiss(self, proposal: Proposal) -> None:
        self._dismissed.add(proposal_key(proposal))
        self._remove_proposal(proposal)

    def _remove_proposal(self, proposal: Proposal) -> None:
        self.proposals.show_proposals([p for p in self.proposals.proposals if p is not proposal])


def _timer(parent: QObject, ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer

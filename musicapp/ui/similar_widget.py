"""The Similar tab: "more like this" for the reference selected in the References list, or,
when none is selected, recommendations from the session (labelled as such)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from musicapp.ui.candidates_widget import CandidatesWidget
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.latest_call import LatestCall
from musicapp.ui.preview_player import PreviewPlayer
from musicapp.ui.prompt_widget import PAGE_SIZE

if TYPE_CHECKING:
    from musicapp.core import Level, Song, Use
    from musicapp.selection.types import Ranking
    from musicapp.ui.services import SelectionPort

SESSION_TITLE = "Recommended for this session"
SESSION_HINT = "From your references, past picks and likes. Select a reference to see its "
SESSION_HINT += "nearest songs instead."


class SimilarWidget(QWidget):
    """Asks `similar(song)` or `recommend(session)` off the GUI thread; Like marks the song the
    list is similar to (likes steer recommendations); `add_requested(song_id)` adds one."""

    add_requested = Signal(str)
    status = Signal(str)

    def __init__(
        self,
        selection: Callable[[], SelectionPort],
        runner: JobRunner,
        preview: PreviewPlayer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._selection = selection
        self._asking = LatestCall(runner, self)
        self._liking = LatestCall(runner, self)
        self._query: Callable[[Sequence[str]], Ranking] | None = None
        self._append = False
        self.song: Song | None = None  # the song the list is like; None: the session's list

        self.title = QLabel(SESSION_TITLE)
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.like_button = QPushButton("♡ Like")
        self.like_button.setObjectName("likeButton")
        self.like_button.setCheckable(True)
        self.like_button.setToolTip("Liked songs steer your recommendations")
        self.like_button.setVisible(False)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.like_button)
        self.hint = QLabel(SESSION_HINT)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.results = CandidatesWidget(
            preview,
            "Nothing to recommend yet.",
            more=True,
            none_text="Nothing to suggest yet: add a reference, like a song or make a take.",
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.hint)
        layout.addWidget(self.results, 1)

        self.results.add_requested.connect(self.add_requested)
        self.results.more_requested.connect(self.more)
        self.like_button.toggled.connect(self._on_like)

    def show_similar(
        self, song: Song, use: Use | None, level: Level | None, chosen: Sequence[str] = ()
    ) -> None:
        """The songs nearest to `song` (the selected reference), usable at `level` for `use`,
        leaving out the songs already `chosen` as references."""
        self.song = song
        self.title.setText(f"Similar to “{song.title}”")
        self.hint.setText(f"{song.artist} · nearest in sound; the reference itself is left out.")
        self.like_button.setVisible(True)
        self._set_liked_quietly(False)
        selection, song_id, known = self._selection, song.id, [song.id, *chosen]

        def like(exclude: Sequence[str]) -> Ranking:
            return selection().similar(
                song_id, use=use, level=level, k=PAGE_SIZE, exclude=[*known, *exclude]
            )

        self._start(like, "Similar songs")
        self._liking.run(
            "Likes", lambda: song_id in selection().likes(), self._set_liked_quietly, _ignore
        )

    def show_session(self, session: Sequence[str], use: Use | None, level: Level | None) -> None:
        """Recommendations from the references chosen so far (`session`)."""
        self.song = None
        self.title.setText(SESSION_TITLE)
        self.hint.setText(SESSION_HINT)
        self.like_button.setVisible(False)
        selection, chosen = self._selection, list(session)

        def recommend(exclude: Sequence[str]) -> Ranking:
            return selection().recommend(
                chosen, use=use, level=level, k=PAGE_SIZE, exclude=[*chosen, *exclude]
            )

        self._start(recommend, "Recommendations")

    def more(self) -> None:
        if self._query is not None and self.results.ranking is not None:
            self._run(self._query, self.results.song_ids(), append=True)

    def _start(self, query: Callable[[Sequence[str]], Ranking], what: str) -> None:
        self._query = query
        self.results.show_message(f"{what}: looking…")
        self._run(query, [], append=False)

    def _run(
        self, query: Callable[[Sequence[str]], Ranking], exclude: list[str], append: bool
    ) -> None:
        self._append = append
        self._asking.run("Similar", lambda: query(exclude), self._on_ranking, self._on_failed)

    def _on_ranking(self, ranking: Ranking) -> None:
        new = self.results.show_ranking(ranking, append=self._append)
        if self._append and not new:
            self.status.emit("No more songs to suggest here")

    def _on_failed(self, exc: BaseException) -> None:
        message = f"Suggestions are unavailable: {exc}"
        if not self._append:
            self.results.show_message(message)
        self.status.emit(message)

    def _set_liked_quietly(self, liked: object) -> None:
        self.like_button.blockSignals(True)
        self.like_button.setChecked(bool(liked))
        self.like_button.setText("♥ Liked" if liked else "♡ Like")
        self.like_button.blockSignals(False)

    def _on_like(self, liked: bool) -> None:
        if self.song is None:
            return
        selection, song_id, title = self._selection, self.song.id, self.song.title
        self.like_button.setText("♥ Liked" if liked else "♡ Like")

        def failed(exc: BaseException) -> None:
            self._set_liked_quietly(not liked)
            self.status.emit(f"Could not remember the like: {exc}")

        self._liking.run(
            "Like",
            lambda: selection().like(song_id, liked),
            lambda _r: self.status.emit(f"{'Liked' if liked else 'Unliked'} “{title}”"),
            failed,
        )


def _ignore(_exc: BaseException) -> None:
    """Whether a song is liked is a nicety: the toggle just starts off."""

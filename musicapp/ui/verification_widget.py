"""Shows the live consent check of the current request: Cleared, or Refused with reasons."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import Decision, Song, Verification
from musicapp.studio_types import ConsentSource
from musicapp.ui import theme
from musicapp.ui.alternatives_widget import AlternativesWidget


def _name(song_id: str, songs: Mapping[str, Song]) -> str:
    song = songs.get(song_id)
    return song.title if song else song_id


def _how(decision: Decision) -> str:
    ref = decision.reference
    how = f"{ref.level.value} level"
    if ref.role is not None:
        how += f", {ref.role.value}"
    return how


def decision_html(
    decision: Decision, songs: Mapping[str, Song], source: ConsentSource | None = None
) -> str:
    """One reference's verdict as a small block of rich text, and where its consent came from
    (in the warning colour when a rights server is bound but has no record for the song)."""
    colour = theme.colour("ok") if decision.allowed else theme.colour("bad")
    mark = "✓" if decision.allowed else "✗"
    title = html.escape(_name(decision.reference.song_id, songs))
    out = [
        f"<p style='margin:6px 0 2px 0'><span style='color:{colour};font-weight:600'>{mark}"
        f"</span>&nbsp;<b>{title}</b> <span style='color:{theme.colour('muted')}'>"
        f"({html.escape(_how(decision))})</span></p>"
    ]
    reason_colour = theme.colour("muted") if decision.allowed else theme.colour("bad")
    for reason in decision.reasons:
        out.append(f"<p style='margin:0 0 0 18px;color:{reason_colour}'>{html.escape(reason)}</p>")
    if source is not None:
        tone = theme.colour("warn_text" if source.unknown_to_server else "muted")
        out.append(
            f"<p style='margin:0 0 0 18px;color:{tone};font-style:italic'>"
            f"{html.escape(source.words())}</p>"
        )
    if not decision.allowed:
        if decision.alternatives:
            alts = "; ".join(html.escape(a) for a in decision.alternatives)
            out.append(f"<p style='margin:2px 0 0 18px'>Allowed instead: {alts}.</p>")
        else:
            out.append(
                "<p style='margin:2px 0 0 18px'>No level or use of this song is allowed: "
                "remove it from the references.</p>"
            )
    return "".join(out)


def refusal_text(v: Verification, songs: Mapping[str, Song]) -> str:
    """Why a request is refused, in plain text naming the songs (for a tooltip)."""
    lines = [f"Refused for {v.use.label}:"]
    for d in v.refused:
        found = " (found in your audio)" if not d.reference.picked else ""
        lines.extend(f"• {_name(d.reference.song_id, songs)}{found}: {r}" for r in d.reasons)
    return "\n".join(lines)


def _details_label() -> QLabel:
    label = QLabel()
    label.setObjectName("verdictDetails")
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class VerificationWidget(QFrame):
    """The verdict badge, a one-line summary and every reference's decision; under them, the
    permitted alternatives to refused references (filled by the selection wiring, which
    listens to `shown`: the verification shown, or None when there is none)."""

    shown = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verificationPanel")
        self.badge = QLabel()
        self.badge.setObjectName("verdictBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary = QLabel()
        self.summary.setObjectName("verdictSummary")
        self.summary.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.summary, 1)

        # Refused decisions, then the alternatives to them, then the allowed ones.
        self.details, self.details_allowed = _details_label(), _details_label()
        self.alternatives = AlternativesWidget()
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self.details)
        # One-click fixes for a request that cannot be made as it stands (show_problem).
        self.fixes = QWidget()
        self.fixes_layout = QHBoxLayout(self.fixes)
        self.fixes_layout.setContentsMargins(0, 4, 0, 4)
        self.fixes.hide()
        content_layout.addWidget(self.fixes)
        content_layout.addWidget(self.alternatives)
        content_layout.addWidget(self.details_allowed)
        content_layout.addStretch(1)
        self.scroll_area = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a Tab stop of its own (it held nothing to act on); its fix buttons are.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(head)
        layout.addWidget(scroll, 1)
        self.show_empty()

    def reveal_alternatives(self) -> None:
        """Scroll the alternatives that just arrived into view, unless the user has scrolled
        the panel already (then they are reading something else)."""
        if self.scroll_area.verticalScrollBar().value() == 0:
            QTimer.singleShot(0, self._scroll_to_alternatives)

    def _scroll_to_alternatives(self) -> None:
        top, bottom = self.alternatives.y(), self.alternatives.y() + self.alternatives.height()
        self.scroll_area.ensureVisible(0, bottom, 0, 0)
        self.scroll_area.ensureVisible(0, top, 0, 0)  # the title first, if not all of it fits

    def verdict(self) -> str:
        """ "Cleared", "Refused", "NotReady" (the request is incomplete), or "" when empty."""
        return str(self.badge.property("verdict") or "")

    def details_text(self) -> str:
        """The decisions as plain text (what the user reads, without the markup)."""
        text = [self.summary.text()]
        for label in (self.details, self.details_allowed):
            doc = QTextDocument()
            doc.setHtml(label.text())
            text.append(doc.toPlainText())
        return "\n".join(text)

    def show_empty(self, message: str = "Add reference songs to check their consent.") -> None:
        self._show_fixes(())
        self._set_badge("", "No references")
        self.summary.setText(message)
        self.details.setText("")
        self.details_allowed.setText("")
        self.shown.emit(None)

    def show_problem(
        self, message: str, fixes: Sequence[tuple[str, Callable[[], None]]] = ()
    ) -> None:
        """The request is not complete or not valid (no audio file for an audio-level
        reference, a bad length): say what to do instead of a verdict, with a button for each
        of ``fixes`` (label, what it does) that makes the request valid in one click."""
        self._set_badge("NotReady", "Not ready")
        self._show_fixes(fixes)
        self.summary.setText(message)
        self.details.setText("")
        self.details_allowed.setText("")
        self.shown.emit(None)

    def _show_fixes(self, fixes: Sequence[tuple[str, Callable[[], None]]]) -> None:
        while (item := self.fixes_layout.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        for label, fix in fixes:
            button = QPushButton(label)
            button.setObjectName("fixButton")
            button.clicked.connect(lambda _c=False, fix=fix: fix())
            self.fixes_layout.addWidget(button)
        self.fixes_layout.addStretch(1)
        self.fixes.setVisible(bool(fixes))

    def fix_labels(self) -> list[str]:
        items = (self.fixes_layout.itemAt(i) for i in range(self.fixes_layout.count()))
        return [
            w.text()
            for item in items
            if item is not None and isinstance(w := item.widget(), QPushButton)
        ]

    def show_verification(
        self,
        v: Verification,
        songs: Mapping[str, Song],
        sources: Mapping[str, ConsentSource] | None = None,
    ) -> None:
        self._show_fixes(())
        n = len(v.decisions)
        if v.allowed:
            self._set_badge("Cleared", "Cleared")
            every = "The reference is" if n == 1 else f"All {n} references are"
            self.summary.setText(f"{every} cleared for {v.use.label}.")
        else:
            self._set_badge("Refused", "Refused")
            k = len(v.refused)
            self.summary.setText(
                f"{k} of {n} reference{'s' if n != 1 else ''} "
                f"{'is' if k == 1 else 'are'} not cleared for {v.use.label}."
            )
        # Refused ones first: they are what the user has to act on.
        where = sources or {}

        def block(d: Decision) -> str:
            return decision_html(d, songs, where.get(d.reference.song_id))

        self.details.setText("".join(block(d) for d in v.refused))
        allowed = [d for d in v.decisions if d.allowed]
        self.details_allowed.setText("".join(block(d) for d in allowed))
        self.details.setVisible(bool(v.refused))
        self.details_allowed.setVisible(bool(allowed))
        self.shown.emit(v)

    def _set_badge(self, verdict: str, text: str) -> None:
        self.badge.setText(text)
        self.badge.setProperty("verdict", verdict)
        # Re-polish so the style sheet's [verdict=...] selectors apply.
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)

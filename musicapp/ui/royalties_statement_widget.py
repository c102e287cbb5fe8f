"""The Royalties view's "Statement" tab: a period's statement from this device's own ledger under
a chosen mechanism, pool and minimum payout, computed off the GUI thread.

The local ledger knows splits but no prices (prices are the rights server's), so the pool given
here is shared out with pricing "flat"; the tab says so. The statement states its mechanism and
parameters and the digest of its inputs: anyone holding the same events recomputes it to the cent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import FunctionJob
from musicapp.royalties.period import Policy
from musicapp.ui import theme
from musicapp.ui.job_control import JobControl
from musicapp.ui.royalties_policy_widget import (
    MechanismPicker,
    cell,
    euro_text,
    mechanism_text,
    read_only_table,
)

if TYPE_CHECKING:
    from musicapp.core import Song
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import RoyaltiesPort

log = logging.getLogger(__name__)

COLUMNS = ("Rights holder", "Earned", "Carried in", "Paid", "Carried out")
EUR_MAX = 1_000_000_000.0
DEFAULT_POOL_EUR = 100.0
DIGEST_CHARS = 12
EURO_BOX_WIDTH = 200
NOTE = (
    "This device's ledger records its takes but not prices (each holder's prices are kept by "
    "the rights server), so the pool above is shared out with flat pricing: every take counts "
    "the same per share. Below the minimum, a holder's earnings carry over to the next period."
)


def _euro_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, EUR_MAX)
    box.setDecimals(2)
    box.setSuffix(" EUR")
    box.setGroupSeparatorShown(True)
    box.setValue(value)
    box.setMinimumWidth(EURO_BOX_WIDTH)
    box.setMaximumWidth(EURO_BOX_WIDTH)
    return box


def current_month(today: date) -> tuple[date, date]:
    """The first and last day of `today`'s month."""
    first = today.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return first, next_first - timedelta(days=1)


def _day(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


def stated_text(statement: Mapping[str, Any]) -> str:
    """The statement's pool, mechanism and parameters as it states them, and its digest."""
    p = statement.get("policy", {})
    k = p.get("k")
    parts = [
        f"Pool {euro_text(int(statement.get('pool_cents', 0)))} EUR",
        f"{mechanism_text(str(p.get('mechanism', '')), k)}"
        + (f" (mechanism {p.get('mechanism')}, k = {k})" if k is not None else ""),
        f"pricing {p.get('pricing', '')}",
        f"minimum {euro_text(int(p.get('minimum_cents', 0)))} EUR",
    ]
    undistributed = int(statement.get("undistributed_cents", 0))
    if undistributed:
        parts.append(f"undistributed {euro_text(undistributed)} EUR")
    digest = str(statement.get("inputs_sha256", ""))
    parts.append(f"inputs sha256 {digest[:DIGEST_CHARS]}…")
    return " · ".join(parts)


class StatementWidget(QWidget):
    """The statement tab; `compute` runs the room's statement as a job and shows it."""

    computed = Signal(object)  # the statement (a dict), once shown

    def __init__(
        self,
        room: Callable[[], RoyaltiesPort],
        runner: JobRunner,
        song: Callable[[str], Song | None],
        today: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._room, self._song = room, song
        self.statement: dict[str, Any] | None = None
        first, last = current_month(today or datetime.now(UTC).date())
        self.from_date = QDateEdit(QDate(first.year, first.month, first.day))
        self.to_date = QDateEdit(QDate(last.year, last.month, last.day))
        for edit in (self.from_date, self.to_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.to_date.setToolTip("The last day of the period, included (days are UTC)")
        self.picker = MechanismPicker(labelled=False)
        self.pool = _euro_box(DEFAULT_POOL_EUR)
        self.pool.setToolTip("The revenue to share out over the period's takes")
        self.minimum = _euro_box(0.0)
        self.minimum.setToolTip("Holders owed less than this are carried over, not paid")
        self.compute_button = QPushButton("Compute")
        self.compute_button.setDefault(True)
        self.compute_button.clicked.connect(self.compute)

        form = QFormLayout()
        dates = QHBoxLayout()
        dates.addWidget(self.from_date)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.to_date)
        dates.addStretch(1)
        form.addRow("Period", dates)
        form.addRow("Mechanism", self.picker)
        form.addRow("Pool", self.pool)
        form.addRow("Minimum payout", self.minimum)
        note = QLabel(NOTE)
        note.setObjectName("hint")
        note.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addStretch(1)
        run_row.addWidget(self.compute_button)
        self.error_label = QLabel()
        self.error_label.setObjectName("royaltiesError")
        self.error_label.setStyleSheet(f"color:{theme.colour('bad')}")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.stated = QLabel("Choose a period and press Compute.")
        self.stated.setWordWrap(True)
        self.stated.setObjectName("royaltiesStated")
        self.table = read_only_table(COLUMNS, "royaltiesStatementTable", amounts=(1, 2, 3, 4))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addLayout(run_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.stated)
        layout.addWidget(self.table, 1)
        self._job = JobControl(runner, self, self._on_result, self._on_failed, on_end=self._on_end)

    @property
    def busy(self) -> bool:
        return self._job.busy

    def policy(self) -> Policy:
        """The policy the inputs describe (raises ValueError when it is not one)."""
        return Policy(
            mechanism=self.picker.mechanism(),
            k=self.picker.k(),
            pricing="flat",
            pool_cents=round(self.pool.value() * 100),
            minimum_cents=round(self.minimum.value() * 100),
        )

    def period(self) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in UTC."""
        start = datetime.combine(_day(self.from_date), datetime.min.time(), UTC)
        end = datetime.combine(_day(self.to_date) + timedelta(days=1), datetime.min.time(), UTC)
        return start, end

    def compute(self) -> None:
        if self._job.busy:
            return
        self.error_label.hide()
        start, end = self.period()
        if end <= start:
            self._show_error("The period ends before it starts: choose a later end date.")
            return
        try:
            policy = self.policy()
        except ValueError as exc:
            self._show_error(f"This policy cannot be computed: {exc}")
            return
        room = self._room

        def run(_progress: Any, _cancel: Any) -> dict[str, Any]:
            return room().statement(start, end, policy)

        self.compute_button.setEnabled(False)
        self.stated.setText("Computing the statement…")
        self._job.start(FunctionJob("Royalty statement", run, lane="io"))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _on_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, ValueError):
            log.error("royalty statement failed", exc_info=exc)
        self.stated.setText("No statement.")
        self.table.setRowCount(0)
        prefix = "This policy cannot be computed" if isinstance(exc, ValueError) else "Failed"
        self._show_error(f"{prefix}: {exc}")

    def _on_end(self) -> None:
        self.compute_button.setEnabled(True)

    def _on_result(self, statement: dict[str, Any]) -> None:
        self.statement = statement
        payouts = [p for p in statement.get("payouts", []) if _any_money(p)]
        names = self._names(statement)
        text = stated_text(statement)
        if not payouts:
            text += "\nNo takes logged on this device in this period pay anyone."
        self.stated.setText(text)
        self.stated.setToolTip(f"inputs sha256 {statement.get('inputs_sha256', '')}")
        self.table.setRowCount(len(payouts))
        keys = ("earned_cents", "carried_in_cents", "paid_cents", "carried_out_cents")
        for row, p in enumerate(payouts):
            holder = str(p["holder_id"])
            self.table.setItem(row, 0, cell(names.get(holder, holder), tip=holder))
            for col, key in enumerate(keys, start=1):
                self.table.setItem(row, col, cell(euro_text(int(p[key])), align_right=True))
        self.computed.emit(statement)

    def _names(self, statement: Mapping[str, Any]) -> dict[str, str]:
        """Holder names from the songs the statement's lines cite (the statement has ids)."""
        names: dict[str, str] = {}
        for sid in sorted({str(ln.get("song_id", "")) for ln in statement.get("lines", [])}):
            try:
                song = self._song(sid)
            except Exception:  # a name is a courtesy: the id still says who
                song = None
            for split in song.splits if song is not None else ():
                names.setdefault(split.holder.id, split.holder.name)
        return names


def _any_money(payout: Mapping[str, Any]) -> bool:
    keys = ("earned_cents", "carried_in_cents", "paid_cents", "carried_out_cents")
    return any(int(payout.get(k, 0)) for k in keys)

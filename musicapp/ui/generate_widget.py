"""How a take is to be made (use, length, seed, engine, device, prompt) and the Generate bar."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import TEXT_ENGINES, GenerationRequest, Reference, TimeRange, Use
from musicapp.core.model import MAX_DURATION_S, MIN_DURATION_S
from musicapp.jobs import Progress
from musicapp.ui import icons

if TYPE_CHECKING:
    from musicapp.ui.services import GenerationPort

log = logging.getLogger(__name__)

USE_BUTTONS = (
    (Use.PRIVATE, "Private", "Only for you: nothing leaves this machine"),
    (Use.NON_COMMERCIAL, "Non-commercial", "Shared or published without earning money"),
    (Use.COMMERCIAL, "Commercial", "Sold, streamed for money, or used in paid work"),
)
DEFAULT_DURATION_S = 15.0
MAX_SEED = 2**31 - 1
# (request.options["device"], label); "auto" lets the engine pick CUDA → MPS → CPU.
DEVICES = (("auto", "Auto"), ("cpu", "CPU"), ("cuda", "CUDA"), ("mps", "MPS"))
PROMPT_PLACEHOLDER = "optional words for engines that take text, e.g. 'gentle, for a wedding'"


# Engines with a window of their own, not offered for a take from references: tone matching
# reshapes the user's own stem (Tools → Tone match…, audio_panel.py).
TOOL_ENGINES = frozenset({"tonematch"})


def engine_choices(studio: GenerationPort) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The engines to offer (name, label) and those that cannot run here (name → why). A broken
    engine registry must not stop the window opening: it falls back to the concat engine."""
    try:
        engines = studio.engines() or [("concat", "concat")]
    except Exception as exc:
        log.warning("could not list engines: %s", exc)
        engines = [("concat", "concat")]
    try:
        unavailable = studio.unavailable_engines()
    except Exception as exc:
        log.warning("could not list unavailable engines: %s", exc)
        unavailable = {}
    engines = [(n, label) for n, label in engines if n not in TOOL_ENGINES] or [
        ("concat", "concat")
    ]
    unavailable = {n: why for n, why in unavailable.items() if n not in TOOL_ENGINES}
    return engines, unavailable


class SettingsWidget(QWidget):
    """Collects the intended use, length, seed, engine, device and prompt of the next take.

    `unavailable` names engines that cannot run here (name → why); they are listed, disabled,
    with the reason as their tooltip, so the user learns what more this machine could do.
    """

    changed = Signal()

    def __init__(
        self,
        engines: Sequence[tuple[str, str]],
        unavailable: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)

        self._use_group = QButtonGroup(self)
        self._use_group.setExclusive(True)
        use_row = QHBoxLayout()
        use_row.setSpacing(0)
        for i, (use, label, tip) in enumerate(USE_BUTTONS):
            b = QPushButton(label)
            b.setCheckable(True)
            b.setToolTip(f"{use.label.capitalize()}: {tip}")
            b.setObjectName("segment")
            b.setProperty("position", ("first", "middle", "last")[min(i, 2)])
            self._use_group.addButton(b, i)
            use_row.addWidget(b)
        self._use_group.button(0).setChecked(True)
        self._use_group.idClicked.connect(lambda _i: self.changed.emit())

        self.duration = QDoubleSpinBox()
        self.duration.setRange(MIN_DURATION_S, MAX_DURATION_S)
        self.duration.setDecimals(0)
        self.duration.setSingleStep(5)
        self.duration.setSuffix(" s")
        self.duration.setValue(DEFAULT_DURATION_S)
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("The same seed and references give the same take")
        dice = QToolButton()
        dice.setIcon(icons.icon("dice"))
        dice.setToolTip("Pick a random seed")
        dice.setAccessibleName("Random seed")
        dice.setAutoRaise(True)
        dice.clicked.connect(lambda: self.seed.setValue(random.randint(0, 99999)))
        self._dice = dice
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(dice)
        self.engine = QComboBox()
        # The longest engine name must not set the window's width: the box shows what fits.
        self.engine.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.engine.setMinimumContentsLength(12)
        self._fill_engines(engines, unavailable or {})
        self.device = QComboBox()
        for value, label in DEVICES:
            self.device.addItem(label, value)
        self.device.setToolTip(
            "Where the engine runs: Auto picks CUDA, then MPS, then the CPU "
            "(the concatenative engine always runs on the CPU)"
        )
        engine_row = QHBoxLayout()
        engine_row.setContentsMargins(0, 0, 0, 0)
        engine_row.addWidget(self.engine, 1)
        engine_row.addWidget(QLabel("Device"))
        engine_row.addWidget(self.device)
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText(PROMPT_PLACEHOLDER)
        self.prompt.setClearButtonEnabled(True)
        self.prompt.setToolTip("Engines that take text (MusicGen) add these words to their prompt")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Intended use", use_row)
        form.addRow("Length", self.duration)
        form.addRow("Seed", seed_row)
        form.addRow("Engine", engine_row)
        form.addRow("Prompt", self.prompt)
        self.duration.valueChanged.connect(lambda *_: self.changed.emit())
        self.seed.valueChanged.connect(lambda *_: self.changed.emit())
        self.engine.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.device.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.prompt.textChanged.connect(lambda *_: self.changed.emit())
        self.engine.currentIndexChanged.connect(self._update_prompt)
        self._editable = True
        self._length_from_audio = False
        self._manual_duration = DEFAULT_DURATION_S
        self.set_editable(True)
        self._update_prompt()

    def _fill_engines(
        self, engines: Sequence[tuple[str, str]], unavailable: Mapping[str, str]
    ) -> None:
        for name, label in engines:
            self.engine.addItem(label, name)
        for name, reason in unavailable.items():
            index = self.engine.findData(name)
            if index < 0:
                self.engine.addItem(name, name)
                index = self.engine.count() - 1
            self.engine.setItemText(index, f"{self.engine.itemText(index)} (unavailable)")
            self.engine.setItemData(index, reason, Qt.ItemDataRole.ToolTipRole)
            item = self._engine_items().item(index)
            item.setEnabled(False)
        items = self._engine_items()
        usable = [i for i in range(self.engine.count()) if items.item(i).isEnabled()]
        self.engine.setCurrentIndex(usable[0] if usable else -1)

    def _engine_items(self) -> QStandardItemModel:
        model = self.engine.model()  # a QComboBox's model is a QStandardItemModel by default
        assert isinstance(model, QStandardItemModel)
        return model

    def _update_prompt(self, *_: object) -> None:
        """The prompt box is open only for engines that read words; for the others it says
        so instead of taking text that would be silently ignored."""
        name = self.engine_name()
        reads = name in TEXT_ENGINES
        self.prompt.setEnabled(reads and self._editable)
        label = self.engine.currentText() or name
        self.prompt.setPlaceholderText(
            PROMPT_PLACEHOLDER if reads else f"the {label} engine takes no words"
        )
        self.prompt.setToolTip(
            "Words the engine adds to its prompt"
            if reads
            else f"The {label} engine makes a take from its references only; choose an engine "
            "that takes text (MusicGen) to describe the take in words"
        )

    def _reads_words(self) -> bool:
        return self.engine_name() in TEXT_ENGINES

    def engine_name(self) -> str:
        return str(self.engine.currentData() or "concat")

    def set_engine(self, name: str) -> None:
        self.engine.setCurrentIndex(self.engine.findData(name))

    def device_choice(self) -> str:
        return str(self.device.currentData() or "auto")

    def set_device(self, value: str) -> None:
        self.device.setCurrentIndex(self.device.findData(value))

    def use(self) -> Use:
        return USE_BUTTONS[max(0, self._use_group.checkedId())][0]

    def set_use(self, use: Use) -> None:
        index = next(i for i, (u, _l, _t) in enumerate(USE_BUTTONS) if u is use)
        self._use_group.button(index).setChecked(True)
        self.changed.emit()

    def request(
        self,
        references: tuple[Reference, ...],
        user_audio: str | None = None,
        user_range: TimeRange | None = None,
    ) -> GenerationRequest:
        """The request for these references with the settings shown (raises InvalidInput)."""
        return GenerationRequest(
            references=references,
            use=self.use(),
            duration_s=float(self.duration.value()),
            seed=int(self.seed.value()),
            engine=self.engine_name(),
            prompt=self.prompt.text().strip() if self._reads_words() else "",
            user_audio=user_audio,
            user_range=user_range,
            options={"device": self.device_choice()},
        )

    def set_length_from_audio(self, from_audio: bool, audio_s: float = 0.0) -> None:
        """Audio and temporal takes are as long as the user's audio (`audio_s`, 0 if none is
        loaded yet): the Length box rests and shows that length; the user's own comes back."""
        if from_audio and not self._length_from_audio:
            self._manual_duration = float(self.duration.value())
        elif not from_audio and self._length_from_audio:
            self._set_duration_quietly(self._manual_duration)
        if from_audio and audio_s > 0:
            self._set_duration_quietly(audio_s)
        self._length_from_audio = from_audio
        self.duration.setToolTip(
            "The take is as long as your audio" if from_audio else "How long the take lasts"
        )
        self.set_editable(self._editable)

    def _set_duration_quietly(self, seconds: float) -> None:
        # Shown, not chosen: no `changed` (which would re-run the check that called this).
        self.duration.blockSignals(True)
        self.duration.setValue(seconds)
        self.duration.blockSignals(False)

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self.duration.setEnabled(editable and not self._length_from_audio)
        for w in (self.seed, self._dice, self.device):
            w.setEnabled(editable)
        self.prompt.setEnabled(editable and self._reads_words())
        for b in self._use_group.buttons():
            b.setEnabled(editable)
        self.engine.setEnabled(editable and self.engine.count() > 1)


class GenerateBar(QWidget):
    """The Generate button, which turns into a progress bar with Cancel while a take is made."""

    generate_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.generate_button = QPushButton(icons.icon("play-light"), "Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.clicked.connect(self.generate_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setObjectName("generateProgress")
        self.stage = QLabel()
        self.stage.setObjectName("hint")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.cancel_clicked)
        run_row = QHBoxLayout()
        run_row.setContentsMargins(0, 0, 0, 0)
        run_row.addWidget(self.generate_button, 1)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(run_row)
        layout.addWidget(self.stage)
        self.set_running(False)

    def set_allowed(self, allowed: bool, why_not: str = "") -> None:
        """Enable Generate, or disable it with the reason as its tooltip."""
        self.generate_button.setEnabled(allowed)
        self.generate_button.setToolTip(
            "Generate a new take from these references" if allowed else why_not
        )

    def set_running(self, running: bool) -> None:
        self.generate_button.setVisible(not running)
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)
            self.stage.setText("Starting…")
        self.stage.setVisible(running)

    def show_progress(self, p: Progress) -> None:
        self.progress.setValue(round(1000 * max(0.0, min(1.0, p.fraction))))
        self.stage.setText(p.message or p.stage or "Working…")

    def show_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.stage.setText("Cancelling…")

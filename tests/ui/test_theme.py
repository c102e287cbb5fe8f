"""Light and dark themes (issue 19): on a dark desktop the app's text stayed the desktop's
light grey over the app's white tables; now a theme sets palette and style sheet together, and
View → Theme switches and keeps the choice."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette

from musicapp.ui import icons, theme
from musicapp.ui.app import apply_style
from musicapp.ui.main_window import MainWindow

# Text on its ground, for every pair the themes paint: WCAG AA for body text is 4.5.
TEXT_PAIRS = [
    ("text", "window"),
    ("text", "surface"),
    ("text_2", "surface"),
    ("section", "window"),
    ("muted", "surface"),
    ("muted", "window"),
    ("ok", "surface"),
    ("bad", "surface"),
    ("warn", "surface"),
    ("accent_text", "accent_soft"),
    ("select_text", "accent_soft_2"),
    ("on_accent", "accent"),
    ("info_text", "info_soft"),
    ("warn_text", "warn_soft"),
    ("bad_text", "bad_soft"),
    ("bad", "bad_soft"),
    ("tooltip_text", "tooltip"),
]


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(widget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(widget.grab().toImage().Format.Format_RGB32)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(h, -1, 4)
    return buf[:, :w, 2::-1].reshape(-1, 3)  # BGRA in memory → RGB


def ground_and_ink(widget) -> tuple[QColor, float]:
    """The widget's commonest colour (its ground) and the best contrast any drawn pixel makes
    with it (its text, where it has any)."""
    px = _rgb(widget)
    colours, counts = np.unique(px, axis=0, return_counts=True)
    ground = QColor(*(int(v) for v in colours[np.argmax(counts)]))
    best = max(contrast(ground, QColor(*(int(v) for v in c))) for c in colours)
    return ground, best


def dark_desktop_palette() -> QPalette:
    """What a dark desktop hands a Qt app: light text on dark grounds."""
    p = QPalette()
    for role, value in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#292a2d"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#303134"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
    ):
        p.setColor(role, QColor(value))
    return p


@pytest.fixture
def app_style(qapp, tmp_path, monkeypatch):
    """The app's style as tests found it, put back afterwards; the theme choice kept in a
    settings file of this test's own."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    monkeypatch.delenv("MUSICAPP_THEME", raising=False)
    palette, sheet, style = qapp.palette(), qapp.styleSheet(), qapp.style().name()
    yield qapp
    qapp.setPalette(palette)
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    theme._current = theme.THEMES[theme.LIGHT]


@pytest.fixture
def window(qtbot, fake_context, app_style):
    def make():
        w = MainWindow(fake_context)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        qtbot.waitExposed(w)
        return w

    return make


@pytest.mark.parametrize("name", [theme.LIGHT, theme.DARK])
def test_every_text_colour_of_both_themes_reads_on_its_ground(name):
    colours = theme.THEMES[name].colours
    for ink, ground in TEXT_PAIRS:
        ratio = contrast(QColor(colours[ink]), QColor(colours[ground]))
        assert ratio >= 4.5, f"{name}: {ink} on {ground} is {ratio:.2f}:1"


def test_on_a_dark_desktop_the_light_theme_keeps_its_text_dark(qtbot, app_style, window):
    app_style.setPalette(dark_desktop_palette())
    apply_style(app_style, theme.LIGHT)
    w = window()
    w.add_reference(next(iter(w.studio.songs)))
    w.browser.search_box.setText("a")
    qtbot.wait(300)
    for widget in (w.references.table, w.browser.search_box, w.menuBar()):
        ground, ink = ground_and_ink(widget)
        assert ground.lightness() > 200, widget.objectName()  # the light theme's ground
        assert ink >= 4.5, f"{type(widget).__name__}: best contrast {ink:.2f}:1"
    table = w.references.table
    text = table.palette().color(QPalette.ColorRole.Text)
    assert contrast(text, QColor(theme.colour("surface"))) >= 4.5


def test_view_theme_dark_turns_the_whole_window_dark_and_is_kept(qtbot, app_style, window):
    apply_style(app_style, theme.LIGHT)
    w = window()
    w.add_reference(next(iter(w.studio.songs)))
    w.refresh_check()
    light_ok = theme.colour("ok")
    assert light_ok in w.verification.details_allowed.text()
    w.theme_actions[theme.DARK].trigger()
    qtbot.wait(200)
    assert theme.is_dark()
    # the consent panel's verdicts are drawn again in the dark theme's colours, not left light
    verdicts = w.verification.details_allowed.text()
    assert theme.colour("ok") in verdicts and light_ok not in verdicts
    assert app_style.palette().color(QPalette.ColorRole.Window).lightness() < 60
    assert theme.colour("window") in app_style.styleSheet()
    for widget in (w.references.table, w.browser.tree, w.menuBar()):
        ground, ink = ground_and_ink(widget)
        assert ground.lightness() < 80, type(widget).__name__
        assert ink >= 4.5, f"{type(widget).__name__}: best contrast {ink:.2f}:1"
    # the waveform plot follows too
    assert w.result.waveform.backgroundBrush().color().name() == theme.colour("surface")
    # kept: the next start (and its menu) opens dark
    assert theme.saved_choice() == theme.DARK
    again = window()
    assert again.theme_actions[theme.DARK].isChecked()
    assert not again.theme_actions[theme.SYSTEM].isChecked()


def test_following_the_system_reads_the_desktops_scheme(app_style):
    app_style.setPalette(dark_desktop_palette())
    assert theme.resolve(theme.SYSTEM, app_style).name == theme.DARK
    app_style.setPalette(theme.palette(theme.THEMES[theme.LIGHT]))
    assert theme.resolve(theme.SYSTEM, app_style).name == theme.LIGHT
    with pytest.raises(ValueError, match="theme"):
        theme.save_choice("sepia")


def test_the_style_sheet_template_fills_every_colour_of_both_themes():
    template = icons.style_sheet()
    for name in (theme.LIGHT, theme.DARK):
        sheet = theme.style_sheet(theme.THEMES[name], template)
        assert "$" not in sheet
        assert theme.THEMES[name]["surface"] in sheet

"""pyqtgraph plots in the current theme: they draw with their own colours, not the palette."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from musicapp.ui import theme


def style_plot(plot: pg.PlotWidget, text: str = "section") -> None:
    """Background, axes, axis labels and title of ``plot`` in the current theme."""
    plot.setBackground(theme.colour("surface"))
    item = plot.getPlotItem()
    for side in ("bottom", "left"):
        axis = item.getAxis(side)
        axis.setTextPen(pg.mkPen(theme.colour(text)))
        axis.setPen(pg.mkPen(theme.colour("border_strong")))
        if axis.labelText:  # after setPen, which colours the label too
            axis.setLabel(axis.labelText, color=theme.colour("muted"))
    title = item.titleLabel.text
    if title:
        item.setTitle(title, color=theme.colour("text"), size="10pt")


def restyle_all(app: QApplication) -> None:
    """Every plot of every window in the theme just applied."""
    for top in app.topLevelWidgets():
        for plot in top.findChildren(pg.PlotWidget):
            retheme = getattr(plot, "retheme", None)
            if callable(retheme):
                retheme()
            else:
                style_plot(plot)

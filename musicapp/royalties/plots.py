"""The simulator's figures as PNG files: Lorenz curves and payout histograms per mechanism.

matplotlib (the ``plots`` extra) draws them off screen; the window draws its own with
pyqtgraph (``ui/royalties_view.py``). Without matplotlib, ``save_plots`` says how to get it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.royalties.inequality import lorenz
from musicapp.royalties.simulate import MechanismFigures, label


def _pyplot() -> Any:
    try:
        # imported by name: the frozen app leaves matplotlib out (packaging/musicapp.spec)
        mpl = importlib.import_module("matplotlib")
        mpl.use("Agg")
        return importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise RuntimeError(
            "plots need matplotlib: pip install 'musicapp[plots]' (the figures in the table do not)"
        ) from None


def save_plots(figures: Sequence[MechanismFigures], folder: Path) -> list[Path]:
    """lorenz.png and payouts.png in ``folder`` (made if missing); their paths."""
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=120)
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="equality")
    for f in figures:
        pop, inc = lorenz(f.payouts_cents)
        ax.plot(pop, inc, label=f"{label(f)} (Gini {f.gini:.3f})")
    ax.set_xlabel("share of rights holders, poorest first")
    ax.set_ylabel("share of the payouts")
    ax.set_title("Lorenz curves per mechanism")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.append(folder / "lorenz.png")
    fig.savefig(out[-1])
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    positive = [f.payouts_cents[f.payouts_cents > 0] / 100.0 for f in figures]
    top = max((float(p.max()) for p in positive if p.size), default=1.0)
    bins = np.logspace(-2, np.log10(max(top, 0.02)) + 0.1, 40)
    for f, p in zip(figures, positive, strict=True):
        ax.hist(p, bins=bins, histtype="step", label=label(f))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("payout per holder (EUR, log bins)")
    ax.set_ylabel("holders")
    ax.set_title("Payouts per holder")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.append(folder / "payouts.png")
    fig.savefig(out[-1])
    plt.close(fig)
    return out

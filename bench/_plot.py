"""PNG plots for the benchmarks, under bench/results/ (git-ignored).

matplotlib is optional (`pip install -e '.[bench]'`): without it a benchmark prints one line
instead of its plot and still prints its tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def plot(name: str, draw: Callable[[Any], None], size: tuple[float, float] = (6, 4)) -> Path | None:
    """Call `draw(ax)` on a fresh figure and save it as bench/results/`name`; returns the
    path, or None (after saying so) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot)")
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=size)
    try:
        draw(ax)
        fig.tight_layout()
        path = RESULTS / name
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    print(f"plot: bench/results/{name}")
    return path


def lines(
    curves: Mapping[str, Sequence[tuple[float, float]]], name: str, x: str, y: str
) -> Path | None:
    """One line with markers per curve of (x, y) points."""

    def draw(ax: Any) -> None:
        for label, points in curves.items():
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.grid(alpha=0.3)
        ax.legend()

    return plot(name, draw)


def ecdf(
    samples: dict[str, Sequence[float]], name: str, x: str, *, log_x: bool = False
) -> Path | None:
    """The empirical distribution of each sample set: the share of values at or below x."""

    def draw(ax: Any) -> None:
        for label, values in samples.items():
            ordered = sorted(values)
            if not ordered:
                continue
            shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
            ax.step(ordered, shares, where="post", label=f"{label} (n={len(ordered)})")
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel("share of runs at or below")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")

    return plot(name, draw, size=(7, 4.5))

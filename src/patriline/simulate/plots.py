"""Plots of a reach analysis (matplotlib, PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

from patriline.errors import InputError
from patriline.simulate.reach import ReachResult
from patriline.simulate.regional import RegionalReach

__all__ = ["plot_reach", "plot_regional"]


def plot_reach(result: ReachResult, path: str | Path) -> list[Path]:
    """Two panels: P(database match) and P(≤ 5 meioses | match) against the database
    share (log axis, in %), one line per kit. Writes ``path`` as PNG and SVG (the other
    suffix beside it) and returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    kits = list(dict.fromkeys(r.kit for r in result.rows))
    k = result.rows[0].max_mismatches if result.rows else 0
    for kit in kits:
        rows = sorted((r for r in result.rows if r.kit == kit), key=lambda r: r.share)
        x = [100 * r.share for r in rows]
        axes[0].plot(x, [100 * r.p_match for r in rows], marker="o", label=kit)
        y = [
            float("nan")
            if r.p_within_5_meioses_given_match is None
            else 100 * r.p_within_5_meioses_given_match
            for r in rows
        ]
        axes[1].plot(x, y, marker="o", label=kit)
    what = "an exact match" if k == 0 else f"a match within {k} mismatches"
    axes[0].set_ylabel(f"men outside the database with {what} (%)")
    axes[1].set_ylabel("closest match within 5 meioses, given a match (%)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("database share of living men (%, log scale)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_ylim(0, 100)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="kit")
    p = result.provenance.get("parameters", {}).get("simulation", {})
    fig.suptitle(
        f"Database reach: {p.get('males', '?')} living men, VRS {p.get('vrs', '?')}, "
        f"seed {result.provenance.get('seed')}"
    )
    written = []
    try:
        for suffix in (".png", ".svg"):
            fig.savefig(base.with_suffix(suffix), dpi=120)
            written.append(base.with_suffix(suffix))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot: {exc}") from None
    finally:
        plt.close(fig)
    return written


def plot_regional(scenarios: list[tuple[str, RegionalReach]], path: str | Path) -> list[Path]:
    """Regions as bars: the share of each region's men findable through a relative
    (closest matching database man within k meioses), one bar per sampling scenario,
    the share with any match as a tick above it; one panel per kit. Country and
    province rows are drawn at the right, hatched. PNG and SVG, like :func:`plot_reach`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if not scenarios:
        raise InputError("nothing to plot: no reach scenario")
    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    first = scenarios[0][1]
    kits = list(dict.fromkeys(r.kit for r in first.rows))
    labels = list(dict.fromkeys((r.level, r.region) for r in first.rows))
    width = 0.8 / len(scenarios)
    fig, axes = plt.subplots(
        len(kits),
        1,
        figsize=(max(6.0, 0.55 * len(labels) * max(1, len(scenarios)) + 2), 3.6 * len(kits)),
        constrained_layout=True,
        squeeze=False,
    )
    x = np.arange(len(labels))
    for ax, kit in zip(axes[:, 0], kits, strict=True):
        for j, (name, res) in enumerate(scenarios):
            cell = {(r.level, r.region): r for r in res.rows if r.kit == kit}
            within = [100 * cell[lab].p_within_k for lab in labels]
            match = [100 * cell[lab].p_match for lab in labels]
            hatch = ["//" if lab[0] != "region" else "" for lab in labels]
            pos = x - 0.4 + width * (j + 0.5)
            bars = ax.bar(pos, within, width, label=name)
            for b, h in zip(bars, hatch, strict=True):
                b.set_hatch(h)
            ax.plot(pos, match, "_", color="black", markersize=10)
        ax.set_xticks(x, [lab[1] if lab[0] == "region" else f"[{lab[1]}]" for lab in labels])
        ax.tick_params(axis="x", rotation=45)
        ax.set_ylabel(f"men findable, ≤ {first.within} meioses (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"{kit} (tick: any exact match)" if kit else "")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(title="sampling", fontsize="small")
    written = []
    try:
        for suffix in (".png", ".svg"):
            fig.savefig(base.with_suffix(suffix), dpi=120)
            written.append(base.with_suffix(suffix))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot: {exc}") from None
    finally:
        plt.close(fig)
    return written
